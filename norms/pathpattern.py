"""RFC 9309 path patterns, shared by robots.txt rules, tdmrep.json ``location`` and RSL ``<content url>``.

A pattern is a path prefix in which ``*`` stands for any run of characters
and a final ``$`` anchors the end of the path; every other character,
``$`` elsewhere included, is literal. All three standards use that grammar,
so they share one matcher with one cost model: **linear** in pattern x path,
never backtracking. ``/*a*a*a*a*a*a*a*a*b`` against 60 ``a``s is one
left-to-right scan, where a regular expression ``.*a.*a...`` tries
exponentially many splits.

How: the literal pieces between ``*``s are found left to right, each at its
leftmost occurrence after the previous one (``str.find``, a linear C search).
Taking the leftmost occurrence is never wrong for ``*``-only patterns: it
leaves the most room for the pieces after it. With a final ``$`` the last
piece must end the path, at or after where the previous piece ended.

Both sides are compared in one normal form (RFC 9309 2.2.2, RFC 3986 6.2.2):

* a URL's path and query come from ``norms.urls.normalize_url`` (escapes of
  unreserved characters decoded, other escapes upper-cased, dot segments
  removed);
* a pattern gets the same percent-encoding normalisation, without dot-segment
  removal (a pattern is not a URL), keeping ``*`` and its final ``$``;
* a reserved character and its escape stay distinct (``?`` vs ``%3F``, ``=``
  vs ``%3D``, ``/`` vs ``%2F``): RFC 3986 says they may mean different things,
  and so does Google's reference parser.
"""

from __future__ import annotations

import re

from norms.urls import _PCHAR, _encode, normal_path_start, normalize_path, normalize_url

__all__ = ["PathPattern", "match_target", "normalize_pattern"]

# Everything a pattern may hold unescaped: URI path/query characters and "*".
_PATTERN_CHARS = _PCHAR | {"*"}
_STARS = re.compile(r"\*{2,}")
_PLAIN_PATTERN = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*").fullmatch


def normalize_pattern(raw: str) -> str:
    """A path pattern in the normal form URLs are compared in: escapes normalised, ``**`` read as ``*``."""
    if "%" in raw or not _PLAIN_PATTERN(raw):
        raw = _encode(raw, _PATTERN_CHARS, lenient=True)
    if "**" in raw:
        raw = _STARS.sub("*", raw)
    return raw


def match_target(url: str) -> str:
    """The normalised ``/path?query`` of ``url`` (or of a bare ``/path``) that patterns are matched against.

    Raises ``norms.SignalError`` for a string that is neither an absolute URL
    nor a path from the root.
    """
    start = normal_path_start(url)
    if start >= 0:
        return url[start:]
    if url.startswith("/") and not url.startswith("//"):
        return normalize_path(url.partition("#")[0])
    normal = normalize_url(url)
    start = normal.find("/", normal.find("//") + 2)
    if start < 0:
        query = normal.find("?")
        return "/" + normal[query:] if query >= 0 else "/"
    return normal[start:]


class PathPattern:
    """One normalised pattern: ``text``, ``priority`` (its length, RFC 9309 2.2.2) and ``match(path)``.

    ``path`` must be a normalised target (``match_target``). Matching costs
    O(len(pattern) + len(path)) character comparisons in C per call.
    """

    __slots__ = ("_head", "_last", "_middle", "anchored", "match", "need", "priority", "text")

    def __init__(self, raw: str, *, normalized: bool = False) -> None:
        text = raw if normalized else normalize_pattern(raw)
        self.text = text
        self.priority = len(text)
        self.anchored = text.endswith("$")
        body = text[:-1] if self.anchored else text
        parts = body.split("*")
        self._head = parts[0]
        self._middle = tuple(p for p in parts[1:-1] if p)
        self._last = parts[-1] if len(parts) > 1 else None
        # A piece every matching path holds, tested first with one C-level ``in``: a path
        # that lacks it is refused without the left-to-right walk (the longest piece,
        # the last of equals: hostile patterns end in what the path lacks). Only worth it
        # when the walk has two pieces or more to find.
        after_head = [p for p in parts[1:] if p]
        self.need = max(reversed(after_head), key=len) if len(after_head) >= 2 else None
        if self._last is None:
            self.match = self._exact if self.anchored else self._prefix
        else:
            self.match = self._wild if self.need is None else self._wild_needing

    def __repr__(self) -> str:
        return f"PathPattern({self.text!r})"

    def _prefix(self, path: str) -> bool:
        return path.startswith(self._head)

    def _exact(self, path: str) -> bool:
        return path == self._head

    def _wild_needing(self, path: str) -> bool:
        return self.need in path and self._wild(path)  # type: ignore[operator]  # need is set for this matcher

    def _wild(self, path: str) -> bool:
        if not path.startswith(self._head):
            return False
        pos = len(self._head)
        find = path.find
        for part in self._middle:
            at = find(part, pos)
            if at < 0:
                return False
            pos = at + len(part)
        last = self._last
        assert last is not None
        if self.anchored:
            return len(path) - len(last) >= pos and path.endswith(last)
        return not last or find(last, pos) >= 0
