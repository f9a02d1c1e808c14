"""One pass over an HTML page that collects what every page-level signal needs.

Parsing is the costly part of reading a page, so it happens once here (with
lxml, which trafilatura already brings) and each signal reader works on the
``HtmlDoc`` it returns.
"""

from __future__ import annotations

import codecs
import html as html_lib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import lxml.html
from lxml import etree


@dataclass(frozen=True)
class Meta:
    name: str          # lowercased ``name`` (or ``property``/``http-equiv``) attribute
    content: str
    in_head: bool
    line: int | None


@dataclass(frozen=True)
class Link:
    rel: tuple[str, ...]   # lowercased rel tokens
    href: str
    type: str              # lowercased type attribute, "" when absent
    in_head: bool
    line: int | None


@dataclass(frozen=True)
class Script:
    type: str              # lowercased type attribute
    text: str
    line: int | None


#: From this many elements on, a tree outgrows the CPU caches and each whole-tree XPath walk
#: costs 2-6 ms per MiB of page, while a scan of the source for a name costs ~0.4 ms per MiB:
#: then ``HtmlDoc.may_have`` scans. Below it a walk costs about what a scan does (a 110 KB news
#: page: 1,000 elements, 0.04 ms either way), so it answers True and nothing is scanned.
SCAN_MIN_ELEMENTS = 20_000
_COUNT_ELEMENTS = etree.XPath("count(//*)")
_IMPLIED = frozenset(("html", "head", "body", "p"))  # elements libxml2 adds without a tag in the source


@dataclass
class HtmlDoc:
    """The parsed page. ``root`` is the lxml tree for selector-based readers."""

    root: lxml.html.HtmlElement | None
    metas: list[Meta] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    scripts: list[Script] = field(default_factory=list)
    #: Set when the parser stopped early (nesting beyond libxml2's depth limit): ``metas`` then
    #: also holds the ``<meta>`` tags found in the raw text after the cut (line ``None``).
    truncated: str | None = None
    #: The text ``root`` was parsed from, kept only when it holds ``SCAN_MIN_ELEMENTS`` ``<`` or
    #: more (a tree that may be big enough for ``may_have`` to scan); None otherwise.
    source: str | None = field(default=None, repr=False, compare=False)
    _names: dict[str, bool] | None = field(default=None, init=False, repr=False, compare=False)
    _lower: str = field(default="", init=False, repr=False, compare=False)

    def may_have(self, name: str) -> bool:
        """False only when no element of ``root`` can carry an attribute (or tag) named ``name``.

        libxml2 spells every tag and attribute name as written, lower-cased (no
        character references in names, no names it invents beyond the implied
        ``html``/``head``/``body``/``p``), so a name absent from the lower-cased
        source is absent from the tree, and a reader can skip its whole-tree
        XPath walk for it. That pays only on a big tree (``SCAN_MIN_ELEMENTS``:
        ``parse_html`` keeps the source only when it has as many ``<``, and the
        tree is counted once); elsewhere the answer is True. ``name`` must be
        lower-case.
        """
        source = self.source
        if source is None or name in _IMPLIED:
            return True
        names = self._names
        if names is None:
            if self.root is not None and _COUNT_ELEMENTS(self.root) >= SCAN_MIN_ELEMENTS:
                names = self._names = {"": True}
                self._lower = source.lower()
            else:
                names = self._names = {}
        if "" not in names:
            return True
        known = names.get(name)
        if known is None:
            known = names[name] = name in self._lower
        return known

    def meta(self, name: str) -> list[Meta]:
        key = name.lower()
        return [m for m in self.metas if m.name == key]

    def scripts_of_type(self, mime: str) -> list[Script]:
        key = mime.lower()
        return [s for s in self.scripts if s.type == key]

    def without_tree(self) -> HtmlDoc:
        """The elements read from the page, without the lxml tree (which cannot be pickled)."""
        return HtmlDoc(root=None, metas=self.metas, links=self.links, scripts=self.scripts,
                       truncated=self.truncated)


