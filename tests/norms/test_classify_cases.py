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
