"""The links a crawled page leads to: absolute, normalised, nofollow honoured.

Pure string and tree work, shared by the spider (pages parsed on the reactor)
and the extraction pool's processes (pages parsed there, see
``crawler.extract_pool``): the crawler resolves every link of every page, so
the common shapes of link skip ``urljoin``.
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urljoin, urlsplit

from norms.html import HtmlDoc, parse_html
from norms.model import SignalError
from norms.urls import normalize_url

MAX_LINKS_PER_PAGE = 500


def page_links(html: str | bytes | HtmlDoc, base_url: str, limit: int | None = MAX_LINKS_PER_PAGE) -> list[str]:
    """Absolute http(s) links of a page, without fragments; none if the page says ``nofollow``.

    At most ``limit`` (None: all of them; the crawl applies ``--max-links`` and records the rest).

    Honours ``<meta name="robots" content="nofollow">`` (or ``none``) for the
    whole page and ``rel="nofollow"`` per link.
    """
    doc = parse_html(html)
    if doc.root is None:
        return []
    for meta in doc.meta("robots"):
        tokens = {t.strip().lower() for t in meta.content.split(",")}
        if tokens & {"nofollow", "none"}:
            return []
    base = base_url
    for link in doc.links:
        if "base" in link.rel and link.href:  # pragma: no cover - <base> is not a rel link
            base = urljoin(base_url, link.href)
    origin = _origin(base)
    out: list[str] = []
    seen: set[str] = set()
    for a in doc.root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or "nofollow" in (a.get("rel") or "").lower().split():
            continue
        url = resolve_link(base, origin, href)
        if url is None or url in seen:
            continue
        seen.add(url)
        out.append(url)
        if limit is not None and len(out) >= limit:
            break
    return out


# hrefs whose resolution is plain string work: an absolute http(s) URL, or a path
# from the root, with no dot segment, fragment, empty query or ';' params that
# urljoin would rewrite. Everything else takes urljoin (tests check both agree).
_PLAIN_ABSOLUTE = re.compile(r"https?://[A-Za-z0-9.\-]+(?::[0-9]+)?(?:/[A-Za-z0-9\-._~/%!$&'()*+,=:@]*)?(?:\?[A-Za-z0-9\-._~/%!$&'()*+,=:@?]+)?")
_PLAIN_PATH = re.compile(r"/(?!/)[A-Za-z0-9\-._~/%!$&'()*+,=:@]*(?:\?[A-Za-z0-9\-._~/%!$&'()*+,=:@?]+)?")


def _origin(base: str) -> str | None:
    """``scheme://netloc`` of an http(s) base URL, the prefix of every root-relative link; None otherwise."""
    try:
        parts = urlsplit(base)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def resolve_link(base: str, origin: str | None, href: str) -> str | None:
    """``href`` made absolute against ``base`` (whose origin is ``origin``) and normalised; None unless http(s).

    Exactly ``normalize_url(urldefrag(urljoin(base, href)))`` restricted to
    http(s) (RFC 3986 normal form: dot segments, ``%2E%2E`` included, are
    resolved *before* the URL is decided or requested), with the common shapes
    of link done by string work: the crawler resolves every link of every
    page, and urljoin was a tenth of its time per page. A link that is no
    valid URL is skipped.
    """
    try:
        if _PLAIN_ABSOLUTE.fullmatch(href):
            return normalize_url(href)
        if origin is not None and _PLAIN_PATH.fullmatch(href) and "/." not in href.partition("?")[0]:
            return normalize_url(origin + href)
        url = urldefrag(urljoin(base, href))[0]
        scheme = urlsplit(url).scheme
        return normalize_url(url) if scheme in ("http", "https") else None
    except (ValueError, SignalError):  # e.g. an invalid IPv6 literal in the href
        return None


def normal_or_none(url: str) -> str | None:
    """``url`` in normal form (``norms.urls``), or None when it is no valid URL."""
    try:
        return normalize_url(url)
    except SignalError:
        return None