# lxml.html's own class lookup runs a Python method for every element proxy it creates
# (it picks form classes for <form>, <input>...); no reader uses those, so every element
# gets HtmlElement from a lookup done in C: half the cost of reading 50,000 <meta> tags.
_LOOKUP = etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement,
    comment=lxml.html.HtmlComment,
    pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity,
)
@lru_cache(maxsize=64)
def _union(paths: tuple[str, ...], smart_strings: bool) -> etree.XPath:
    return etree.XPath(" | ".join(paths), smart_strings=smart_strings)


def select(doc: HtmlDoc, branches: tuple[tuple[str, str], ...], *, smart_strings: bool = True) -> list[Any]:
    """The XPath union of ``branches`` (``(path, name)`` pairs) over ``doc.root``, in document order.

    A branch is left out when ``doc.may_have(name)`` says its attribute (or
    tag) cannot occur, so it could select nothing: the answer is the same,
    without its whole-tree walk.
    """
    if doc.root is None:
        return []
    paths = tuple(path for path, name in branches if doc.may_have(name))
    if not paths:
        return []
    found = _union(paths, smart_strings)(doc.root)
    return found if isinstance(found, list) else []


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def decode_html(data: bytes) -> str:
    """Bytes to text: BOM, then a ``<meta charset>`` in the first 4 KiB, then UTF-8, then cp1252.

    lxml would otherwise assume latin-1 for a page that declares nothing,
    garbling every non-ASCII character of a UTF-8 page.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace")
    match = _META_CHARSET.search(data[:4096])
    declared = match.group(1).decode("ascii", "ignore") if match else None
    for encoding in (declared, "utf-8"):
        if encoding:
            try:
                return data.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                continue
    return data.decode("cp1252", "replace")


def parse_html(html: str | bytes | HtmlDoc | None) -> HtmlDoc:
    """Parse ``html`` leniently. Never raises: broken markup yields what lxml recovers.

    ``metas``, ``links`` and ``scripts`` hold each distinct element once (its
    first occurrence), so their size is bounded by what a page *says*, not by
    how often it repeats it.
    """
    if isinstance(html, HtmlDoc):
        return html
    if html is None:
        return HtmlDoc(root=None)
    text = decode_html(html) if isinstance(html, bytes) else html
    # lxml refuses a str that starts with an XML encoding declaration.
    text = _XML_DECLARATION.sub("", text, count=1)
    if not text.strip():
        return HtmlDoc(root=None)
    parser = etree.HTMLParser()
    parser.set_element_class_lookup(_LOOKUP)
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        return HtmlDoc(root=None)
    # Every element needs a "<" in the source: only a page with that many can be scanned (may_have).
    doc = HtmlDoc(root=root, source=text if text.count("<") >= SCAN_MIN_ELEMENTS else None)
    cut = next((e for e in parser.error_log if e.type_name == "ERR_RESOURCE_LIMIT"), None)
    if cut is not None:
        doc.truncated = f"the page nests too deeply to parse past line {cut.line} ({cut.message})"
    _read_elements(doc, root)
    if doc.truncated is not None:
        _raw_metas(doc, text)
    return doc


# Where the elements of one tag are read from, in document order: (iterator, in <head> or None = ask).
_Segments = list[tuple[Iterator[lxml.html.HtmlElement], bool | None]]


def _segments(root: lxml.html.HtmlElement, tag: str) -> _Segments:
    """``root.iter(tag)`` cut at the top-level children, each knowing whether it is inside ``<head>``.

    When every ``<head>`` is a child of the root (what libxml2 builds), an
    element is in ``<head>`` exactly when its top-level ancestor is one, so no
    per-element ancestor walk or membership set is needed; otherwise each
    element asks its ancestors.
    """
    if not all(h.getparent() is root for h in root.iter("head")):
        return [(root.iter(tag), None)]
    out: _Segments = [(iter([root]), False)] if root.tag == tag else []
    for child in root:
        if isinstance(child.tag, str):
            out.append((child.iter(tag), child.tag == "head"))
    return out


def _in_head(el: lxml.html.HtmlElement) -> bool:
    return next(el.iterancestors("head"), None) is not None


def _read_elements(doc: HtmlDoc, root: lxml.html.HtmlElement) -> None:
    """Each distinct ``<meta>``, ``<link>`` and typed ``<script>``, once, at its first line.

    A repeated element (the same tag pasted thousands of times) says nothing
    new, and every reader would otherwise pay for each copy. Per element this
    is an lxml proxy, two or three attribute reads and a set lookup.
    """
    seen: set[tuple[str, str | None, bool]] = set()
    for elements, flag in _segments(root, "meta"):
        for el in elements:
            get = el.get
            name = get("name") or get("property") or get("http-equiv")
            if not name:
                continue
            content = get("content")
            in_head = flag if flag is not None else _in_head(el)
            key = (name, content, in_head)
            if key not in seen:
                seen.add(key)
                doc.metas.append(Meta(name.strip().lower(), (content or "").strip(), in_head, el.sourceline))
    seen_links: set[tuple[str, str | None, str | None, bool]] = set()
    for elements, flag in _segments(root, "link"):
        for el in elements:
            get = el.get
            rel_value = get("rel")
            if not rel_value:
                continue
            in_head = flag if flag is not None else _in_head(el)
            href, ltype = get("href"), get("type")
            link_key = (rel_value, href, ltype, in_head)
            if link_key not in seen_links:
                seen_links.add(link_key)
                rel = tuple(rel_value.lower().split())
                if rel:
                    doc.links.append(Link(rel, (href or "").strip(), (ltype or "").strip().lower(), in_head,
                                          el.sourceline))
    seen_scripts: set[tuple[str, str | None]] = set()
    for el in root.iter("script"):
        stype = (el.get("type") or "").strip().lower()
        if stype and stype not in ("text/javascript", "module", "application/javascript"):
            script_key = (stype, el.text)
            if script_key not in seen_scripts:
                seen_scripts.add(script_key)
                doc.scripts.append(Script(stype, el.text or "", el.sourceline))


_META_TAG = re.compile(r"<meta\b([^>]*)>", re.I)
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")


def _raw_metas(doc: HtmlDoc, text: str) -> None:
    """``<meta>`` tags of the raw text that the parse did not reach: a restriction after the cut still counts.

    Read as outside ``<head>`` (we cannot tell) and without a line; those the
    tree already holds are not added twice.
    """
    known = {(m.name, m.content) for m in doc.metas}
    for tag in dict.fromkeys(_META_TAG.findall(text)):
        attrs: dict[str, str] = {}
        for m in _ATTRIBUTE.finditer(tag):
            attrs.setdefault(m.group(1).lower(), html_lib.unescape(m.group(2) or m.group(3) or m.group(4) or ""))
        name = (attrs.get("name") or attrs.get("property") or attrs.get("http-equiv") or "").strip().lower()
        content = attrs.get("content", "").strip()
        if name and (name, content) not in known:
            known.add((name, content))
            doc.metas.append(Meta(name, content, False, None))


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def drop_tree(el: lxml.html.HtmlElement) -> None:
    """``el.drop_tree()`` (remove ``el``, keep the text after it) that cannot fail on the page's text.

    lxml's parser lets control characters through, but refuses to set text
    holding one; ``drop_tree`` re-sets the neighbour's text, so on such a page
    it raised. The text is then kept with U+FFFD in their place.
    """
    try:
        el.drop_tree()
    except ValueError:
        for node in (el, el.getprevious(), el.getparent()):
            if node is None:
                continue
            if node.tail:
                node.tail = _NOT_XML.sub("\ufffd", node.tail)
            if node is not el and node.text and isinstance(node.tag, str):
                node.text = _NOT_XML.sub("\ufffd", node.text)
        el.drop_tree()
