"""Finding RSL licences attached to a response, a page or a feed (RSL 1.0 §4).

Every association point is functionally equivalent and a client must check
all of them; these functions only *find* the pointers (``LicenseRef``), the
crawler fetches them and wraps the outcome in a ``LicenseSource``. robots.txt
``License:`` lines are read by the robots.txt parser.

* HTTP ``Link: <url>; rel="license"; type="application/rsl+xml"`` (RFC 8288:
  several links per header, several headers, ``rel`` may hold several
  tokens). A relative target is resolved against the response URL.
* HTML ``<link rel="license" type="application/rsl+xml" href>`` and inline
  ``<script type="application/rsl+xml">`` (``ref.inline`` holds the XML and
  ``ref.url`` is the page URL).
* RSS 2.0 ``<item><rsl:content url>``: evaluated per item before the asset is
  downloaded; the asset must be on the feed's origin, otherwise the licence
  could be claimed for someone else's content, so it is skipped.
"""

from __future__ import annotations

from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, tostring

from pydantic import BaseModel

from norms.html import HtmlDoc, parse_html
from norms.http import HeadersLike, header_lines, header_values
from norms.lenient import join_url, shown
from norms.model import LicenseRef, SignalError
from norms.problems import Severity, finding
from norms.rsl.document import RSL_NAMESPACE, RslDocument
from norms.rsl.patterns import origin_of
from norms.rsl.reader import parse_rsl
from norms.rsl.xmlsafe import MiB, parse_xml

RSL_MEDIA_TYPE = "application/rsl+xml"
MAX_FEED_BYTES = 16 * MiB
_NS = "{" + RSL_NAMESPACE + "}"
# Placements that carry their licence with them: exactly one <content> each (RSL 1.0 §4).
_EMBEDDED_VIA = frozenset({"html-inline", "rss"})
_FETCHED_VIA = frozenset({"robots", "link-header", "html-link"})


class LicenseSource(BaseModel):
    """A discovered licence and what became of fetching and parsing it.

    ``document is None`` means the publisher declared a licence we could not
    obtain or read (``error`` says why); the content is then unlicensed.
    ``insecure`` marks a licence fetched over plain http: accepted, but the
    compliance checker warns (RSL documents should be fetched over HTTPS).
    """

    ref: LicenseRef
    document: RslDocument | None = None
    error: str | None = None
    insecure: bool = False
    error_code: str | None = None  # the reader's code for ``error`` when it gave one (norms.problems)

    @classmethod
    def from_body(cls, ref: LicenseRef, body: bytes | str) -> LicenseSource:
        """Parse ``body`` as the licence ``ref`` points to; a ``SignalError`` becomes ``.error``."""
        insecure = ref.via in _FETCHED_VIA and ref.url.lower().startswith("http://")
        try:
            document = parse_rsl(body, source_url=ref.url)
        except SignalError as exc:
            return cls(ref=ref, error=str(exc), insecure=insecure, error_code=exc.code)
        if ref.via in _EMBEDDED_VIA and len(document.contents) != 1:
            text = (f"an embedded ({ref.via}) licence must hold exactly one <content>, "
                    f"found {len(document.contents)}")
            document.nonconformities.append(text)
            document.findings.append(
                finding("rsl-embedded-content-count", text, Severity.ERROR, element="<rsl>")
            )
        return cls(ref=ref, document=document, insecure=insecure)

    @classmethod
    def failed(cls, ref: LicenseRef, error: str) -> LicenseSource:
        """A declared licence that could not be fetched (404, timeout, refused redirect...)."""
        insecure = ref.via in _FETCHED_VIA and ref.url.lower().startswith("http://")
        return cls(ref=ref, error=error, insecure=insecure)


# -- HTTP Link header ---------------------------------------------------------------


