"""Table-driven accuracy test: every fixture page in fixtures/classify/cases.json gets its expected class and links.

Look-alike hosts are also classified with an EMPTY registry, which proves the
classifier has no hard-coded host for them: markup, PSL and footprint alone
must reach the same class.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from norms.classify import Registry, SourceClass, classify_page, load_registry, sitemap_stats

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "classify"
TABLE: list[dict[str, Any]] = json.loads((ROOT / "cases.json").read_text(encoding="utf-8"))["cases"]
LOOKALIKES = [c for c in TABLE if c["family"] == "lookalike"]


def _run(case: dict[str, Any], registry: Registry) -> Any:
    html = (ROOT / case["page"]).read_bytes()
    sitemap = None
    if case.get("sitemap"):
        sitemap_url = "https://" + case["url"].split("/")[2] + "/sitemap.xml"
        sitemap = sitemap_stats((ROOT / case["sitemap"]).read_bytes(), url=sitemap_url)
    return classify_page(case["url"], html, headers=case.get("headers"), sitemap=sitemap, registry=registry)


def test_table_covers_at_least_25_platforms_and_site_types() -> None:
    kinds = {c["kind"] for c in TABLE}
    assert len(kinds) >= 25
    assert len(LOOKALIKES) >= 10
    assert {c["expected"]["source_class"] for c in TABLE} == {s.value for s in SourceClass}


@pytest.mark.parametrize("case", TABLE, ids=[c["id"] for c in TABLE])
def test_case_with_bundled_registry(case: dict[str, Any]) -> None:
    result = _run(case, load_registry())
    expected = case["expected"]
    got = {
        "source_class": result.source_class.value,
        "host_class": result.host_class.value,
        "page_role": result.page_role,
        "platform": result.platform,
    }
    want = {k: expected[k] for k in got}
    assert got == want, [f"{e.marker}:{e.weight}" for e in result.evidence]
    links = result.links.model_dump()
    for field, value in expected["links"].items():
        assert links[field] == value, field
    # every point in the scores is backed by evidence
    for cls, points in result.scores.items():
        assert points == pytest.approx(sum(e.weight for e in result.evidence if e.source_class.value == cls))


@pytest.mark.parametrize("case", LOOKALIKES, ids=[c["id"] for c in LOOKALIKES])
def test_lookalike_with_empty_registry(case: dict[str, Any]) -> None:
    result = _run(case, Registry.empty())
    expected = case["expected"]
    assert result.source_class.value == expected["source_class"]
    assert result.host_class.value == expected["host_class"]
    assert result.platform == expected["platform"]
    assert not any(e.marker.startswith("registry") for e in result.evidence)


def test_accuracy_is_total() -> None:
    """The headline figure: 100% of the table right, with and without the registry for look-alikes."""
    wrong = [c["id"] for c in TABLE if _run(c, load_registry()).source_class.value != c["expected"]["source_class"]]
    wrong += [
        c["id"] + " (empty registry)"
        for c in LOOKALIKES
        if _run(c, Registry.empty()).source_class.value != c["expected"]["source_class"]
    ]
    assert wrong == []


# -- the shared fixture web (fixtures/web): hosts built for the crawler's end-to-end tests ----------

FIXTURE_WEB_HOSTS = ("wiki.example", "forum.example", "reviews.example", "www.fixture-agency.gov", "airport.example")


def _fixture_web_profile(host: str, registry: Registry) -> Any:
    """Classify a fixture-web host as the crawler does: every stored page into a HostProfile, plus its sitemap."""
    from fixtures.web.catalog import build_sites
    from fixtures.web.model import Request
    from norms.classify import HostProfile
    from norms.robots import parse_robots

    site = build_sites()[host]

    def get(path: str) -> bytes:
        reply = site.respond(Request(method="GET", host=host, path=path))
        assert reply.status == 200, path
        return reply.body

    profile = HostProfile(host, registry=registry)
    for path in site.expected["stored_paths"]:
        profile.add(classify_page(f"http://{host}{path}", get(path), registry=registry))
    robots = parse_robots(get("/robots.txt"), source_url=f"http://{host}/robots.txt")
    for sitemap_url in robots.sitemaps[:1]:
        stats = sitemap_stats(get(sitemap_url.split(host, 1)[1]), url=sitemap_url)
        profile.add_sitemap(stats)
        if stats.kind == "sitemapindex" and stats.children:
            child = stats.children[0]
            profile.add_sitemap(sitemap_stats(get(child.split(host, 1)[1]), url=child))
    return site.expected["source_class"], profile.result()


@pytest.mark.parametrize("host", FIXTURE_WEB_HOSTS)
@pytest.mark.parametrize("registry_name", ["bundled", "empty"])
def test_fixture_web_hosts_get_their_expected_class(host: str, registry_name: str) -> None:
    registry = load_registry() if registry_name == "bundled" else Registry.empty()
    expected, result = _fixture_web_profile(host, registry)
    assert result.host_class.value == expected, [f"{e.marker}:{e.weight}" for e in result.evidence]
