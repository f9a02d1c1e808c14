"""parse_html's and the readers' shortcuts answer exactly what the plain walks answered.

Reading a page dense in elements (issue 9's ``many-meta-tags``) got cheap by
three shortcuts: element proxies from a lookup done in C, ``<head>``
membership from the top-level child instead of a set of every head element,
and skipping a whole-tree XPath walk when the page's source never spells the
name it looks for (``HtmlDoc.may_have``, on trees of ``SCAN_MIN_ELEMENTS``
or more). Each is checked here against the reading without it, on the
fixture pages, the hostile shapes and pages written to defeat it; the
source scan is forced on for all of them (``scan_always``), whatever their size.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

import norms.html
from norms.classify import classify_page
from norms.classify.markers import read_markers
from norms.html import HtmlDoc, Link, Meta, Script, _read_elements, parse_html
from norms.paywall import detect_paywall
from tests.norms.hostile_pages import SHAPES, page

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "fixtures/classify/pages").glob("*.html")) + sorted((ROOT / "fixtures/corpus/html").glob("*.html"))
URL = "https://www.example.com/news/2026/story"
_HEAD = etree.XPath("//head//meta | //head//link | //head//script")


def reference_elements(root: lxml.html.HtmlElement) -> tuple[list[Meta], list[Link], list[Script]]:
    """parse_html's element reading before the shortcuts (main at e8d9a46), kept as the oracle."""
    metas: list[Meta] = []
    links: list[Link] = []
    scripts: list[Script] = []
    in_head = set(_HEAD(root))
    seen: set[tuple[str, str | None, str | None, str | None, bool]] = set()
    for el in root.iter("meta", "link", "script"):
        get = el.get
        if el.tag == "meta":
            name = get("name") or get("property") or get("http-equiv") or ""
            key = ("meta", name, get("content"), None, el in in_head)
            if name and key not in seen:
                seen.add(key)
                metas.append(Meta(name.strip().lower(), (key[2] or "").strip(), key[4], el.sourceline))
        elif el.tag == "link":
            key = ("link", get("rel"), get("href"), get("type"), el in in_head)
            if key[1] and key not in seen:
                seen.add(key)
                rel = tuple(key[1].lower().split())
                if rel:
                    links.append(Link(rel, (key[2] or "").strip(), (key[3] or "").strip().lower(), key[4],
                                      el.sourceline))
        else:
            stype = (get("type") or "").strip().lower()
            if stype and stype not in ("text/javascript", "module", "application/javascript"):
                key = ("script", stype, el.text, None, False)
                if key not in seen:
                    seen.add(key)
                    scripts.append(Script(stype, el.text or "", el.sourceline))
    return metas, links, scripts


@pytest.fixture
def scan_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """``may_have`` scans the source of every page, not only of big trees (the cost rule is not tested here)."""
    monkeypatch.setattr(norms.html, "SCAN_MIN_ELEMENTS", 0)


def without_source(doc: HtmlDoc) -> HtmlDoc:
    """The same parsed page, but every reader walks the whole tree (nothing to scan)."""
    return dataclasses.replace(doc, source=None)


def _pages() -> list[tuple[str, str]]:
    out = [(p.name, p.read_bytes().decode("utf-8", "replace")) for p in PAGES]
    out += [(name, page(name, 64 * 1024).decode()) for name in SHAPES]
    return out


@pytest.mark.parametrize(("name", "text"), _pages(), ids=[n for n, _ in _pages()])
@pytest.mark.usefixtures("scan_always")
def test_elements_markers_and_paywall_equal_the_plain_reading(name: str, text: str) -> None:
    doc = parse_html(text)
    assert doc.root is not None
    assert (doc.metas, doc.links, doc.scripts) == reference_elements(doc.root)
    plain = without_source(doc)
    assert classify_page(URL, doc) == classify_page(URL, plain)
    assert detect_paywall(doc, URL) == detect_paywall(plain, URL)


@pytest.mark.usefixtures("scan_always")
def test_the_shortcut_is_taken_on_every_fixture_page() -> None:
    """Otherwise the test above would compare the plain reading with itself."""
    assert all(parse_html(p.read_bytes()).may_have("no-such-attribute-anywhere") is False for p in PAGES)


def test_only_big_trees_are_scanned() -> None:
    """A news page's walks cost what scans would (no scan); 1 MiB of meta tags is 23,000 elements (scanned)."""
    news = parse_html((ROOT / "fixtures/corpus/html/latimes.com-098bb3e9.html").read_bytes())
    assert news.may_have("no-such-attribute-anywhere") is True
    dense = parse_html(page("many-meta-tags", 1024 * 1024))
    assert dense.may_have("no-such-attribute-anywhere") is False and dense.may_have("content") is True
    deep = parse_html(page("deep-nesting", 1024 * 1024))  # 95,000 tags in the source, 512 in the tree
    assert deep.may_have("no-such-attribute-anywhere") is True
    assert news.source is None  # a page with fewer "<" than SCAN_MIN_ELEMENTS does not keep its text