def _skip_ws(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t":
        i += 1
    return i


def _quoted(s: str, i: int) -> tuple[str, int]:
    """Read a quoted-string starting at the opening quote; returns (value, index after it)."""
    out: list[str] = []
    i += 1
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            out.append(s[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    return "".join(out), i


def parse_link_header(value: str) -> list[tuple[str, dict[str, str]]]:
    """RFC 8288 link-values of one ``Link`` header: ``[(target, {param: value})]``.

    Tolerant: a malformed link-value is skipped up to the next comma. For a
    repeated parameter the first occurrence counts (RFC 8288 §3.3 for rel).
    """
    links: list[tuple[str, dict[str, str]]] = []
    i, n = 0, len(value)
    while i < n:
        i = _skip_ws(value, i)
        if i >= n:
            break
        if value[i] == ",":
            i += 1
            continue
        if value[i] != "<":
            i = _next_link(value, i)
            continue
        end = value.find(">", i)
        if end < 0:
            break
        target = value[i + 1 : end].strip()
        i = end + 1
        params: dict[str, str] = {}
        while True:
            i = _skip_ws(value, i)
            if i >= n or value[i] != ";":
                break
            i = _skip_ws(value, i + 1)
            start = i
            while i < n and value[i] not in "=;, \t":
                i += 1
            name = value[start:i].lower()
            i = _skip_ws(value, i)
            param = ""
            if i < n and value[i] == "=":
                i = _skip_ws(value, i + 1)
                if i < n and value[i] == '"':
                    param, i = _quoted(value, i)
                else:
                    start = i
                    while i < n and value[i] not in ";, \t":
                        i += 1
                    param = value[start:i]
            if name:
                params.setdefault(name.rstrip("*"), param)
        links.append((target, params))
        i = _next_link(value, i)
    return links


def _next_link(s: str, i: int) -> int:
    """Index just after the next comma outside quotes and angle brackets."""
    quoted = bracket = False
    while i < len(s):
        ch = s[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "<":
            bracket = True
        elif ch == ">":
            bracket = False
        elif ch == "," and not bracket:
            return i + 1
        i += 1
    return i


def _is_rsl_type(media_type: str) -> bool:
    return media_type.split(";", 1)[0].strip().lower() == RSL_MEDIA_TYPE


def discover_from_headers(
    headers: HeadersLike, base_url: str, *, warnings: list[str] | None = None
) -> list[LicenseRef]:
    """RSL licences declared by ``Link`` headers of a response to ``base_url``.

    A target that is not a URL (``<http://a]/l.xml>``) is skipped and a message
    appended to ``warnings`` when given.
    """
    refs: list[LicenseRef] = []
    seen: set[str] = set()
    for value in header_values(header_lines(headers), "link"):
        for target, params in parse_link_header(value):
            if "license" not in params.get("rel", "").lower().split():
                continue
            if not _is_rsl_type(params.get("type", "")) or not target:
                continue
            url = join_url(base_url, target)
            if url is None:
                _note(warnings, f"Link header: RSL licence target {shown(target)!r} is not a URL; skipped")
                continue
            if url in seen:
                continue
            seen.add(url)
            refs.append(
                LicenseRef(url=url, via="link-header", scope="page", element=f"Link: {value.strip()}")
            )
    return refs


# -- HTML -------------------------------------------------------------------------------


def discover_from_html(
    html: str | bytes | HtmlDoc, base_url: str, *, warnings: list[str] | None = None
) -> list[LicenseRef]:
    """RSL licences linked from or inlined in a page at ``base_url``.

    A ``<link>`` outside ``<head>`` is an RSL client extension (non-conformant
    HTML) and still honoured: the publisher evidently meant it. An ``href``
    that is not a URL is skipped and a message appended to ``warnings``.
    """
    doc = parse_html(html)
    refs: list[LicenseRef] = []
    seen: set[str] = set()
    for link in doc.links:
        if "license" not in link.rel or not _is_rsl_type(link.type) or not link.href:
            continue
        url = join_url(base_url, link.href)
        if url is None:
            line = f" line {link.line}" if link.line is not None else ""
            _note(warnings, f"<link rel=\"license\">{line}: href {shown(link.href)!r} is not a URL; skipped")
            continue
        if url in seen:
            continue
        seen.add(url)
        refs.append(
            LicenseRef(
                url=url,
                via="html-link",
                scope="page",
                line=link.line,
                element=f'<link rel="license" type="{RSL_MEDIA_TYPE}" href="{link.href}">',
            )
        )
    for script in doc.scripts_of_type(RSL_MEDIA_TYPE):
        if not script.text.strip():
            continue
        refs.append(
            LicenseRef(
                url=base_url,
                via="html-inline",
                scope="page",
                line=script.line,
                element=f'<script type="{RSL_MEDIA_TYPE}">',
                inline=script.text.strip(),
            )
        )
    return refs


# -- RSS --------------------------------------------------------------------------------


def _child_text(item: Element, name: str) -> str:
    el = item.find(name)
    return (el.text or "").strip() if el is not None else ""


def _item_asset(item: Element) -> str:
    """The asset an item stands for: its ``<link>``, else its enclosure."""
    link = _child_text(item, "link")
    if link:
        return link
    enclosure = item.find("enclosure")
    return (enclosure.get("url") or "").strip() if enclosure is not None else ""


def discover_from_rss(
    body: bytes | str, feed_url: str, *, warnings: list[str] | None = None
) -> list[tuple[str, LicenseSource]]:
    """``(asset url, licence)`` for every ``rsl:content`` in the items of an RSS 2.0 feed.

    Each licence is parsed here (it is inline). An asset on another origin
    than the feed is skipped and a message appended to ``warnings`` when
    given. Raises ``SignalError`` when the feed itself cannot be read.
    """
    root = parse_xml(body, what="RSS feed", limit=MAX_FEED_BYTES)
    if root.tag != "rss":
        local = str(root.tag).rsplit("}", 1)[-1]
        raise SignalError(f"not an RSS 2.0 feed: the root element is <{local}>")
    try:
        feed = urlsplit(feed_url)
    except ValueError:
        raise SignalError(f"the feed URL {shown(feed_url)!r} is not a URL") from None
    feed_origin = origin_of(feed.scheme, feed.netloc)
    found: list[tuple[str, LicenseSource]] = []
    for number, item in enumerate(root.iter("item"), start=1):
        for content in item.iter(_NS + "content"):
            declared = (content.get("url") or "").strip()
            if not declared and not _item_asset(item):
                _note(warnings, f"RSS item {number}: rsl:content without url and the item has no link; skipped")
                continue
            asset = join_url(feed_url, declared or _item_asset(item))
            if asset is None:
                _note(warnings, f"RSS item {number}: asset URL {shown(declared or _item_asset(item))!r} "
                                "is not a URL; skipped")
                continue
            parts = urlsplit(asset)
            if origin_of(parts.scheme, parts.netloc) != feed_origin:
                _note(
                    warnings,
                    f"RSS item {number}: rsl:content url {asset} is not on the feed's origin "
                    f"{feed_origin}; skipped",
                )
                continue
            wrapper = Element(_NS + "rsl")
            wrapper.append(content)
            try:
                xml = tostring(wrapper, encoding="unicode")
            except RecursionError:
                _note(warnings, f"RSS item {number}: rsl:content is nested too deeply; skipped")
                continue
            ref = LicenseRef(
                url=feed_url,
                via="rss",
                scope="page",
                element=f'<item> {number} <rsl:content url="{declared}">',
                inline=xml,
            )
            found.append((asset, LicenseSource.from_body(ref, xml)))
    return found


def _note(warnings: list[str] | None, message: str) -> None:
    if warnings is not None:
        warnings.append(message)
