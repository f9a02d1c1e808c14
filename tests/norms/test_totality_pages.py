"""Totality of the page readers: HTML parsing, robots metas, paywall markup, RSL discovery, classification.

Pages come from fixtures/pages (paywall markup of every shape), fixtures/rsl
and fixtures/classify, with one attribute, one text node (JSON-LD included)
or one JSON value replaced by junk; and as arbitrary bytes. Every reader of
the page must return a result or raise ``SignalError``; ``evaluate`` and
``remove_parts`` run on what they return, as the crawler runs them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from norms.classify import classify_page, links_for
from norms.evaluate import evaluate
from norms.html import parse_html
from norms.paywall import detect_paywall, remove_parts
from norms.robots_tags import robots_directives
from norms.rsl import discover_from_html
from norms.tdmrep import tdmrep_statements
from tests.norms.totality import (
    FEW,
    FIXTURES,
    INVALID_URLS,
    TOTALITY,
    as_bytes,
    junk_json,
    mutated,
    read,
    replace_attribute,
    replace_json_value,
    replace_text,
    total,
)

URL = "https://news.example/2026/story"
AGENT = "fairfetch"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
PAGES = [read(f"pages/{p.name}") for p in sorted((FIXTURES / "pages").glob("*.html"))]
PAGES.append(read("rsl/page.html"))
PAGES += [read(f"classify/pages/{p.name}") for p in sorted((FIXTURES / "classify" / "pages").glob("*.html"))[:6]]
PAGES.append(
    '<html><head><meta name="robots" content="noai, max-snippet:20, unavailable_after: 2025-01-01">'
    '<meta name="fairfetch" content="noimageai"><meta name="tdm-reservation" content="1">'
    '<link rel="license" type="application/rsl+xml" href="/license.xml"></head>'
    '<body><article><p class="paid">Paid text</p></article>'
    '<script type="application/ld+json">{"@type":"NewsArticle","isAccessibleForFree":false,'
    '"hasPart":{"@type":"WebPageElement","isAccessibleForFree":false,"cssSelector":".paid"}}</script>'
    '<script type="application/rsl+xml"><rsl xmlns="https://rslstandard.org/rsl"><content url="">'
    "<license/></content></rsl></script></body></html>"
)
urls = st.one_of(st.just(URL), st.sampled_from(INVALID_URLS))


def use_page(html: str | bytes, url: str) -> None:
    doc = total(lambda: parse_html(html))
    total(lambda: robots_directives({"X-Robots-Tag": "noai"}, doc, AGENT, source_url=url, now=NOW).statements())
    report = total(lambda: detect_paywall(doc, url))
    selectors = getattr(report, "selectors", [])
    total(lambda: remove_parts(html, selectors))
    warnings: list[str] = []
    total(lambda: discover_from_html(doc, url, warnings=warnings))
    total(lambda: tdmrep_statements(url, file=None, html=doc))
    total(lambda: classify_page(url, doc))
    verdict = total(lambda: evaluate(url, user_agent=AGENT, status=200, headers={}, html=doc))
    if verdict is not None and not isinstance(verdict, Exception):
        total(lambda: remove_parts(html, list(verdict.exclude_selectors)))


@given(html=as_bytes(st.text(max_size=400)) | st.binary(max_size=400), url=urls)
@FEW
@example(html=b'<meta charset="bogus"><p>\xff</p>', url=URL)
@example(html='<link rel="license" type="application/rsl+xml" href="http://a]/l.xml">', url=URL)
def test_page_arbitrary(html: str | bytes, url: str) -> None:
    use_page(html, url)


@given(html=mutated(PAGES, replace_attribute), url=urls)
@TOTALITY
def test_page_near_valid_attribute(html: str, url: str) -> None:
    use_page(html, url)


@given(html=mutated(PAGES, replace_text), url=urls)
@TOTALITY
@example(html='<html><body><p class="lede">Free.</p>\x1f<div class="premium">Paid.</div>\x1ftail</body>'
              '<script type="application/ld+json">{"isAccessibleForFree":false,'
              '"hasPart":{"isAccessibleForFree":false,"cssSelector":".premium"}}</script></html>', url=URL)
def test_page_near_valid_text(html: str, url: str) -> None:
    use_page(html, url)


@given(html=mutated(PAGES, replace_json_value, junk_json))
@TOTALITY
@example(html='<script type="application/ld+json">{"isAccessibleForFree": false, "n": ' + "9" * 5000 + "}</script>")
def test_page_near_valid_jsonld(html: str) -> None:
    use_page(html, URL)


@given(url=st.text(max_size=80) | st.sampled_from(INVALID_URLS))
@FEW
def test_links_for_any_url(url: str) -> None:
    total(lambda: links_for(url))
    total(lambda: links_for("https://en.wikipedia.org/wiki/" + url))


def test_invalid_link_href_is_skipped_with_a_warning() -> None:
    warnings: list[str] = []
    html = ('<head><link rel="license" type="application/rsl+xml" href="http://a]/l.xml">'
            '<link rel="license" type="application/rsl+xml" href="/ok.xml"></head>')
    refs = discover_from_html(html, "https://news.example/story", warnings=warnings)
    assert [r.url for r in refs] == ["https://news.example/ok.xml"]
    assert len(warnings) == 1 and "line 1" in warnings[0] and "not a URL" in warnings[0]


def test_removing_a_part_next_to_a_control_character_keeps_the_rest() -> None:
    """lxml parses text holding U+001F but refuses to set it again; dropping a walled part must not fail."""
    html = '<html><body><p>Free\x1f.</p>\x1f<div class="premium">Paid.</div>\x1fafter</body></html>'
    out = remove_parts(html, [".premium"])
    assert "Paid" not in out and "after" in out and "Free" in out
