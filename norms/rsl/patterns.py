"""Matching an RSL ``<content url>`` against the URL of an asset.

RSL 1.0 reuses RFC 9309 path patterns (``*`` for any run of characters, a
trailing ``$`` to anchor the end, otherwise a prefix match). Real documents
also write absolute URLs (``url="https://example.com/*"``), which older
drafts allowed: for those the scheme and host must match before the path part
is compared. ``url=""`` means "the scope of this placement" (inline HTML,
RSS item, file metadata): the caller only evaluates such a document for the
asset it was found with, so it matches any URL.

Matching runs for every crawled page, so each pattern is compiled once;
plain prefixes (the common case) avoid regular expressions entirely.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote, urlsplit

from norms.http import ABSOLUTE_URL

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


class UrlPattern:
    """One compiled ``<content url>`` value.

    ``specificity`` orders matching patterns: the longest path pattern is the
    narrowest scope (as in RFC 9309), and an absolute URL is narrower than a
    bare path of the same length because it also pins the host.
    """

    __slots__ = ("_prefix", "_regex", "origin", "path", "raw", "specificity")

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
        self.path = normalise_path(value) if value else ""
        if exact and not self.path.endswith("$"):
            self.path += "$"
        self.specificity = len(self.path) * 2 + (1 if origin else 0)
        if "*" in self.path or self.path.endswith("$"):
            anchored = self.path.endswith("$")
            body = self.path[:-1] if anchored else self.path
            regex = ".*".join(re.escape(piece) for piece in body.split("*"))
            self._regex: re.Pattern[str] | None = re.compile(regex + (r"\Z" if anchored else ""), re.S)
            self._prefix = ""
        else:
            self._regex = None
            self._prefix = self.path

    def matches(self, origin: str, path: str) -> bool:
        """Does the asset at ``origin`` + normalised ``path`` fall under this pattern?"""
        if self.origin and origin and self.origin != origin:
            return False
        if self._regex is not None:
            return self._regex.match(path) is not None
        return path.startswith(self._prefix)
