"""Writing crawls, pages, fetch-log rows and host classifications, each write one transaction.

Every write is idempotent, because a crawl may be killed (even with
``kill -9``) and resumed: a page is keyed by its URL and an older fetch never
overwrites a newer one, a fetch-log row is keyed by a hash of its
attempt-independent fields (``FetchRecord.key``). Replaying any write leaves
the ledger as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crawler.ledger.base import LedgerBase, check_length
from crawler.ledger.database import LedgerError
from crawler.ledger.models import CRAWLS, FETCH_LOG, HOSTS, PAGES, SNAPSHOTS
from crawler.ledger.records import (
    FetchRecord,
    PageRecord,
    host_of,
    naive_utc,
    storable_json,
    storable_text,
    url_key,
    utc_now,
)


class LedgerWrites(LedgerBase):
    """``Ledger``'s writes of crawls, pages, fetch-log rows and host classifications."""

    def start_crawl(
        self,
        crawl_id: str,
        *,
        user_agent: str,
        purposes: list[str],
        seeds: list[str],
        settings: dict[str, Any],
    ) -> None:
        """Register a crawl, or note that it resumed (same id): ``runs`` goes up, ``finished_at`` is cleared.

        Several workers of one scaled-out crawl may all call this with the same
        id; each start is counted in ``runs``.
        """
        crawl_id = check_length("crawl id", storable_text(crawl_id), 200)
        now = utc_now()
        values = {
            "id": crawl_id,
            "user_agent": storable_text(user_agent),
            "purposes": storable_json(list(purposes)),
            "seeds": storable_json(list(seeds)),
            "settings": storable_json(dict(settings)),
            "started_at": now,
            "last_started_at": now,
            "runs": 1,
            "finished_at": None,
            "stats": None,
        }
        with self._write() as conn:
            # Insert first: of several workers starting the same crawl at once one
            # inserts, the others find the row and count their run on it.
            if not self._insert_ignore(conn, CRAWLS, values, ["id"]):
                conn.execute(
                    sa.update(CRAWLS)
                    .where(CRAWLS.c.id == crawl_id)
                    .values(
                        user_agent=values["user_agent"],
                        purposes=values["purposes"],
                        seeds=values["seeds"],
                        settings=values["settings"],
                        last_started_at=now,
                        runs=CRAWLS.c.runs + 1,
                        finished_at=None,
                    )
                )
        self._known_crawls.add(crawl_id)

    def finish_crawl(self, crawl_id: str, stats: dict[str, Any]) -> None:
        with self._write() as conn:
            result = conn.execute(
                sa.update(CRAWLS)
                .where(CRAWLS.c.id == crawl_id)
                .values(finished_at=utc_now(), stats=storable_json(dict(stats)))
            )
            if not result.rowcount:
                raise LedgerError(f"unknown crawl {crawl_id!r}: nothing to finish")

    def record_page(self, page: PageRecord) -> None:
        """Insert or update the page row for ``page.url`` and its fetch-log row, in one transaction.

        An older fetch never overwrites a newer one: replaying a page after a
        resume with an earlier ``fetched_at`` leaves the row as it is.
        """
        self.record_pages([page])

    def record_pages(
        self, pages: Sequence[PageRecord], also: Callable[[Connection], None] | None = None
    ) -> None:
        """Write several pages and their fetch-log rows in one transaction: all of them or none.

        The crawler batches its pages because the per-transaction cost
        (``BEGIN IMMEDIATE``, commit, statement set-up) dominated the write of
        one small row. The outcome is that of writing the pages one by one in
        order: per URL the latest ``fetched_at`` wins (a later record on a
        tie), an older fetch never overwrites a newer row already stored, and
        fetch-log rows stay idempotent. A page citing a snapshot id the ledger
        does not hold fails the whole batch with a ``LedgerError``. ``also``
        writes more rows in the same transaction (the crawl's refusals held
        since the last batch, ``crawler.ledger.refusals.hold_refusals``).
        """
        if not pages:
            if also is not None:
                with self._write() as conn:
                    also(conn)
            return
        rows: dict[str, dict[str, Any]] = {}
        fetches: dict[str, dict[str, Any]] = {}
        crawl_ids: set[str] = set()
        cited: set[int] = set()
        for page in pages:
            values = _page_values(page, self._json_text)
            earlier = rows.get(values["url_key"])
            if earlier is not None:
                # As if written in order: the first record inserted the row (its
                # first sighting), the newest fetch (a later one on a tie) fills it.
                first_seen = earlier["first_seen_at"]
                if earlier["fetched_at"] > values["fetched_at"]:
                    values = earlier
                values["first_seen_at"] = first_seen
            rows[values["url_key"]] = values
            crawl_ids.add(page.crawl_id)
            cited.update(page.signal_ids)
            if page.fetch is not None:
                crawl_ids.add(page.fetch.crawl_id)
                key = values["url_key"] if page.fetch.url == page.url else None
                fetches.setdefault(page.fetch.key, _fetch_values(page.fetch, key))
        with self._write() as conn:
            for crawl_id in crawl_ids:
                self._require_crawl(conn, crawl_id)
            self._check_signal_ids(conn, cited)
            if self._native_upsert:
                conn.execute(
                    self._upsert_statement(PAGES, ["url_key"], _PAGE_UPDATE, _newer_fetch),
                    list(rows.values()),
                )
            else:
                for values in rows.values():
                    self._upsert(
                        conn,
                        PAGES,
                        values,
                        ["url_key"],
                        _PAGE_UPDATE,
                        only_if=_newer_fetch,
                        only_if_py=_not_newer_than(values["fetched_at"]),
                    )
            self._insert_fetches(conn, list(fetches.values()))
            if also is not None:
                also(conn)

    def _check_signal_ids(self, conn: Connection, ids: Iterable[int]) -> None:
        """A ``LedgerError`` if a page cites a snapshot the ledger does not hold (ids seen before are trusted)."""
        wanted = set(ids) - self._known_snapshots
        if not wanted:
            return
        found = set(
            conn.execute(sa.select(SNAPSHOTS.c.id).where(SNAPSHOTS.c.id.in_(wanted))).scalars()
        )
        self._known_snapshots.update(found)
        missing = sorted(wanted - found)
        if missing:
            raise LedgerError(f"page cites signal snapshots the ledger does not hold: {missing}")

    def record_fetch(self, entry: FetchRecord) -> None:
        """Log one request (or refusal). Replaying the same entry is a no-op (see ``FetchRecord.key``)."""
        with self._write() as conn:
            self._record_fetch(conn, entry)

    def _record_fetch(self, conn: Connection, entry: FetchRecord) -> None:
        self._require_crawl(conn, entry.crawl_id)
        self._insert_ignore(conn, FETCH_LOG, _fetch_values(entry), ["key"])

    def _record_fetches(self, conn: Connection, entries: Sequence[FetchRecord]) -> None:
        """Several fetch-log rows in one statement where the backend has a native insert-or-ignore."""
        for crawl_id in {entry.crawl_id for entry in entries}:
            self._require_crawl(conn, crawl_id)
        rows: dict[str, dict[str, Any]] = {}
        for entry in entries:  # the first of a replayed entry is kept, as written one by one
            rows.setdefault(entry.key, _fetch_values(entry))
        self._insert_fetches(conn, list(rows.values()))

    def _insert_fetches(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if self._native_upsert:
            conn.execute(self._ignore_many_statement(FETCH_LOG, ["key"]), rows)
            return
        for values in rows:
            self._insert_ignore(conn, FETCH_LOG, values, ["key"])

    def set_host_class(
        self,
        host: str,
        source_class: str | None,
        platform: str | None,
        evidence: list[dict[str, Any]],
    ) -> None:
        """Record how a host was classified (replacing an earlier classification)."""
        host = check_length("host", storable_text(host).strip().lower().rstrip("."), 300)
        values = {
            "host": host,
            "source_class": source_class,
            "platform": platform,
            "evidence": storable_json(list(evidence)),
            "classified_at": utc_now(),
        }
        with self._write() as conn:
            self._upsert(
                conn,
                HOSTS,
                values,
                ["host"],
                ["source_class", "platform", "evidence", "classified_at"],
            )


def _page_values(page: PageRecord, json_text: Callable[[Any], Any]) -> dict[str, Any]:
    """The row; ``json_text`` encodes the JSON columns that repeat from page to page (not metadata: its links differ)."""
    return {
        "url": page.url,
        "url_key": url_key(page.url),
        "canonical_url": page.canonical_url,
        "host": host_of(page.url)[:300],
        "crawl_id": page.crawl_id,
        "fetched_at": page.fetched_at,
        "first_seen_at": page.fetched_at,
        "status": page.status,
        "content_hash": page.content_hash,
        "text": page.text,
        "metadata": page.metadata,
        "decisions": json_text(page.decisions),
        "evidence": json_text(page.evidence),
        "obligations": json_text(page.obligations),
        "signal_ids": json_text(list(page.signal_ids)),
        "source_class": page.source_class,
        "page_role": page.page_role,
        "platform": page.platform,
        "user_agent": page.user_agent,
        "purposes": json_text(page.purposes),
        "etag": page.etag,
        "last_modified": page.last_modified,
        "revoked_at": None,  # a newer fetch that keeps the text lifts an earlier revocation
    }


# Every page column but the key and the first sighting is replaced by a newer fetch.
_PAGE_UPDATE = [
    c.name for c in PAGES.c if c.name not in ("id", "url_key", "first_seen_at")
]


def _newer_fetch(excluded: Any) -> sa.ColumnElement[bool]:
    return PAGES.c.fetched_at <= excluded.fetched_at


def _not_newer_than(fetched_at: datetime) -> Callable[[Mapping[Any, Any]], bool]:
    """The portable path's guard: the stored row is no newer than the page being written."""
    return lambda row: naive_utc(row["fetched_at"]) <= naive_utc(fetched_at)


def _fetch_values(entry: FetchRecord, key: str | None = None) -> dict[str, Any]:
    """The fetch-log row; ``key`` is ``url_key(entry.url)`` when the caller has it already."""
    return {
        "key": entry.key,
        "crawl_id": entry.crawl_id,
        "url": entry.url,
        "url_key": key or url_key(entry.url),
        "at": entry.at,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "status": entry.status,
    }
