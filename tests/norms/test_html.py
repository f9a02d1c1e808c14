"""norms.html: one lenient parse per page, with the right characters."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from norms.html import decode_html, parse_html

PAGE = "<html><head><title>Zürich – café</title><meta name=robots content=noai></head><body><p>Grüße</p></body></html>"


def test_str_keeps_non_ascii_text():
    doc = parse_html(PAGE)
    assert doc.root is not None
    assert doc.root.findtext(".//title") == "Zürich – café"


def test_utf8_bytes_without_declaration_are_not_read_as_latin1():
    doc = parse_html(PAGE.encode("utf-8"))
    assert doc.root.findtext(".//p") == "Grüße"


def test_declared_charset_is_honoured():
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>caf\xe9</p></body></html>'
    assert decode_html(page.encode("latin-1")).endswith("<p>café</p></body></html>")


def test_xml_declaration_in_str_is_accepted():
    doc = parse_html('<?xml version="1.0" encoding="utf-8"?><html><body><p>x</p></body></html>')
    assert doc.root is not None and doc.root.findtext(".//p") == "x"


def test_metas_links_and_typed_scripts_are_collected():
    doc = parse_html(
        '<html><head><meta name="Robots" content="noai"><link rel="License" type="application/rsl+xml" href="/l.xml">'
        '<script type="application/ld+json">{}</script><script>var x;</script></head><body></body></html>'
    )
    assert [(m.name, m.content, m.in_head) for m in doc.metas] == [("robots", "noai", True)]
    assert doc.links[0].rel == ("license",) and doc.links[0].type == "application/rsl+xml"
    assert [s.type for s in doc.scripts] == ["application/ld+json"]


@given(st.binary(max_size=2000))
def test_any_bytes_parse_without_raising(data: bytes):
    parse_html(data)


@given(st.text(max_size=2000))
def test_any_text_parses_without_raising(text: str):
    parse_html(text)


@given(st.from_regex(r"https?://[a-z.]{1,12}(:[0-9]{1,4})?(/[a-z0-9%$*?=&;/.-]{0,20})?(#[a-z]{0,5})?", fullmatch=True))
@example("http://h/?")
@example("http://h?")
@example("http://h?a?")
def test_path_and_query_agrees_with_urlsplit(url: str):
    from urllib.parse import urlsplit

    from norms.http import path_and_query

    parts = urlsplit(url)
    expected = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    assert path_and_query(url) == expected
