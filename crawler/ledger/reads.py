"""The reads behind ``fairfetch ledger``: one page with its proof, the export stream, the fetch log, counts.

A page row cites its signal snapshots by id; the reads join them back in
(bodies left out) so every exported page carries the signals that were in
force when it was taken. Reads run in a read transaction (``ledger_read``),
which on SQLite never takes the write lock a running crawl holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crawler.ledger.base import LedgerBase
from crawler.ledger.export import fetch_dict, iso, page_dict
from crawler.ledger.models import CRAWLS, FETCH_LOG, HOSTS, PAGES, SNAPSHOTS
from crawler.ledger.records import OUTCOMES, url_key

# Rows streamed per batch, and the most ids in one ``IN (...)`` list.
_BATCH = 500


class LedgerReads(LedgerBase):
    """``Ledger``'s reads of crawls, host classifications, pages and the fetch log."""

    def crawl(self, crawl_id: str) -> dict[str, Any] | None:
        """The crawl's row (user agent, purposes, seeds, settings, runs, stats), times in ISO 8601."""
        with self._read() as conn:
            row = conn.execute(sa.select(CRAWLS).where(CRAWLS.c.id == crawl_id)).mappings().first()
        if row is None:
            return None
        out = dict(row)
        for name in ("started_at", "last_started_at", "finished_at"):
            out[name] = iso(out[name])
        return out


    def host_class(self, host: str) -> dict[str, Any] | None:
        """The recorded classification of ``host`` (source_class, platform, evidence, classified_at)."""
        with self._read() as conn:
            row = (
                conn.execute(
                    sa.select(HOSTS).where(HOSTS.c.host == host.strip().lower().rstrip("."))
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        return {**row, "classified_at": iso(row["classified_at"])}

    def _page_query(self) -> sa.Select[Any]:
        host_cols = [c.label(f"host__{c.name}") for c in HOSTS.c]
        return sa.select(PAGES, *host_cols).select_from(
            PAGES.outerjoin(HOSTS, HOSTS.c.host == PAGES.c.host)
        )

    @staticmethod
    def _split(row: Mapping[Any, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        page = {k: v for k, v in row.items() if not k.startswith("host__")}
        host = {k[6:]: v for k, v in row.items() if k.startswith("host__")}
        return page, (host if host.get("host") is not None else None)

    def _snapshots(self, conn: Connection, ids: set[int]) -> dict[int, Mapping[Any, Any]]:
        out: dict[int, Mapping[Any, Any]] = {}
        ordered = sorted(ids)
        cols = [c for c in SNAPSHOTS.c if c.name != "body"]
        for start in range(0, len(ordered), _BATCH):
            chunk = ordered[start : start + _BATCH]
            for row in conn.execute(sa.select(*cols).where(SNAPSHOTS.c.id.in_(chunk))).mappings():
                out[row["id"]] = row
        return out

    def page(self, url: str) -> dict[str, Any] | None:
        """The export dict of one page plus ``fetch_log`` (its rows, oldest first); None if unknown."""
        key = url_key(url)
        with self._read() as conn:
            row = conn.execute(self._page_query().where(PAGES.c.url_key == key)).mappings().first()
            if row is None:
                return None
            page, host = self._split(row)
            snapshots = self._snapshots(conn, set(page["signal_ids"] or []))
            fetches = conn.execute(
                sa.select(FETCH_LOG)
                .where(FETCH_LOG.c.url_key == key)
                .order_by(FETCH_LOG.c.at, FETCH_LOG.c.id)
            ).mappings()
            out = page_dict(page, host, snapshots)
            out["fetch_log"] = [fetch_dict(f) for f in fetches]
        return out

    def export(self, *, crawl_id: str | None = None) -> Iterator[dict[str, Any]]:
        """One export dict per page, ordered by URL (code point order on every backend), streamed."""
        order: sa.ColumnElement[Any] = PAGES.c.url
        if self._engine.dialect.name == "postgresql":
            order = sa.collate(PAGES.c.url, "C")
        query = self._page_query().order_by(order)
        if crawl_id is not None:
            query = query.where(PAGES.c.crawl_id == crawl_id)
        # One connection: the page rows stream through a cursor (server-side on
        # PostgreSQL) while each batch's snapshots are read beside it.
        with self._engine.connect() as raw:
            conn = raw.execution_options(ledger_read=True)
            with conn.begin():
                result = conn.execution_options(yield_per=_BATCH).execute(query).mappings()
                for rows in result.partitions():
                    split = [self._split(r) for r in rows]
                    ids: set[int] = set()
                    for page, _host in split:
                        ids.update(page["signal_ids"] or [])
                    snapshots = self._snapshots(conn, ids)
                    for page, host in split:
                        yield page_dict(page, host, snapshots)

    def fetch_log(self, crawl_id: str | None = None) -> list[dict[str, Any]]:
        """Fetch-log rows, oldest first."""
        query = sa.select(FETCH_LOG).order_by(FETCH_LOG.c.at, FETCH_LOG.c.id)
        if crawl_id is not None:
            query = query.where(FETCH_LOG.c.crawl_id == crawl_id)
        with self._read() as conn:
            return [fetch_dict(r) for r in conn.execute(query).mappings()]

    def recorded_urls(self, crawl_id: str, urls: Iterable[str]) -> set[str]:
        """Those of ``urls`` that have an outcome (any fetch-log row) in crawl ``crawl_id``.

        Every request the crawler settles leaves one: a stored page (written
        with its row), a refusal, a redirect hop, an error. Scale-out uses it to
        tell a leased request that is done from one a dead worker never finished.
        """
        by_key = {url_key(u): u for u in urls}
        found: set[str] = set()
        keys = list(by_key)
        with self._read() as conn:
            for start in range(0, len(keys), _BATCH):  # bounded IN lists
                chunk = keys[start : start + _BATCH]
                query = (sa.select(FETCH_LOG.c.url_key).distinct()
                         .where(FETCH_LOG.c.crawl_id == crawl_id, FETCH_LOG.c.url_key.in_(chunk)))
                found.update(by_key[k] for k in conn.execute(query).scalars())
        return found

    def counts(self, crawl_id: str | None = None) -> dict[str, Any]:
        """Pages, pages with stored text, fetch-log rows by outcome, refusals by reason, errors."""
        page_filter = [PAGES.c.crawl_id == crawl_id] if crawl_id is not None else []
        fetch_filter = [FETCH_LOG.c.crawl_id == crawl_id] if crawl_id is not None else []
        count = sa.func.count()
        with self._read() as conn:
            pages = conn.execute(
                sa.select(count).select_from(PAGES).where(*page_filter)
            ).scalar_one()
            stored = conn.execute(
                sa.select(count).select_from(PAGES).where(PAGES.c.text.is_not(None), *page_filter)
            ).scalar_one()
            outcomes = {
                o: n
                for o, n in conn.execute(
                    sa.select(FETCH_LOG.c.outcome, count)
                    .where(*fetch_filter)
                    .group_by(FETCH_LOG.c.outcome)
                )
            }
            refused = {
                r: n
                for r, n in conn.execute(
                    sa.select(FETCH_LOG.c.reason, count)
                    .where(FETCH_LOG.c.outcome == "refused", *fetch_filter)
                    .group_by(FETCH_LOG.c.reason)
                    .order_by(count.desc(), FETCH_LOG.c.reason)
                )
            }
            snapshots = conn.execute(sa.select(count).select_from(SNAPSHOTS)).scalar_one()
            crawls = conn.execute(sa.select(count).select_from(CRAWLS)).scalar_one()
        return {
            "pages": pages,
            "stored": stored,
            "fetch_rows": sum(outcomes.values()),
            "outcomes": {
                # the four every crawl has, then any other ("dropped", "not-modified") that occurred
                o: outcomes.get(o, 0)
                for o in OUTCOMES
                if o in outcomes or o not in ("dropped", "not-modified")
            },
            "refused": refused,
            "errors": outcomes.get("error", 0),
            "signal_snapshots": snapshots,
            "crawls": crawls,
        }
