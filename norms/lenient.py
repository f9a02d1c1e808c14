"""Standard-library calls made total: hostile input gives a value or a ``SignalError``, never a stray exception.

Every reader in ``norms`` promises to return a result or raise ``SignalError``.
The standard library breaks that promise in a few recurring ways on input a
publisher (or an attacker) controls, and each reader would otherwise have to
remember all of them:

* ``urljoin``/``urlsplit`` raise ``ValueError`` on an invalid authority
  (``http://a]/l.xml``, ``http://[::1``);
* ``int()`` and ``json.loads`` refuse integers of more than 4,300 digits
  (CPython's guard against quadratic conversion) with ``ValueError``;
* ``json.loads``/``json.dumps`` hit ``RecursionError`` on deep nesting;
* ``str.encode`` raises ``UnicodeEncodeError`` on a lone surrogate
  (``"\\ud800"``), which Python strings may hold and JSON ``\\u`` escapes produce.

The helpers here are the one place those classes are handled.
"""

from __future__ import annotations

import json
from urllib.parse import urljoin, urlsplit

from norms.model import SignalError

#: Longer digit runs than this are not numbers any signal needs; they are read as
#: "too large" without converting them (conversion is quadratic in the length).
MAX_INT_DIGITS = 64
#: How much of a hostile value a warning or evidence string quotes.
MAX_SHOWN = 200


def join_url(base: str, href: str) -> str | None:
    """``urljoin(base, href)``, or ``None`` when either is not a URL Python can read."""
    try:
        url = urljoin(base, href)
        urlsplit(url)
    except ValueError:
        return None
    return url


def url_path(url: str) -> str | None:
    """The path of ``url`` (``""`` when it has none), or ``None`` when it cannot be split."""
    try:
        return urlsplit(url).path
    except ValueError:
        return None


def url_host(url: str) -> str:
    """The lowercased host of ``url``; ``""`` when it has none or cannot be split."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def to_int(text: str) -> int | None:
    """A decimal integer, or ``None`` when ``text`` is not one or has more than ``MAX_INT_DIGITS`` digits."""
    digits = text.strip().lstrip("+-")
    if len(digits) > MAX_INT_DIGITS:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _parse_int(text: str) -> int | float:
    """JSON integers: huge ones become +/-inf (a number no signal accepts) instead of failing the document."""
    if len(text) > MAX_INT_DIGITS:
        return float("-inf") if text.startswith("-") else float("inf")
    return int(text)


def load_json(text: str, *, what: str) -> object:
    """``json.loads`` that raises only ``SignalError`` (syntax, nesting depth); huge integers read as inf."""
    try:
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise SignalError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}", code="json-invalid",
                          line=exc.lineno) from None
    except RecursionError:
        raise SignalError(f"{what} is nested too deeply") from None
    except ValueError as exc:  # pragma: no cover - parse_int guards the one known case
        raise SignalError(f"{what} is not valid JSON: {exc}") from None


def dump_json(value: object) -> str:
    """``json.dumps`` for evidence: never fails (deep nesting or odd values fall back to a cut ``repr``)."""
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (RecursionError, ValueError, TypeError):
        return shown(repr(value) if not isinstance(value, dict | list) else f"<{type(value).__name__} too deep>")


def shown(value: str, limit: int = MAX_SHOWN) -> str:
    """``value`` cut to ``limit`` characters for a message, with the cut marked."""
    return value if len(value) <= limit else value[:limit] + f"... ({len(value)} characters)"


def show_value(value: object) -> str:
    """A JSON value as a message quotes it: JSON syntax, cut to ``MAX_SHOWN`` characters."""
    return shown(dump_json(value))


def utf8(text: str) -> bytes:
    """UTF-8 bytes of ``text``; a lone surrogate becomes U+FFFD instead of raising."""
    return scrub(text).encode("utf-8")


def scrub(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so it can be encoded anywhere."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text
