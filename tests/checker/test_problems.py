"""Every problem kind the checker reports, found on a real (local) site through ``check``."""

from __future__ import annotations

from functools import partial

import anyio
import pytest

from crawler.checker.catalogue import CATALOGUE
from crawler.checker.fetch import Fetched, Fetcher, Limits
from crawler.checker.live import check
from crawler.checker.report import CheckReport
from tests.checker.site import Reply, local_site

TEXT = (("Content-Type", "text/plain"),)
LIMITS = Limits(timeout=3, deadline=10, allow_private=True)

LENIENT_RSL = (
    '<rsl xmlns="https://rslstandard.org/rsl" colour="red"><content url="/"><license>'
    '<permits type="usage">search, ai-input</permits></license></content></rsl>'
)
PAGE = """<html><head><title>t</title>
<script type="application/ld+json">{"isAccessibleForFree": false,}</script>
</head><body><p>text</p>
<meta name="GPTBot" content="noindex">
<meta name="tdm-reservation" content="maybe">
</body></html>"""


def fetch(fetcher: Fetcher, url: str) -> Fetched:
    return anyio.run(partial(fetcher.fetch, url))


def kinds(report: CheckReport) -> dict[str, list[int | None]]:
    out: dict[str, list[int | None]] = {}
    for p in report.problems:
        out.setdefault(p.code, []).append(p.line)
    return out


def test_broken_licences_tdmrep_rules_and_page_markup() -> None:
    with local_site({}) as site:
        site.routes.update({
            "/robots.txt": Reply(200, f"License: {site.base}/private/licence.xml\n"
                                      f"License: {site.base}/lenient.xml\n"
                                      "User-agent: *\nDisallow: /private/\nDissalow /typo\n", TEXT),
            "/lenient.xml": Reply(200, LENIENT_RSL, (("Content-Type", "application/rsl+xml"),)),
            "/.well-known/tdmrep.json": Reply(200, '[{"location": "/", "tdm-reservation": 7}, 3]',
                                              (("Content-Type", "application/json"),)),
            "/page": Reply(200, PAGE, (("Content-Type", "text/html"), ("X-Robots-Tag", "max-snippet:abc"),
                                       ("Content-Usage", "train-ai=maybe"), ("tdm-reservation", "yes"))),
        })
        report = check(site.base + "/page", limits=LIMITS)
        assert not any(path.startswith("/private/") for path, _ in site.seen)  # the checker obeys robots.txt
    found = kinds(report)
    assert found["rsl-disallowed"] == [1]  # the License line in robots.txt
    assert "rsl-unknown-attribute" in found and "rsl-comma-list" in found and "rsl-insecure" in found
    assert "tdmrep-reservation-value" in found and "tdmrep-rule-not-object" in found
    assert found["robots-missing-colon"] == [5] and found["robots-misspelt-directive"] == [5]
    assert found["meta-outside-head"] == [4, 5]
    assert "robots-tag-value" in found
    assert "content-usage-value" in found
    assert len(found["tdm-header-invalid"]) == 2  # the header and the meta
    assert found["paywall-jsonld-invalid"] == [2]  # the line of the broken JSON-LD
    # Content under a licence we could not read is unlicensed for every AI crawler.
    gpt = next(a for a in report.agents if a.agent == "GPTBot")
    assert gpt.usages["ai-input"].allowed is False and gpt.usages["ai-input"].signal == "rsl"


def test_html_robots_invalid_tdmrep_and_failing_page() -> None:
    with local_site({}) as site:
        site.routes.update({
            "/robots.txt": Reply(200, "<!doctype html><html><body>Not here</body></html>"),
            "/.well-known/tdmrep.json": Reply(200, "{not json", (("Content-Type", "application/json"),)),
            "/page": Reply(500, "oops", TEXT),
        })
        report = check(site.base + "/page", limits=LIMITS)
    found = kinds(report)
    assert {"robots-html", "tdmrep-invalid-json", "page-unreachable"} <= set(found)
    assert found["tdmrep-invalid-json"] == [1]
    assert report.problems[0].severity.value == "error"  # errors first


def test_absent_robots_and_oversized_tdmrep() -> None:
    with local_site({}) as site:
        site.routes["/.well-known/tdmrep.json"] = Reply(200, "[" + " " * 1_100_000 + "]", TEXT)
        site.routes["/"] = Reply(200, "<html><head></head><body>ok</body></html>")
        report = check(site.base + "/", limits=LIMITS)
    found = kinds(report)
    assert {"robots-absent", "tdmrep-too-large"} <= set(found)
    tdm = next(d for d in report.documents if d.kind == "tdmrep")
    assert tdm.truncated and tdm.bytes == 1_000_000


def test_unreachable_robots_on_a_closed_port() -> None:
    with local_site({}) as site:
        base = site.base
    report = check(base + "/", limits=LIMITS)  # the server is gone: connection refused
    assert "robots-unreachable" in kinds(report)
    assert report.documents[0].error is not None and report.documents[0].error.startswith("connection")


def test_every_redirect_hop_is_guarded(monkeypatch: pytest.MonkeyPatch) -> None:
    # The local site plays an HTTP proxy for a name that does not resolve here (as the fixture
    # web does): the name is passed on, but its redirect to the metadata address is refused.
    with local_site({}) as site:
        site.routes["http://public.invalid/go"] = Reply(302, "", (("Location", "http://169.254.169.254/latest/"),))
        monkeypatch.setenv("http_proxy", site.base)
        monkeypatch.setenv("no_proxy", "")
        # Generous limits: on a loaded CI machine the local resolver alone can take a while.
        hop = fetch(Fetcher(Limits(timeout=15, deadline=30)), "http://public.invalid/go")
        assert [p for p, _ in site.seen] == ["http://public.invalid/go"]
    assert hop.refused is not None and "169.254.169.254" in hop.refused
    assert hop.status is None and hop.error is not None and hop.error.startswith("refused")


