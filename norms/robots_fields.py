"""The records a robots.txt line can hold, and how a misspelt or colon-less one is read.

Publishers misspell field names (``Dissallow``, ``User agent``) and drop the
colon; protego and Google's reference parser read many such lines anyway, and
a crawler that did not would obey less than they do. This vocabulary is what
``norms.robots_file`` reads each line against: it maps every accepted
spelling to a record kind, knows the canonical spelling a strict parser
expects (so a lenient reading is flagged with a warning), and suggests the
record an unknown field name most likely meant.
"""

from __future__ import annotations

import difflib

# Record kinds; UNKNOWN is a well-formed "field: value" line naming no known record.
(
    USER_AGENT, ALLOW, DISALLOW, SITEMAP, CRAWL_DELAY, REQUEST_RATE,
    LICENSE, CONTENT_SIGNAL, CONTENT_USAGE, KNOWN,
) = range(10)  # fmt: skip
UNKNOWN = -1

FIELDS: dict[str, int] = {
    "user-agent": USER_AGENT,
    "useragent": USER_AGENT,
    "user agent": USER_AGENT,
    "allow": ALLOW,
    "disallow": DISALLOW,
    # Misspellings protego (and Google's parser) accept.
    "dissallow": DISALLOW,
    "dissalow": DISALLOW,
    "disalow": DISALLOW,
    "diasllow": DISALLOW,
    "disallaw": DISALLOW,
    "sitemap": SITEMAP,
    "sitemaps": SITEMAP,
    "site-map": SITEMAP,
    "crawl-delay": CRAWL_DELAY,
    "crawl delay": CRAWL_DELAY,
    "request-rate": REQUEST_RATE,
    "request rate": REQUEST_RATE,
    "license": LICENSE,
    "content-signal": CONTENT_SIGNAL,
    "content-usage": CONTENT_USAGE,
    # Known records we deliberately do not act on.
    "host": KNOWN,
    "clean-param": KNOWN,
    "visit-time": KNOWN,
    "noindex": KNOWN,
    "nofollow": KNOWN,
    "noarchive": KNOWN,
}

# The spelling each record kind is written with; any other key of that kind is a misspelling
# that lenient parsers (ours, Google's, protego) honour and strict ones ignore.
SPELLING = {
    USER_AGENT: "User-agent", ALLOW: "Allow", DISALLOW: "Disallow", SITEMAP: "Sitemap",
    CRAWL_DELAY: "Crawl-delay", REQUEST_RATE: "Request-rate", LICENSE: "License",
    CONTENT_SIGNAL: "Content-Signal", CONTENT_USAGE: "Content-Usage",
}  # fmt: skip
CANONICAL = frozenset(name.lower() for name in SPELLING.values()) | {
    k for k, v in FIELDS.items() if v == KNOWN
}


def split_field(line: str) -> tuple[int, str, str] | None:
    """``(kind, field, value)`` of a comment-free, stripped, non-empty line, or None."""
    name, colon, value = line.partition(":")
    if colon:
        key = name.strip().lower()
        kind = FIELDS.get(key)
        if kind is not None:
            return kind, key, value.strip()
        if key and not any(c.isspace() for c in key):
            return UNKNOWN, key, value.strip()
    # No usable colon: accept "Field value" for a known field, as protego does.
    for size in (2, 1):
        parts = line.split(None, size)
        if len(parts) < size:
            continue
        key = " ".join(parts[:size]).lower()
        kind = FIELDS.get(key)
        if kind is not None:
            return kind, key, parts[size].strip() if len(parts) > size else ""
    return None


def suggest_field(key: str) -> str | None:
    """The known record ``key`` most likely stands for (``user-agnet`` -> ``User-agent``), or None."""
    close = difflib.get_close_matches(key.lower(), sorted(CANONICAL), n=1, cutoff=0.75)
    if not close:
        return None
    kind = FIELDS[close[0]]
    return SPELLING.get(kind, close[0].capitalize())
