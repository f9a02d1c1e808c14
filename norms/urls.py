"""URL normalisation (RFC 3986 section 6): one spelling per resource, before any decision.

A path rule (robots.txt ``Disallow``, a tdmrep.json ``location``, an RSL
``<content url>``) is only as good as the URL it is compared with. A hostile
page links ``http://host/public/../private/a`` or ``/public/%2E%2E/private/c``;
the server resolves both to ``/private/a``, a comparison on the raw string
does not. ``normalize_url`` therefore produces the form every decision and
every request uses:

* scheme and host lower-cased; an internationalised host in its ASCII
  (IDNA 2008 / UTS 46) form; the scheme's default port dropped, a port
  written with leading zeros read as its number;
* percent-encoding normalised (6.2.2.2): escapes of unreserved characters
  (``A-Z a-z 0-9 - . _ ~``) decoded, every other escape upper-cased and kept
  (``%3F`` stays distinct from ``?``, ``%2F`` from ``/``), characters a URI
  may not hold (non-ASCII as UTF-8, space, ``"<>{}|^```) encoded, a ``%``
  that starts no escape written ``%25``;
* dot segments removed (6.2.2.3, the algorithm of 5.2.4) *after* decoding,
  so ``%2E%2E`` is a dot segment too; a backslash in an http(s) path is read
  as ``/``, as browsers read it (and servers such as IIS do);
* an empty http(s) path written ``/`` (6.2.3); the fragment dropped.

Empty segments (``http://host//private/x``) are kept: RFC 3986 makes
``//private/x`` a different path from ``/private/x``, and a server may serve
them differently. Many servers merge the slashes, though, so the deciders
(``norms.robots``, ``norms.tdmrep``, ``norms.rsl``) judge such a URL as
written *and* with its empty segments collapsed (``collapse_empty_segments``)
and apply the stricter answer; see docs/norms.md.

Pure: no I/O, no DNS. Anything that is not an absolute hierarchical URL (no
``scheme://``), has an invalid host or port, or cannot be encoded raises
``norms.SignalError``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from norms.model import SignalError

__all__ = [
    "collapse_empty_segments",
    "has_empty_segments",
    "normalize_path",
    "normalize_url",
    "remove_dot_segments",
    "resolve_url",
]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
_SPECIAL = frozenset(("http", "https", "ws", "wss", "ftp"))
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_HEX = frozenset("0123456789ABCDEFabcdef")
# Characters a path or query may hold as they are (RFC 3986 pchar plus "/" and "?").
_PCHAR = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*\Z")
# An http(s) URL already in normal form, the common case: a lower-case host of
# plain characters, a port that is not the default one, a path and query of
# characters that need no encoding (no "%", "\\" or fragment), no dot segment.
# Short URLs are checked with one regex; long ones (a hostile 20,000-character
# URL) with C-speed string scans instead, which cost microseconds.
_NORMAL = re.compile(
    r"(https?)://([a-z0-9](?:[a-z0-9\-.]*[a-z0-9])?)(?::([1-9][0-9]{0,4}))?"
    r"(/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*)(\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*)?"
).fullmatch
# The commonest case of all, in one regex and no further test: no port, and no "/."
# before the query (a dot segment, or a name starting with a dot, left to the full
# path); group 1 is the path.
_NORMAL_PLAIN = re.compile(
    r"https?://[a-z0-9](?:[a-z0-9\-.]*[a-z0-9])?(?![^?]*/\.)"
    r"(/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*)(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*)?"
).fullmatch
_NORMAL_HEAD = re.compile(r"(https?)://([a-z0-9](?:[a-z0-9\-.]*[a-z0-9])?)(?::([1-9][0-9]{0,4}))?(?=/)").match
_NORMAL_BYTES = bytes(sorted(ord(c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?"))


def normal_path_start(url: str) -> int:
    """Where the path starts if ``url`` is an http(s) URL already in normal form, else -1 (a quick test).

    The last answer is remembered for the same string object: ``evaluate``
    normalises a URL and each reader then asks again about that very object.
    """
    global _LAST
    last = _LAST  # one tuple, replaced whole: safe across threads
    if url is last[0]:
        return last[1]
    start = _path_start(url)
    _LAST = (url, start)
    return start


_LAST: tuple[Any, int] = (None, -1)


def _path_start(url: str) -> int:
    if len(url) < 1024:
        m = _NORMAL_PLAIN(url)
        if m is not None:
            return m.start(1)
        m = _NORMAL(url)
        if m is None:
            return -1
        start, end = m.span(4)
        if url.find("/.", start, end) >= 0:
            return -1
    else:
        m = _NORMAL_HEAD(url)
        if m is None:
            return -1
        start = m.end()
        query = url.find("?", start)
        if (
            not url.isascii()
            or url.encode("ascii").translate(None, _NORMAL_BYTES)  # anything but pchar, "/" and "?"
            or url.find("/.", start, query if query >= 0 else len(url)) >= 0
        ):
            return -1
    port = m.group(3)
    if port is not None and (int(port) == _DEFAULT_PORTS[m.group(1)] or int(port) > 65535):
        return -1
    return start
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def _fix_escape(m: re.Match[str]) -> str:
    char = chr(int(m.group(1), 16))
    return char if char in _UNRESERVED else "%" + m.group(1).upper()


def _encode(text: str, allowed: frozenset[str], *, lenient: bool = False) -> str:
    """Percent-encoding normalised: unreserved escapes decoded, others upper-cased, the rest encoded."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "%":
            if i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
                char = chr(int(text[i + 1 : i + 3], 16))
                out.append(char if char in _UNRESERVED else "%" + text[i + 1 : i + 3].upper())
                i += 3
                continue
            out.append("%25")
        elif c in allowed:
            out.append(c)
        else:
            try:
                data = c.encode("utf-8")
            except UnicodeEncodeError as exc:
                if not lenient:
                    raise SignalError("URL holds a lone surrogate, which has no encoding") from exc
                # A pattern written with one: encoded as is, so it can never match a valid URL.
                data = c.encode("utf-8", "surrogatepass")
            out.append("".join(f"%{b:02X}" for b in data))
        i += 1
    return "".join(out)


def remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, as written: ``/a/b/c/./../../g`` -> ``/a/g``."""
    if "." not in path:
        return path
    inp = path
    out: list[str] = []
    while inp:
        if inp.startswith("../"):
            inp = inp[3:]
        elif inp.startswith("./") or inp.startswith("/./"):
            inp = inp[2:]
        elif inp == "/.":
            inp = "/"
        elif inp.startswith("/../"):
            inp = inp[3:]
            if out:
                out.pop()
        elif inp == "/..":
            inp = "/"
            if out:
                out.pop()
        elif inp in (".", ".."):
            inp = ""
        else:
            start = 1 if inp.startswith("/") else 0
            end = inp.find("/", start)
            if end < 0:
                end = len(inp)
            out.append(inp[:end])
            inp = inp[end:]
    return "".join(out)


def normalize_path(path: str, *, special: bool = True) -> str:
    """A path (with its query, if any) in normal form: escapes normalised, dot segments removed.

    ``special`` (http(s) and the like) reads ``\\`` as ``/`` and writes an
    empty path as ``/``. The query is only percent-normalised.
    """
    raw_path, q, query = path.partition("?")
    if special and "\\" in raw_path:
        raw_path = raw_path.replace("\\", "/")
    clean = remove_dot_segments(_encode(raw_path, _PCHAR))
    if special and not clean.startswith("/"):
        clean = "/" + clean
    if q:
        clean += "?" + _encode(query, _PCHAR)
    return clean


def _host(host: str, url: str) -> str:
    if host.startswith("["):
        if not host.endswith("]"):
            raise SignalError(f"invalid IPv6 host in {url[:200]!r}")
        inner = host[1:-1]
        if inner[:1] in ("v", "V"):
            if not re.fullmatch(r"[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+", inner):
                raise SignalError(f"invalid IP literal in {url[:200]!r}")
            return "[" + inner.lower() + "]"
        try:
            return "[" + ipaddress.IPv6Address(inner.split("%25", 1)[0]).compressed + "]"
        except ValueError as exc:
            raise SignalError(f"invalid IPv6 host in {url[:200]!r}") from exc
    if "%" in host:
        from urllib.parse import unquote_to_bytes

        try:
            host = unquote_to_bytes(host).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SignalError(f"host of {url[:200]!r} is not UTF-8") from exc
    if not host.isascii():
        import idna

        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError) as exc:
            raise SignalError(f"host of {url[:200]!r} is not a valid internationalised name") from exc
    host = host.lower()
    if not set(host) <= _HOST_CHARS:
        raise SignalError(f"invalid character in the host of {url[:200]!r}")
    return host


def _split(url: str) -> tuple[str, str, str, str]:
    """``(scheme, authority, path, query-with-?)`` of an absolute URL, fragment dropped."""
    if not isinstance(url, str):
        raise SignalError(f"a URL must be a str, not {type(url).__name__}")
    text = url.strip(" \t\n\r\f\v\x00")
    if any(c in text for c in "\t\n\r"):
        # Browsers drop tabs and line breaks inside a URL (WHATWG URL, "basic URL parser").
        text = text.replace("\t", "").replace("\n", "").replace("\r", "")
    scheme, sep, rest = text.partition(":")
    if not sep or not _SCHEME.match(scheme):
        raise SignalError(f"not an absolute URL: {url[:200]!r}")
    scheme = scheme.lower()
    special = scheme in _SPECIAL
    if special and "\\" in rest:
        cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
        rest = rest[:cut].replace("\\", "/") + rest[cut:]
    if not rest.startswith("//"):
        raise SignalError(f"not a hierarchical URL (no '//' authority): {url[:200]!r}")
    rest = rest[2:]
    rest = rest.partition("#")[0]
    end = len(rest)
    for stop in ("/", "?"):
        at = rest.find(stop)
        if 0 <= at < end:
            end = at
    authority, tail = rest[:end], rest[end:]
    path, _, query = tail.partition("?")
    return scheme, authority, path, ("?" + query) if "?" in tail else ""


def normalize_url(url: str) -> str:
    """``url`` in RFC 3986 normal form (see the module docstring); ``SignalError`` if it is not a valid URL.

    A URL already in normal form (``normal_path_start``: one regex, the common
    case) comes back as it is; tests/norms/test_urls_fast_path.py checks that
    the full normalisation would return it unchanged.
    """
    if isinstance(url, str) and normal_path_start(url) >= 0:
        return url
    return _normalize(url)


def _normalize(url: str) -> str:
    """``normalize_url`` without the fast path."""
    scheme, authority, path, query = _split(url)
    userinfo, at, hostport = authority.rpartition("@")
    if at:
        userinfo = _encode(userinfo, _HOST_CHARS | set("ABCDEFGHIJKLMNOPQRSTUVWXYZ:")) + "@"
    host, port = hostport, ""
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            raise SignalError(f"invalid IPv6 host in {url[:200]!r}")
        host, rest = hostport[: close + 1], hostport[close + 1 :]
        if rest and not rest.startswith(":"):
            raise SignalError(f"invalid authority in {url[:200]!r}")
        port = rest[1:]
    elif ":" in hostport:
        host, _, port = hostport.rpartition(":")
    host = _host(host, url)
    if not host and scheme in _SPECIAL:
        raise SignalError(f"no host in {url[:200]!r}")
    if port:
        if not port.isascii() or not port.isdigit() or int(port) > 65535:
            raise SignalError(f"invalid port in {url[:200]!r}")
        number = int(port)
        port = "" if number == _DEFAULT_PORTS.get(scheme) else f":{number}"
    special = scheme in _SPECIAL
    target = normalize_path(path + query, special=special) if (path or query or special) else ""
    return f"{scheme}://{userinfo if at else ''}{host}{port}{target}"


def has_empty_segments(path: str) -> bool:
    """Does the path part (before any ``?``) of a normalised path hold ``//``?"""
    return "//" in path.partition("?")[0]


