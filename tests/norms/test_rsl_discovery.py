"""Finding RSL licences in HTTP Link headers, HTML pages and RSS feeds (RSL 1.0 §4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from norms.html import parse_html
from norms.model import Effect, Grants, SignalError, Usage
from norms.rsl import (
    discover_from_headers,
    discover_from_html,
    discover_from_rss,
    license_statements,
    parse_link_header,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rsl"
PAGE = "https://news.example/2026/story"
FEED = "https://pod.example/feed.xml"


# -- Link header -------------------------------------------------------------------------


def test_link_header_as_in_the_spec() -> None:
    headers = {"Link": '<https://news.example/license.xml>; rel="license"; type="application/rsl+xml"'}
    (ref,) = discover_from_headers(headers, PAGE)
    assert (ref.url, ref.via, ref.scope) == ("https://news.example/license.xml", "link-header", "page")
    assert ref.element == 'Link: <https://news.example/license.xml>; rel="license"; type="application/rsl+xml"'


def test_several_links_per_header_and_several_headers() -> None:
    headers = [
        ("Link", '</style.css>; rel=preload; as=style, <https://a.example/l1.xml>; rel="license"; '
                 'type="application/rsl+xml"'),
        ("link", '<https://a.example/l2.xml>;type="application/rsl+xml";rel="alternate license"'),
        ("Link", "<https://a.example/l3.xml>; rel=license; type=application/rsl+xml"),
    ]
    refs = discover_from_headers(headers, PAGE)
    assert [r.url for r in refs] == [
        "https://a.example/l1.xml",
        "https://a.example/l2.xml",
        "https://a.example/l3.xml",
    ]


@pytest.mark.parametrize(
    "value",
    [
        '<https://a.example/cc>; rel="license"',  # a licence, but not RSL
        '<https://a.example/l.xml>; rel="licensee"; type="application/rsl+xml"',
        '<https://a.example/l.xml>; rel="alternate"; type="application/rsl+xml"',
        '<https://a.example/l.xml>; type="application/rsl+xml"',
        '<https://a.example/l.xml>; rel="license"; type="application/xml"',
        "garbage without brackets",
        "",
    ],
)
def test_links_that_are_not_rsl_licences_are_ignored(value: str) -> None:
    assert discover_from_headers({"Link": value}, PAGE) == []


def test_link_header_details() -> None:
    # commas and semicolons inside quotes and URLs; the first rel counts; media type parameters
    value = (
        '<https://a.example/l;v=1,2.xml>; title="a, b; c"; rel="license"; rel="nofollow"; '
        'type="application/rsl+xml; charset=utf-8", <https://a.example/x>; rel=next'
    )
    links = parse_link_header(value)
    assert [t for t, _ in links] == ["https://a.example/l;v=1,2.xml", "https://a.example/x"]
    assert links[0][1] == {
        "title": "a, b; c",
        "rel": "license",
        "type": "application/rsl+xml; charset=utf-8",
    }
    (ref,) = discover_from_headers({"Link": value}, PAGE)
    assert ref.url == "https://a.example/l;v=1,2.xml"


def test_relative_link_target_is_resolved_and_duplicates_dropped() -> None:
    value = '</license.xml>; rel="license"; type="application/rsl+xml"'
    refs = discover_from_headers([("Link", value), ("Link", value)], PAGE)
    assert [r.url for r in refs] == ["https://news.example/license.xml"]


def test_no_headers() -> None:
    assert discover_from_headers(None, PAGE) == []
    assert discover_from_headers({"Content-Type": "text/html"}, PAGE) == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='<>;,="\\ abcrel:/.licensetypxm+-\t', max_size=80))
def test_link_header_parser_never_raises(value: str) -> None:
    for target, params in parse_link_header(value):
        assert isinstance(target, str)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())


# -- HTML ----------------------------------------------------------------------------------------


def test_html_links_and_inline_licence() -> None:
    refs = discover_from_html((FIXTURES / "page.html").read_bytes(), PAGE)
    links = [r for r in refs if r.via == "html-link"]
    assert [r.url for r in links] == [
        "https://news.example/license.xml",
        "https://licensing.example/news.xml",
    ]
    assert links[0].line == 7
    assert links[0].scope == "page"
    (inline,) = [r for r in refs if r.via == "html-inline"]
    assert inline.url == PAGE
    assert inline.line == 9
    assert inline.inline is not None and inline.inline.startswith('<rsl xmlns="https://rslstandard.org/rsl">')


def test_inline_licence_applies_to_its_page() -> None:
    from norms.rsl import LicenseSource

    (inline,) = [r for r in discover_from_html((FIXTURES / "page.html").read_text(), PAGE) if r.inline]
    src = LicenseSource.from_body(inline, inline.inline or "")
    assert src.document is not None and src.document.conformant
    assert src.insecure is False
    stmts, gates = license_statements(PAGE, [src], Grants())
    assert gates == []
    got = {s.usage: s for s in stmts}
    assert got[Usage.SEARCH].effect is Effect.ALLOW
    assert got[Usage.AI_INPUT].effect is Effect.ALLOW
    assert got[Usage.AI_TRAIN].effect is Effect.DENY
    assert got[Usage.AI_TRAIN].evidence.where() == f"{PAGE} line 9"


def test_html_accepts_a_parsed_document_and_link_outside_head() -> None:
    html = (
        "<html><head></head><body>"
        '<link rel="license" type="application/rsl+xml" href="//cdn.example/l.xml"></body></html>'
    )
    doc = parse_html(html)
    (ref,) = discover_from_html(doc, "http://news.example/a")
    assert ref.url == "http://cdn.example/l.xml"


def test_html_without_licences() -> None:
    assert discover_from_html("<html><head><title>x</title></head></html>", PAGE) == []
    assert discover_from_html(b"", PAGE) == []
    assert discover_from_html('<script type="application/rsl+xml">  </script>', PAGE) == []


# -- RSS -------------------------------------------------------------------------------------------


def test_rss_items_yield_licences_for_same_origin_assets() -> None:
    warnings: list[str] = []
    found = discover_from_rss((FIXTURES / "feed.rss").read_bytes(), FEED, warnings=warnings)
    assert [asset for asset, _ in found] == [
        "https://pod.example/audio/ep1.mp3",
        "https://pod.example/audio/ep2.mp3",
        "https://pod.example/ep4",
    ]
    assert warnings == [
        "RSS item 3: rsl:content url https://elsewhere.example/audio/ep3.mp3 is not on the feed's "
        "origin https://pod.example; skipped"
    ]
    for _, src in found:
        assert src.ref.via == "rss"
        assert src.ref.url == FEED
        assert src.document is not None
        assert src.document.conformant, src.document.nonconformities

    ep1 = found[0][1].document
    assert ep1 is not None
    terms = ep1.terms_for("https://pod.example/audio/ep1.mp3")
    assert terms is not None
    assert [terms.permits(u) for u in Usage] == [True, True, False, False]

    ep2 = found[1][1]
    stmts, _ = license_statements("https://pod.example/audio/ep2.mp3", [ep2], Grants())
    assert {s.effect for s in stmts} == {Effect.ALLOW}

    ep4 = found[2][1]
    stmts, _ = license_statements("https://pod.example/ep4", [ep4], Grants())
    assert {s.usage for s in stmts if s.effect is Effect.DENY} == {
        Usage.AI_INDEX,
        Usage.AI_INPUT,
        Usage.AI_TRAIN,
    }


def test_rss_with_unsafe_or_broken_xml_is_refused() -> None:
    with pytest.raises(SignalError, match="RSS feed declares a DTD/entities, refused for safety"):
        discover_from_rss(
            '<!DOCTYPE rss [<!ENTITY a "b">]><rss version="2.0"><channel/></rss>', FEED
        )
    with pytest.raises(SignalError, match="RSS feed is not well-formed XML: line 1"):
        discover_from_rss("<rss><channel></rss>", FEED)
    with pytest.raises(SignalError, match=r"not an RSS 2\.0 feed: the root element is <feed>"):
        discover_from_rss('<feed xmlns="http://www.w3.org/2005/Atom"/>', FEED)


def test_rss_item_with_a_broken_licence_still_reports_it() -> None:
    feed = (
        '<rss version="2.0" xmlns:rsl="https://rslstandard.org/rsl"><channel><item>'
        '<rsl:content url="/a.mp3"><rsl:license><rsl:payment type="use">'
        '<rsl:amount currency="EUR">free</rsl:amount></rsl:payment></rsl:license></rsl:content>'
        "</item></channel></rss>"
    )
    ((asset, src),) = discover_from_rss(feed, FEED)
    assert asset == "https://pod.example/a.mp3"
    assert src.document is not None
    assert not src.document.conformant
    stmts, _ = license_statements(asset, [src], Grants())
    assert {s.effect for s in stmts} == {Effect.DENY}


def test_feed_without_rsl() -> None:
    assert discover_from_rss('<rss version="2.0"><channel><item><title>x</title></item></channel></rss>', FEED) == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1024))
def test_rss_on_arbitrary_bytes_gives_licences_or_signal_error(body: bytes) -> None:
    try:
        found = discover_from_rss(body, FEED)
    except SignalError:
        return
    assert isinstance(found, list)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                '<rss version="2.0" xmlns:rsl="https://rslstandard.org/rsl">', "</rss>", "<channel>",
                "</channel>", "<item>", "</item>", '<rsl:content url="/a">', '<rsl:content url="">',
                '<rsl:content url="https://x.example/">', "</rsl:content>", "<rsl:license>",
                "</rsl:license>", '<rsl:permits type="usage">all</rsl:permits>', "<link>/b</link>",
                "<rsl:bogus/>",
            ]
        ),
        max_size=25,
    )
)
def test_rss_like_markup_gives_licences_or_signal_error(parts: list[str]) -> None:
    try:
        found = discover_from_rss("".join(parts), FEED)
    except SignalError:
        return
    for asset, src in found:
        assert asset.startswith("https://pod.example/")
        assert (src.document is None) == (src.error is not None)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1024))
def test_html_discovery_never_raises(body: bytes) -> None:
    for ref in discover_from_html(body, PAGE):
        assert ref.via in ("html-link", "html-inline")
