"""Limits on what enters a crawl, and the record of every URL they keep out.

Two limits, both settings (and ``fairfetch crawl`` options):

* ``FAIRFETCH_MAX_LINKS`` (``--max-links``, default 500): links followed per
  page, in document order; the rest are dropped.
* ``FAIRFETCH_MAX_URL_LENGTH`` (``--max-url-length``, default 2083, Scrapy's
  ``URLLENGTH_LIMIT``, which this replaces): longer URLs are never requested.

They apply to every way a URL enters: a seed, a link, a redirect target, a
sitemap child. A dropped URL is a fetch-log row with outcome ``dropped`` and
the reason, and counts in the summary's ``dropped_by_reason``; nothing is
dropped silently.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from crawler.session import CrawlSession

MAX_LINKS = 500
MAX_URL_LENGTH = 2083
TOO_LONG = "url-too-long"
TOO_MANY_LINKS = "too-many-links"
DROPPED = "dropped"
INVALID = "invalid-url"
_HOST = re.compile(r"[\w.-]+|\[[0-9A-Fa-f:.]+\]")


def seed_problem(seed: str) -> str | None:
    """What makes ``seed`` unusable as a starting URL, in words; None if it is a valid http(s) URL.

    Stricter than what a browser would repair: a seed is typed by an operator,
    and ``http://exa mple.org/`` or a space in the path is a mistake to report,
    not something to guess at.
    """
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in seed):
        return "contains a space or a control character"
    try:
        parts = urlsplit(seed)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number or out of range
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return "is not an http(s) URL"
    host = parts.netloc.rpartition("@")[2]
    host = host if host.startswith("[") else host.partition(":")[0]
    if not host or not _HOST.fullmatch(host):
        return f"has an invalid host name {host!r}"
    return None


def too_long(session: CrawlSession, url: str, how: str) -> bool:
    """Is ``url`` over the length limit? If so its drop is recorded (``how``: seed, link, redirect, sitemap)."""
    limit = session.max_url_length
    if not limit or len(url) <= limit:
        return False
    drop(session, [url], TOO_LONG,
         f"{TOO_LONG}: {how} of {len(url)} characters, over the limit of {limit} (--max-url-length)")
    return True


def drop(session: CrawlSession, urls: list[str], kind: str, reason: str) -> None:
    """Record ``urls`` as dropped (one fetch-log row each, one transaction) and count them."""
    if not urls:
        return
    # Imported here: `fairfetch crawl` reads seed_problem before anything heavy is loaded.
    from crawler.ledger import FetchRecord
    from crawler.ledger.records import utc_now
    from crawler.ledger.refusals import record_fetches

    at = utc_now()
    record_fetches(session.ledger, [
        FetchRecord(crawl_id=session.crawl_id, url=u, at=at, outcome=DROPPED, reason=reason[:500])
        for u in urls
    ])
    session.summary.dropped[kind] += len(urls)
