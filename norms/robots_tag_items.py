"""The items of one robots carrier (a meta ``content``, an ``X-Robots-Tag`` line), read in linear time.

Pure string work for ``norms.robots_tags``: splitting a value into its
distinct items (repetitions dropped in C before any Python-level work),
telling a directive's value from a user-agent prefix, reading
``unavailable_after`` dates.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Directives whose value follows a colon: never to be read as a user-agent prefix.
VALUED = frozenset(
    {"max-snippet", "max-image-preview", "max-video-preview", "unavailable_after", "unavailable-after"}
)
PREFIX = re.compile(r"^\s*([A-Za-z0-9_.*\-]+)\s*:\s*(.*)$", re.S)



def parse_date(value: str) -> datetime | None:
    """Read an ``unavailable_after`` date (ISO 8601, RFC 822/850); ``None`` if unreadable.

    Dates without a zone are taken as UTC.
    """
    text = value.strip()
    if not text:
        return None
    dt: datetime | None = None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            dt = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            dt = None
        if dt is None:
            for fmt in ("%d-%b-%Y %H:%M:%S %Z", "%A, %d-%b-%y %H:%M:%S %Z", "%d %b %Y %H:%M:%S %Z", "%d %b %Y"):
                try:
                    dt = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


_DATE_COMMA = re.compile(r"(unavailable[_-]after\s*:\s*[A-Za-z]{3,9}\s*),", re.I)


def split_items(value: str) -> list[str]:
    """Distinct comma-separated items, stripped, in order; an RFC 822/850 date keeps its comma.

    Splitting and deduplicating run in C (``str.split``, ``dict.fromkeys``), so
    ``noai,noai,...`` over megabytes costs a few milliseconds, not a Python
    loop per repetition.
    """
    if "unavailable" in value.lower():
        # "unavailable_after: Wednesday, 25-Jun-2010 ...": protect the comma inside the date.
        value = _DATE_COMMA.sub(lambda m: m.group(1) + "\x00", value)
        parts = [p.replace("\x00", ",") for p in dict.fromkeys(value.split(","))]
    else:
        parts = list(dict.fromkeys(value.split(",")))
    return [p for p in dict.fromkeys(p.strip() for p in parts) if p]


# A meta item that can mean something: a known directive, alone or with its value (a date may hold
# one comma). findall runs in C over the whole value, so megabytes of unknown tokens cost milliseconds.
_MEANINGFUL = re.compile(
    r"(?:^|,)\s*((?:noindex|nofollow|nosnippet|noarchive|nocache|noai|noimageai|none|max-snippet|"
    r"unavailable[_-]after)(?:\s*:\s*(?:[A-Za-z]{3,9}\s*,)?[^,]*)?)\s*(?=,|$)",
    re.I,
)


_NAMES = ("noindex", "nofollow", "nosnippet", "noarchive", "nocache", "noai", "noimageai", "none", "max-snippet",
          "unavailable")


def meta_items(content: str) -> list[tuple[str, str | None]]:
    """The distinct meaningful items of a robots meta's ``content`` (unknown tokens say nothing there).

    Repetitions are dropped first by ``split``/``dict.fromkeys`` (C, no per-item
    Python work), except when a date may hold a comma that splitting would cut.
    """
    lowered = content.lower()
    if not any(name in lowered for name in _NAMES):  # C substring searches: most junk ends here
        return []
    if "unavailable" not in lowered:
        content = ",".join(dict.fromkeys(content.split(",")))
    return [valued(item.strip()) for item in dict.fromkeys(_MEANINGFUL.findall(content))]


def valued(item: str) -> tuple[str, str | None]:
    m = PREFIX.match(item)
    return (m.group(1), m.group(2)) if m else (item, None)
