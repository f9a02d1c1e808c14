"""What a re-crawl needs to know of the pages an earlier run stored.

The crawler asks, per URL it is about to request, for the stored row's HTTP
validators and decisions (one indexed read, made only for hosts that have
stored pages at all: a first crawl into an empty ledger pays nothing), and per
origin whose signals it has just read, for the stored pages of that origin
(to re-evaluate them against the new signals, ``crawler.recrawl``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from crawler.ledger.models import PAGES
from crawler.ledger.records import as_utc, url_key
from crawler.ledger.store import Ledger

_STORED_COLUMNS = (
    PAGES.c.url, PAGES.c.crawl_id, PAGES.c.fetched_at, PAGES.c.status, PAGES.c.content_hash,
    PAGES.c.etag, PAGES.c.last_modified, PAGES.c.user_agent, PAGES.c.purposes, PAGES.c.decisions,
    PAGES.c.evidence, PAGES.c.signal_ids, PAGES.c.revoked_at,
    (PAGES.c.text.is_not(None)).label("has_text"),
)


@dataclass(frozen=True, slots=True)
class StoredPage:
    """The parts of a stored page row a re-crawl decides with (never the text itself)."""

    url: str
    crawl_id: str
    fetched_at: datetime
    status: int | None
    content_hash: str | None
    etag: str | None
    last_modified: str | None
    user_agent: str
    purposes: tuple[str, ...]
    decisions: dict[str, Any]
    evidence: list[dict[str, Any]] = field(default_factory=list)
    signal_ids: tuple[int, ...] = ()
    revoked_at: datetime | None = None
    has_text: bool = False

    @property
    def stored_for(self) -> tuple[str, ...]:
        """The declared purposes this page was allowed for when it was stored."""
        return tuple(
            p for p in self.purposes if (self.decisions.get(p) or {}).get("allowed") is True
        )


def _stored(row: Any) -> StoredPage:
    return StoredPage(
        url=row.url,
        crawl_id=row.crawl_id,
        fetched_at=as_utc(row.fetched_at),
        status=row.status,
        content_hash=row.content_hash,
        etag=row.etag,
        last_modified=row.last_modified,
        user_agent=row.user_agent,
        purposes=tuple(row.purposes or ()),
        decisions=dict(row.decisions or {}),
        evidence=list(row.evidence or []),
        signal_ids=tuple(row.signal_ids or ()),
        revoked_at=None if row.revoked_at is None else as_utc(row.revoked_at),
        has_text=bool(row.has_text),
    )


def hosts_with_pages(ledger: Ledger) -> set[str]:
    """Hosts the ledger holds pages of (an index-only scan of ``pages.host``)."""
    with ledger._read() as conn:
        return set(conn.execute(sa.select(PAGES.c.host).distinct()).scalars())


def stored_page(ledger: Ledger, url: str) -> StoredPage | None:
    with ledger._read() as conn:
        row = conn.execute(
            sa.select(*_STORED_COLUMNS).where(PAGES.c.url_key == url_key(url))
        ).first()
    return None if row is None else _stored(row)


def stored_text(ledger: Ledger, url: str) -> tuple[str | None, dict[str, Any], str | None]:
    """The stored text, metadata and canonical URL of ``url`` (None, {}, None when there is none)."""
    with ledger._read() as conn:
        row = conn.execute(
            sa.select(PAGES.c.text, PAGES.c["metadata"], PAGES.c.canonical_url)
            .where(PAGES.c.url_key == url_key(url))
        ).first()
    if row is None:
        return None, {}, None
    return row[0], dict(row[1] or {}), row[2]


def pages_of_host(ledger: Ledger, host: str) -> Iterator[StoredPage]:
    """Stored, unrevoked pages of ``host`` (streamed in batches)."""
    query = (
        sa.select(*_STORED_COLUMNS)
        .where(PAGES.c.host == host, PAGES.c.revoked_at.is_(None))
        .order_by(PAGES.c.id)
    )
    with ledger._read() as conn:
        rows = list(conn.execute(query))
    for row in rows:
        yield _stored(row)