@pytest.mark.usefixtures("scan_always")
def test_elements_the_parser_adds_are_never_denied() -> None:
    doc = parse_html("x")  # libxml2 wraps bare text in html and body (and in places in p)
    assert doc.root is not None and doc.root.find("body") is not None
    assert all(doc.may_have(name) for name in ("html", "head", "body", "p"))


DENSE_FILLER = "<i>x</i>" * 200


@pytest.mark.parametrize(
    "markup",
    [
        '<div ITEMSCOPE ITEMTYPE="https://schema.org/NewsArticle"><meta ITEMPROP="isAccessibleForFree" content="False">'
        '<div itemprop="hasPart" itemscope itemtype="https://schema.org/WebPageElement">'
        '<meta itemprop="isAccessibleForFree" content="false"><meta itemprop="cssSelector" content=".paid"></div></div>'
        '<div class="paid"><p>Paid.</p></div>',
        '<div PROPERTY="isAccessibleForFree" content="false"></div><div CLASS="tp-modal">x</div>',
        '<div ID="tinypass-x" DATA-PAYWALL="1">x</div><script SRC="https://cdn.tinypass.com/api.js"></script>',
    ],
)
@pytest.mark.usefixtures("scan_always")
def test_upper_case_names_on_a_dense_page_are_still_found(markup: str) -> None:
    doc = parse_html(f"<html><head><title>t</title></head><body>{DENSE_FILLER}{markup}</body></html>")
    assert doc.may_have("no-such-attribute-anywhere") is False  # the shortcut is active
    plain = without_source(doc)
    assert classify_page(URL, doc) == classify_page(URL, plain)
    assert detect_paywall(doc, URL) == detect_paywall(plain, URL)
    assert detect_paywall(doc, URL).evidence  # and there was something to find


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ('<MAIN><a HREF="https://other.example/a">a</a></MAIN><li ID="ca-history"><A href="/w?action=history">h</A></li>',
         {"history_links": 2, "external_domains": 1}),
        ('<div ROLE="main"><a href="https://elsewhere.example/">e</a></div><a href="https://third.example/">t</a>'
         '<span ID="footer-info-lastmod">edited</span>',
         {"external_domains": 1, "footer_lastmod": "edited"}),
        ('<div ITEMSCOPE ITEMTYPE="https://schema.org/Person"><span itemprop="name">A</span></div>',
         {"external_domains": 0, "microdata_types": {"person": 1}}),
    ],
)
@pytest.mark.usefixtures("scan_always")
def test_upper_case_markers_on_a_dense_page_are_still_found(markup: str, expected: dict[str, object]) -> None:
    doc = parse_html(f"<html><head><title>t</title></head><body>{DENSE_FILLER}{markup}</body></html>")
    assert doc.may_have("no-such-attribute-anywhere") is False
    markers = read_markers(doc, URL)
    assert markers == read_markers(without_source(doc), URL)
    seen = {k: getattr(markers, k) for k in expected if k != "microdata_types"}
    if "microdata_types" in expected:
        seen["microdata_types"] = dict(markers.structured.types)
    assert seen == expected


def test_head_membership_without_the_usual_shape() -> None:
    """A tree whose <head> is not a child of the root (built by hand): each element asks its ancestors."""
    root = lxml.html.fromstring(
        '<html><head><meta name="a" content="1"></head><body><meta name="a" content="1">'
        '<div><link rel="license" href="/l"></div></body></html>'
    )
    body = root.find("body")
    nested = etree.SubElement(body.find("div"), "head")
    etree.SubElement(nested, "meta", name="a", content="1")
    etree.SubElement(nested, "link", rel="license", href="/l")
    etree.SubElement(nested, "meta", name="b", content="2")
    doc = HtmlDoc(root=root)
    _read_elements(doc, root)
    assert (doc.metas, doc.links, doc.scripts) == reference_elements(root)
    assert [(m.name, m.in_head) for m in doc.metas] == [("a", True), ("a", False), ("b", True)]


_tags = st.sampled_from(["meta", "link", "script", "div", "head", "body", "p"])
_attrs = st.dictionaries(
    st.sampled_from(["name", "property", "http-equiv", "content", "rel", "href", "type"]),
    st.sampled_from(["robots", "noai", "License", " x ", "", "application/ld+json", "/l"]),
    max_size=3,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_tags, _attrs, st.integers(0, 3)), max_size=25))
def test_element_reading_equals_the_reference_on_arbitrary_markup(parts: list[tuple[str, dict[str, str], int]]) -> None:
    html = "".join(
        f"<{tag}" + "".join(f' {k}="{v}"' for k, v in attrs.items()) + ">" + ("</div>" * close)
        for tag, attrs, close in parts
    )
    doc = parse_html(f"<html>{html}</html>")
    if doc.root is not None:
        assert (doc.metas, doc.links, doc.scripts) == reference_elements(doc.root)
