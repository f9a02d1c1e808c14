"""Host footprint from sitemaps the caller fetched: how big the site is and how uniform its URLs are.

A platform publishes millions of pages under a handful of id-bearing URL
templates (``/watch?v={v}``, ``/questions/{n}/{slug}``); a first-party site
has a few hundred hand-made paths. These functions are pure and bounded:
they read at most ``MAX_BYTES`` of a sitemap (after decompression) and at
most ``MAX_ENTRIES`` entries, never the whole file.
"""

from __future__ import annotations

import io
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from norms.classify.model import ClassEvidence, SitemapStats, SourceClass
from norms.lenient import utf8
from norms.model import SignalError

MAX_BYTES = 512 * 1024
MAX_ENTRIES = 5000
MAX_CHILDREN_KEPT = 50
URLS_PER_SITEMAP = 50_000  # the sitemaps.org per-file ceiling
PLATFORM_SCALE = 1_000_000
SMALL_SITE = 50_000

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_HEX = re.compile(r"^[0-9a-f]{8,}$", re.I)
_ID = re.compile(r"^[A-Za-z0-9_-]{6,}$")
_SEP = re.compile(r"[-_.+~%]")
_DIGIT_RUN = re.compile(r"\d{3,}")
_WORD_NUMBER = re.compile(r"^[A-Za-z]+\d{1,4}$")  # "section3", "page2026": a name, not an id
ID_PLACEHOLDERS = ("{n}", "{uuid}", "{hex}", "{id}", "{sid}", "{v}")


def _segment(seg: str) -> str:
    if not seg:
        return seg
    if seg.isdigit():
        return "{n}"
    if _UUID.match(seg):
        return "{uuid}"
    if _HEX.match(seg) and any(c.isdigit() for c in seg):
        return "{hex}"
    has_digit = any(c.isdigit() for c in seg)
    if _SEP.search(seg):
        # "ShowUserReviews-g2001-d1001-r100100.html", "why-tests-matter-3f9a1c2b7d4e": a slug carrying an id
        if _DIGIT_RUN.search(seg) or any(_HEX.match(tok) and any(c.isdigit() for c in tok) for tok in _SEP.split(seg)):
            return "{sid}"
        if len(seg) >= 12 or has_digit:
            return "{slug}"
    if has_digit and _ID.match(seg) and any(c.isalpha() for c in seg) and not _WORD_NUMBER.match(seg):
        return "{id}"
    return seg.lower()


