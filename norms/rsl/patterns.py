"""Matching an RSL ``<content url>`` against the URL of an asset.

RSL 1.0 reuses RFC 9309 path patterns (``*`` for any run of characters, a
trailing ``$`` to anchor the end, otherwise a prefix match). Real documents
also write absolute URLs (``url="https://example.com/*"``), which older
drafts allowed: for those the scheme and host must match before the path part
is compared. ``url=""`` means "the scope of this placement" (inline HTML,
RSS item, file metadata): the caller only evaluates such a document for the
asset it was found with, so it matches any URL.

Matching runs for every crawled page, so each pattern is compiled once, into
``norms.pathpattern.PathPattern``, the matcher robots.txt and TDMRep use too:
linear in pattern x path, so a hostile ``/*a*a*a*a*a*a*a*a*b`` cannot stall a
crawl. The URL is normalised first (``norms.urls``: dot segments removed,
percent-encoding normalised).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote, urlsplit

from norms.http import ABSOLUTE_URL
from norms.model import SignalError
from norms.pathpattern import PathPattern, match_target, normalize_pattern
from norms.urls import collapse_empty_segments, normal_path_start, normalize_url

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# Everything printable in ASCII stays as written; only non-ASCII and spaces get encoded.
_SAFE = "!#$%&'()*+,-./:;=?@[]_~"
_DEFAULT_PORTS = {"http": "80", "https": "443"}
# scheme, authority, path-and-query of an absolute URL (the fragment never matters).
_ABSOLUTE = ABSOLUTE_URL


def _unescape_unreserved(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def normalise_path(path: str) -> str:
    """RFC 9309 §2.2.2: encode non-ASCII octets, decode escaped unreserved ones, uppercase the rest."""
    if not path.isascii() or " " in path:
        path = quote(path, safe=_SAFE)
    if "%" in path:
        path = _ESCAPE.sub(_unescape_unreserved, path)
    return path


@lru_cache(maxsize=4096)
def origin_of(scheme: str, netloc: str) -> str:
    """``scheme://host[:port]`` lowercased, with the scheme's default port dropped."""
    scheme = scheme.lower()
    host = netloc.rsplit("@", 1)[-1].lower()
    if ":" in host and not host.endswith("]"):
        name, _, port = host.rpartition(":")
        if port == _DEFAULT_PORTS.get(scheme) or not port:
            host = name
    return f"{scheme}://{host}"


def split_url(url: str) -> tuple[str, str]:
    """``(origin, normalised path-and-query)`` of an absolute URL; origin is "" for a bare path."""
    start = normal_path_start(url)
    if start >= 0:
        # Already in normal form (what the crawler and evaluate pass): a lower-case http(s)
        # scheme and host, no userinfo, no default port, so what precedes the path is the origin.
        return url[:start], url[start:]
    try:
        if url.startswith("/") and not url.startswith("//"):
            return "", match_target(url)
        normal = normalize_url(url)
        m = _ABSOLUTE.match(normal)
        if m is not None:
            return origin_of(m.group(1), m.group(2)), match_target(normal)
    except SignalError:
        pass
    m = _ABSOLUTE.match(url)
    if m is not None:
        path = m.group(3)
        if not path.startswith("/"):
            path = "/" + path
        return origin_of(m.group(1), m.group(2)), normalise_path(path)
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    origin = origin_of(parts.scheme, parts.netloc) if parts.scheme and parts.netloc else ""
    return origin, normalise_path(path)


def collapsed(path: str) -> str | None:
    """The path with its empty segments merged, when it has any (judged too: see norms.urls)."""
    at = path.find("//")
    if at < 0:
        return None
    query = path.find("?")
    return collapse_empty_segments(path) if query < 0 or at < query else None


class UrlPattern:
    """One compiled ``<content url>`` value.

    ``specificity`` orders matching patterns: the longest path pattern is the
    narrowest scope (as in RFC 9309), and an absolute URL is narrower than a
    bare path of the same length because it also pins the host.
    """

    __slots__ = ("match_path", "origin", "path", "raw", "specificity")

    def __init__(self, raw: str, *, exact: bool = False) -> None:
        self.raw = raw
        value = raw.strip()
        origin = ""
        if "://" in value:
            parts = urlsplit(value)
            origin = origin_of(parts.scheme, parts.netloc)
            value = parts.path or "/"
            if parts.query:
                value = f"{value}?{parts.query}"
        elif value and not value.startswith(("/", "*")):
            value = "/" + value
        self.origin = origin
        self.path = normalize_pattern(value) if value else ""
        if exact and not self.path.endswith("$"):
            self.path += "$"
        self.specificity = len(self.path) * 2 + (1 if origin else 0)
        #: The path part alone (``PathPattern.match`` on a normalised path and query).
        self.match_path = PathPattern(self.path, normalized=True).match

    def matches(self, origin: str, path: str) -> bool:
        """Does the asset at ``origin`` + normalised ``path`` fall under this pattern?"""
        if self.origin and origin and self.origin != origin:
            return False
        return self.match_path(path)