def test_redirects_stop_after_five() -> None:
    with local_site({}) as site:
        site.routes["/loop"] = Reply(302, "", (("Location", "/loop"),))
        looped = fetch(Fetcher(LIMITS), site.base + "/loop")
    assert looped.redirects == 6 and looped.status == 302
    assert len([p for p, _ in site.seen if p == "/loop"]) == 6


def test_connections_go_to_the_checked_address_with_the_name_in_host() -> None:
    with local_site({"/": Reply(200, "<html><head></head><body>ok</body></html>")}) as site:
        port = site.base.rsplit(":", 1)[1]
        report = check(f"http://localhost:{port}/", limits=LIMITS)
        assert report.documents[-1].status == 200
        assert {host for _, host in site.seen} == {f"localhost:{port}"}


def test_every_code_has_a_fix() -> None:
    for code, (severity, summary, fix) in CATALOGUE.items():
        assert fix.strip() and summary.strip() and severity.value in ("error", "warning", "info"), code


def test_content_type_relative_licence_and_unreachable_tdm_policy() -> None:
    licence = ('<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
               '<permits type="usage">search ai-input</permits></license></content></rsl>')
    with local_site({}) as site:
        site.routes.update({
            "/robots.txt": Reply(200, "License: /terms/licence.xml\nUser-agent: *\nAllow: /\n",
                                 (("Content-Type", "application/octet-stream"),)),
            "/terms/licence.xml": Reply(200, licence, (("Content-Type", "application/rsl+xml"),)),
            "/.well-known/tdmrep.json": Reply(
                200, f'[{{"location": "/", "tdm-reservation": 1, "tdm-policy": "{site.base}/policy.json"}}]',
                (("Content-Type", "application/json"),)),
            "/": Reply(200, "<html><head></head><body>ok</body></html>"),
        })
        report = check(site.base + "/", limits=LIMITS)
        fetched = [path for path, _ in site.seen]
    found = {p.code: p for p in report.problems}
    assert "robots-content-type" in found and "application/octet-stream" in found["robots-content-type"].message
    relative = found["rsl-relative-url"]
    assert relative.line == 1 and f"{site.base}/terms/licence.xml" in relative.fix
    assert "/terms/licence.xml" in fetched and "/policy.json" in fetched
    assert found["tdmrep-policy-unreachable"].element == "rule #1" and "404" in found["tdmrep-policy-unreachable"].message
    search = next(a for a in report.agents if a.agent == "fairfetch-search").usages["search"]
    assert search is not None and search.signal == "rsl" and search.allowed  # the resolved licence applies
    assert "contradiction-tdmrep-licence" in found  # reserved by TDMRep, ai-input permitted by the licence


def _walled(part: str) -> str:
    return (
        '<html><head><script type="application/ld+json">{"@type":"NewsArticle","isAccessibleForFree":false,'
        f'"hasPart":{{"@type":"WebPageElement","isAccessibleForFree":false{part}}}}}</script></head>'
        '<body><p>Free teaser.</p><div class="body"><p>Paid paragraph.</p></div></body></html>'
    )


@pytest.mark.parametrize(
    ("page", "code", "words"),
    [
        (_walled(',"cssSelector":".paywalled-body"'), "paywall-selector-unmatched", "matches nothing"),
        (_walled(',"cssSelector":"div[class="'), "paywall-selector-invalid", "not a valid CSS selector"),
        (_walled(""), "paywall-part-without-selector", "names no cssSelector"),
        ('<html><body><div itemscope itemtype="https://schema.org/NewsArticle">'
         '<meta itemprop="isAccessibleForFree" content="false"><div itemprop="hasPart" itemscope '
         'itemtype="https://schema.org/WebPageElement"><meta itemprop="isAccessibleForFree" content="false">'
         '<meta itemprop="cssSelector" content=".members-only"></div></div><p>Paid.</p></body></html>',
         "paywall-selector-unmatched", "'.members-only' matches nothing"),
    ],
)
def test_walled_parts_that_cannot_be_located_are_errors_with_a_fix(page: str, code: str, words: str) -> None:
    with local_site({}) as site:
        site.routes.update({
            "/robots.txt": Reply(200, "User-agent: *\nAllow: /\n", TEXT),
            "/story": Reply(200, page, (("Content-Type", "text/html"),)),
        })
        report = check(site.base + "/story", limits=LIMITS)
    found = [p for p in report.problems if p.code == code]
    assert found and found[0].severity.value == "error"
    assert any(words in p.message for p in found) and "whole page" in found[0].fix
    assert found[0].line == 1  # where the markup is (JSON-LD script or microdata element)
    gpt = next(a for a in report.agents if a.agent == "GPTBot")
    assert gpt.usages["ai-input"].allowed is False and gpt.usages["ai-input"].signal == "paywall"


def test_a_licence_url_that_is_not_a_url_is_an_unreadable_licence() -> None:
    with local_site({}) as site:
        site.routes.update({
            "/robots.txt": Reply(200, "License: http://a]/licence.xml\nUser-agent: *\nAllow: /\n", TEXT),
            "/page": Reply(200, "<html><body><p>text</p></body></html>", (("Content-Type", "text/html"),)),
        })
        report = check(site.base + "/page", limits=LIMITS)
    [found] = [p for p in report.problems if p.code == "rsl-unreadable"]
    assert "is not a URL" in found.message and found.severity.value == "error"
    gpt = next(a for a in report.agents if a.agent == "GPTBot")
    assert gpt.usages["ai-input"].allowed is False  # a declared licence nobody can read: unlicensed
