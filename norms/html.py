"""One pass over an HTML page that collects what every page-level signal needs.

Parsing is the costly part of reading a page, so it happens once here (with
lxml, which trafilatura already brings) and each signal reader works on the
``HtmlDoc`` it returns.
"""

from __future__ import annotations

import codecs
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

    def meta(self, name: str) -> list[Meta]:
        key = name.lower()
        return [m for m in self.metas if m.name == key]

    def scripts_of_type(self, mime: str) -> list[Script]:
        key = mime.lower()
        return [s for s in self.scripts if s.type == key]


def _in_head(el: etree._Element) -> bool:
    for anc in el.iterancestors():
        tag = anc.tag if isinstance(anc.tag, str) else ""
        if tag.lower() == "head":
            return True
    return False


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
    """Parse ``html`` leniently. Never raises: broken markup yields what lxml recovers."""
    if isinstance(html, HtmlDoc):
        return html
    if html is None:
        return HtmlDoc(root=None)
    text = decode_html(html) if isinstance(html, bytes) else html
    # lxml refuses a str that starts with an XML encoding declaration.
    text = _XML_DECLARATION.sub("", text, count=1)
    if not text.strip():
        return HtmlDoc(root=None)
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return HtmlDoc(root=None)
    doc = HtmlDoc(root=root)
    for el in root.iter("meta", "link", "script"):
        tag = el.tag
        if tag == "meta":
            name = el.get("name") or el.get("property") or el.get("http-equiv") or ""
            if name:
                doc.metas.append(
                    Meta(name.strip().lower(), (el.get("content") or "").strip(), _in_head(el), el.sourceline)
                )
        elif tag == "link":
            rel = tuple((el.get("rel") or "").lower().split())
            if rel:
                doc.links.append(
                    Link(rel, (el.get("href") or "").strip(), (el.get("type") or "").strip().lower(),
                         _in_head(el), el.sourceline)
                )
        else:
            stype = (el.get("type") or "").strip().lower()
            if stype and stype not in ("text/javascript", "module", "application/javascript"):
                doc.scripts.append(Script(stype, el.text or "", el.sourceline))
    return doc