def collapse_empty_segments(path: str) -> str:
    """``//private//x?q=//`` -> ``/private/x?q=//``: empty path segments merged, the query untouched."""
    head, q, query = path.partition("?")
    return re.sub(r"/{2,}", "/", head) + q + query


_ABSOLUTE_REF = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def resolve_url(base: str, ref: str) -> str:
    """RFC 3986 5.2.2 reference resolution of ``ref`` against ``base``, then ``normalize_url``.

    ``base`` must be an absolute hierarchical URL; the fragment is dropped.
    """
    ref = ref.strip(" \t\n\r\f\v\x00").partition("#")[0]
    if _ABSOLUTE_REF.match(ref):
        return normalize_url(ref)
    scheme, authority, path, query = _split(base)
    special = scheme.lower() in _SPECIAL
    if special and "\\" in ref.split("?", 1)[0]:
        head, q, tail = ref.partition("?")
        ref = head.replace("\\", "/") + q + tail
    if ref.startswith("//"):
        return normalize_url(f"{scheme}:{ref}")
    ref_path, q, ref_query = ref.partition("?")
    if not ref_path:
        new_path = path
        new_query = ("?" + ref_query) if q else query
    else:
        if ref_path.startswith("/"):
            new_path = ref_path
        elif authority and not path:
            new_path = "/" + ref_path
        else:
            new_path = path[: path.rfind("/") + 1] + ref_path
        new_query = ("?" + ref_query) if q else ""
    return normalize_url(f"{scheme}://{authority}{remove_dot_segments(new_path)}{new_query}")
