"""Response headers as the norms engine sees them: an ordered list of (name, value) lines.

Repeated header lines matter (``X-Robots-Tag`` may appear several times with a
different bot prefix each), so we never fold them into a dict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit


class HeaderLines(tuple[tuple[str, str], ...]):
    """Ordered ``(lowercase-name, stripped-value)`` pairs, already normalised.

    A distinct type so that every reader can pass it on without normalising
    again: one response's headers are read by half a dozen signal readers.
    """

    __slots__ = ()


HeadersLike = Mapping[str, str] | Mapping[str, list[str]] | Iterable[tuple[str, str]] | None
_NO_HEADERS = HeaderLines()


def header_lines(headers: HeadersLike) -> HeaderLines:
    """Normalise any common header shape to ordered ``(lowercase-name, value)`` pairs."""
    if isinstance(headers, HeaderLines):
        return headers
    if headers is None:
        return _NO_HEADERS
    out: list[tuple[str, str]] = []
    items: Iterable[tuple[str, object]]
    items = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in items:
        key = (name.decode("latin-1") if isinstance(name, bytes) else str(name)).strip().lower()
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            text = v.decode("latin-1") if isinstance(v, bytes) else str(v)
            out.append((key, text.strip()))
    return HeaderLines(out)


def header_values(headers: Iterable[tuple[str, str]], name: str) -> list[str]:
    """All values of header ``name`` (case-insensitive), in order, one per line."""
    key = name.lower()
    return [v for k, v in headers if k == key]


# scheme, authority, path-and-query (the fragment dropped): urlsplit's answer
# for absolute URLs at a fraction of its cost, which matters per request.
ABSOLUTE_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)([^#]*)")


def path_and_query(url: str) -> str:
    """The part of ``url`` robots-style patterns are matched against: ``/path?query`` (``/`` if empty)."""
    m = ABSOLUTE_URL.match(url)
    if m is not None:
        rest = m.group(3)
        if rest.find("?") == len(rest) - 1:  # an empty query: urlsplit drops the "?"
            rest = rest[:-1]
        if not rest.startswith("/"):
            rest = "/" + rest
        return rest
    try:
        parts = urlsplit(url)
    except ValueError:
        return "/"
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path
