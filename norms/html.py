"""One pass over an HTML page that collects what every page-level signal needs.

Parsing is the costly part of reading a page, so it happens once here (with
lxml, which trafilatura already brings) and each signal reader works on the
``HtmlDoc`` it returns.
"""

from __future__ import annotations

import codecs
import html as html_lib
import re
from dataclasses import dataclass, field

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

    def meta(self, name: str) -> list[Meta]:
        key = name.lower()
        return [m for m in self.metas if m.name == key]

    def scripts_of_type(self, mime: str) -> list[Script]:
        key = mime.lower()
        return [s for s in self.scripts if s.type == key]


_HEAD_ELEMENTS = etree.XPath("//head//meta | //head//link | //head//script")
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
    parser = lxml.html.HTMLParser()
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        return HtmlDoc(root=None)
    doc = HtmlDoc(root=root)
    cut = next((e for e in parser.error_log if e.type_name == "ERR_RESOURCE_LIMIT"), None)
    if cut is not None:
        doc.truncated = f"the page nests too deeply to parse past line {cut.line} ({cut.message})"
    # Membership in <head> by one set built from the head's own elements: no ancestor walk per element.
    in_head = set(_HEAD_ELEMENTS(root))
    # A repeated element (the same tag pasted thousands of times) is kept once, at its first line:
    # it says nothing new, and every reader would otherwise pay for each copy.
    seen: set[tuple[str, str | None, str | None, str | None, bool]] = set()
    for el in root.iter("meta", "link", "script"):
        tag = el.tag
        get = el.get
        if tag == "meta":
            name = get("name") or get("property") or get("http-equiv") or ""
            key = ("meta", name, get("content"), None, el in in_head)
            if name and key not in seen:
                seen.add(key)
                doc.metas.append(Meta(name.strip().lower(), (key[2] or "").strip(), key[4], el.sourceline))
        elif tag == "link":
            key = ("link", get("rel"), get("href"), get("type"), el in in_head)
            if key[1] and key not in seen:
                seen.add(key)
                rel = tuple(key[1].lower().split())
                if rel:
                    doc.links.append(Link(rel, (key[2] or "").strip(), (key[3] or "").strip().lower(), key[4],
                                          el.sourceline))
        else:
            stype = (get("type") or "").strip().lower()
            if stype and stype not in ("text/javascript", "module", "application/javascript"):
                key = ("script", stype, el.text, None, False)
                if key not in seen:
                    seen.add(key)
                    doc.scripts.append(Script(stype, el.text or "", el.sourceline))
    if doc.truncated is not None:
        _raw_metas(doc, text)
    return doc


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