def url_template(url: str) -> str:
    """The shape of ``url``: ids, hex, uuids and slugs replaced by placeholders, query values by ``{v}``.

    ``{sid}`` is a slug that carries an id (a run of 3+ digits or a hex token).
    ``/questions/231767/what-does-yield-do`` -> ``/questions/{n}/{slug}``;
    ``/watch?v=dQw4w9WgXcQ`` -> ``/watch?v={v}``.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "{invalid}"
    path = "/".join(_segment(s) for s in parts.path.split("/")) or "/"
    if parts.query:
        names = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
        if names:
            path += "?" + "&".join(f"{k}={{v}}" for k in names)
    return path


def is_id_template(template: str) -> bool:
    return any(p in template for p in ID_PLACEHOLDERS)


def _decompress(data: bytes) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data[:MAX_BYTES]
    try:
        out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, MAX_BYTES)
    except zlib.error as exc:
        raise SignalError(f"sitemap is gzip-compressed but cannot be decompressed ({exc})") from None
    if not out:
        raise SignalError("sitemap is gzip-compressed but cannot be decompressed (no data)")
    return out


def sitemap_stats(xml: bytes | str, *, url: str) -> SitemapStats:
    """Read the first ``MAX_BYTES`` / ``MAX_ENTRIES`` of a sitemap (XML, gzip or plain text).

    Raises ``SignalError`` when the document is empty, not a sitemap
    (another root element), forbidden XML (entities, DTD tricks) or broken
    before its first entry. A document cut off by the limits is read up to
    the cut and marked ``truncated``.
    """
    data = utf8(xml) if isinstance(xml, str) else bytes(xml)
    cut = len(data) > MAX_BYTES and data[:2] != b"\x1f\x8b"
    body = _decompress(data)
    cut = cut or len(body) >= MAX_BYTES
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise SignalError(f"sitemap {url} is empty")
    if not head.startswith(b"<"):
        return _text_sitemap(head, url, cut)
    return _xml_sitemap(body, url, cut)


def _text_sitemap(body: bytes, url: str, cut: bool) -> SitemapStats:
    lines = [ln.strip() for ln in body.decode("utf-8", errors="replace").splitlines()]
    if cut and lines:
        lines = lines[:-1]  # the last line may be cut in the middle
    locs = [ln for ln in lines if ln.startswith(("http://", "https://"))]
    if not locs:
        raise SignalError(f"sitemap {url} is neither XML nor a list of URLs")
    truncated = cut or len(locs) > MAX_ENTRIES
    locs = locs[:MAX_ENTRIES]
    return SitemapStats(
        url=url, kind="text", entries=len(locs), truncated=truncated,
        estimated_urls=len(locs), templates=dict(Counter(url_template(u) for u in locs)),
    )


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _xml_sitemap(body: bytes, url: str, cut: bool) -> SitemapStats:
    kind = ""
    depth = 0
    locs: list[str] = []
    latest: str | None = None
    truncated = cut
    try:
        for event, el in iterparse(io.BytesIO(body), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                depth += 1
                if depth == 1:
                    kind = _local(el.tag)
                    if kind not in ("urlset", "sitemapindex"):
                        raise SignalError(f"{url} is not a sitemap: its root element is <{kind}>")
                continue
            depth -= 1
            name = _local(el.tag)
            if depth == 2 and name == "loc" and el.text:
                locs.append(el.text.strip())
                if len(locs) >= MAX_ENTRIES:
                    truncated = True
                    break
            elif depth == 2 and name == "lastmod" and el.text:
                value = el.text.strip()
                if latest is None or value > latest:
                    latest = value
            elif depth == 1:
                el.clear()
    except ParseError as exc:
        if not kind or (not locs and not cut):
            raise SignalError(f"sitemap {url} is not well-formed XML ({exc})") from None
        truncated = True
    except DefusedXmlException as exc:
        raise SignalError(f"sitemap {url} uses forbidden XML constructs ({type(exc).__name__})") from None
    except (LookupError, ValueError, UnicodeError) as exc:
        # An unknown or unsupported encoding in the XML declaration (encoding="bogus").
        raise SignalError(f"sitemap {url} cannot be decoded ({exc})") from None
    if kind == "sitemapindex":
        return SitemapStats(
            url=url, kind=kind, entries=len(locs), truncated=truncated,
            children=tuple(locs[:MAX_CHILDREN_KEPT]), estimated_urls=len(locs) * URLS_PER_SITEMAP,
            latest_lastmod=latest,
        )
    return SitemapStats(
        url=url, kind=kind, entries=len(locs), truncated=truncated, estimated_urls=len(locs),
        templates=dict(Counter(url_template(u) for u in locs)), latest_lastmod=latest,
    )


def _concentration(templates: Counter[str]) -> tuple[float, list[str]]:
    total = sum(templates.values())
    if not total:
        return 0.0, []
    top = [t for t, _ in templates.most_common(3)]
    return sum(templates[t] for t in top) / total, top


def footprint_evidence(stats: Iterable[SitemapStats]) -> list[ClassEvidence]:
    """Evidence from one or more sitemaps of one host (an index plus sampled children, say).

    ``platform-scale`` (aggregator +2): >= 1M URLs implied and >= 80% of
    sampled URLs under <= 3 id-bearing templates. ``large-footprint``
    (aggregator +1): >= 1M URLs but no URL sample to judge templates.
    ``small-footprint`` (canonical +1): every sitemap complete and < 50k URLs.
    """
    items = list(stats)
    if not items:
        return []
    estimate = max(s.estimated_urls for s in items)
    templates: Counter[str] = Counter()
    for s in items:
        templates.update(s.templates)
    where = "sitemap " + ", ".join(s.url for s in items[:3])
    if estimate >= PLATFORM_SCALE:
        share, top = _concentration(templates)
        if top and share >= 0.8 and all(is_id_template(t) for t in top):
            raw = f"~{estimate:,} URLs; {share:.0%} of {sum(templates.values())} sampled under {', '.join(top)}"
            return [ClassEvidence(marker="platform-scale", where=where, raw=raw, weight=2,
                                  source_class=SourceClass.AGGREGATOR)]
        return [ClassEvidence(marker="large-footprint", where=where, raw=f"~{estimate:,} URLs",
                              weight=1 if not top else 0, source_class=SourceClass.AGGREGATOR)]
    if estimate < SMALL_SITE and not any(s.truncated for s in items):
        return [ClassEvidence(marker="small-footprint", where=where, raw=f"{estimate:,} URLs",
                              weight=1, source_class=SourceClass.CANONICAL)]
    return []
