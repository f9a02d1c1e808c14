"""Refusals and failures of URLs that never became pages: their evidence, ``ledger show`` and ``export --refusals``.

A request refused before it was sent (robots.txt, a licence, a Crawl-delay
the crawl will not wait, an over-long URL) or that failed (DNS, connection,
Retry-After) leaves a fetch-log row but no page row. So that
``fairfetch ledger show URL`` can answer "why was this not taken?" with the
same kind of proof as for a page, each refusal also writes a row to the
``refusal_evidence`` table (added by this module, created on first use;
older ledgers without it simply show no evidence): the kind, the evidence
(the deciding signal first) and the ids of the signal snapshots in force.
It is keyed by the fetch-log row's key, so it is as idempotent as that row.

A crawl's ``LedgerPipeline`` holds the refusals (:func:`hold_refusals`) and
writes them in the transaction of its next batch of pages: a transaction
per refusal cost the reactor thread a fifth of a millisecond each. Like a
page of the unwritten batch, a refusal held when the crawl is killed is not
in the ledger, and the resumed crawl refuses the URL again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from crawler.ledger.export import fetch_dict, snapshot_dict
from crawler.ledger.models import FETCH_LOG, PAGES, SNAPSHOTS
from crawler.ledger.records import FetchRecord, storable_json, url_key
from crawler.ledger.side_tables import ensure_table, has_table
from crawler.ledger.store import Ledger


class RefusalEvidence(SQLModel, table=True):
    """Why a request was refused or failed, beside its fetch-log row (same ``key``)."""

    __tablename__ = "refusal_evidence"

    key: str = Field(primary_key=True, max_length=64)
    crawl_id: str = Field(index=True, max_length=200)
    url_key: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=40)
    evidence: list[dict[str, Any]] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    signal_ids: list[int] = Field(sa_column=sa.Column(sa.JSON, nullable=False))


EVIDENCE = RefusalEvidence.__table__  # type: ignore[attr-defined]


# A refusal as written: its fetch-log entry and its refusal_evidence row.
Refusal = tuple[FetchRecord, dict[str, Any]]
_HELD = "_fairfetch_held_refusals"  # the Ledger object's HeldRefusals while a pipeline holds them


@dataclass(slots=True)
class HeldRefusals:
    """Refusals recorded since the holder last took them, oldest first."""

    rows: list[Refusal] = field(default_factory=list)
    since: float = 0.0  # time.monotonic() when the oldest was recorded

    def take(self) -> list[Refusal]:
        rows, self.rows = self.rows, []
        return rows


def hold_refusals(ledger: Ledger) -> HeldRefusals:
    """From now on :func:`record_refusal` keeps its rows in the returned holder, for the caller to write."""
    held: HeldRefusals = ledger.__dict__.setdefault(_HELD, HeldRefusals())
    return held


def release_refusals(ledger: Ledger) -> list[Refusal]:
    """Stop holding: later refusals are written at once. Returns those still held, for the caller to write."""
    held: HeldRefusals | None = ledger.__dict__.pop(_HELD, None)
    return held.take() if held is not None else []


def record_refusal(
    ledger: Ledger,
    entry: FetchRecord,
    *,
    kind: str,
    evidence: list[dict[str, Any]],
    signal_ids: list[int],
) -> None:
    """The fetch-log row and its evidence, in one transaction (replaying it is a no-op); held while a crawl holds them."""
    ensure_table(ledger, EVIDENCE)
    values = {
        "key": entry.key,
        "crawl_id": entry.crawl_id,
        "url_key": url_key(entry.url),
        "kind": kind[:40],
        "evidence": ledger._json_text(storable_json(evidence)),
        "signal_ids": ledger._json_text(list(signal_ids)),
    }
    held: HeldRefusals | None = ledger.__dict__.get(_HELD)
    if held is None:
        record_refusals(ledger, [(entry, values)])
        return
    if not held.rows:
        held.since = time.monotonic()
    held.rows.append((entry, values))


def record_refusals(ledger: Ledger, refusals: list[Refusal]) -> None:
    """Refusals (from a holder) in one transaction of their own."""
    if refusals:
        with ledger._write() as conn:
            write_refusals(ledger, refusals, conn)


def write_refusals(ledger: Ledger, refusals: list[Refusal], conn: sa.Connection) -> None:
    """Refusals in the caller's transaction (``Ledger.record_pages(..., also=...)``)."""
    ledger._record_fetches(conn, [entry for entry, _ in refusals])
    rows: dict[str, dict[str, Any]] = {}
    for _, values in refusals:
        rows.setdefault(values["key"], values)
    if ledger._native_upsert:
        conn.execute(ledger._ignore_many_statement(EVIDENCE, ["key"]), list(rows.values()))
        return
    for values in rows.values():
        ledger._insert_ignore(conn, EVIDENCE, values, ["key"])


def record_fetches(ledger: Ledger, entries: list[FetchRecord]) -> None:
    """Several fetch-log rows in one transaction (the links a page had beyond the limit)."""
    if not entries:
        return
    with ledger._write() as conn:
        ledger._record_fetches(conn, entries)


def url_history(ledger: Ledger, url: str) -> dict[str, Any] | None:
    """What the ledger knows of a URL that has no page row: its fetch-log rows and refusal evidence; None if nothing."""
    key = url_key(url)
    with ledger._read() as conn:
        rows = list(
            conn.execute(
                sa.select(FETCH_LOG).where(FETCH_LOG.c.url_key == key).order_by(FETCH_LOG.c.at, FETCH_LOG.c.id)
            ).mappings()
        )
        if not rows:
            return None
        evidence = _evidence_for(conn, ledger, [r["key"] for r in rows])
        snapshots = _snapshots(conn, {i for e in evidence.values() for i in e["signal_ids"]})
    return {
        "url": url,
        "stored": False,
        "fetch_log": [fetch_dict(r) for r in rows],
        "refusals": [
            _refusal(r, evidence.get(r["key"]), snapshots) for r in rows if r["outcome"] in ("refused", "error")
        ],
    }


def export_refusals(ledger: Ledger, *, crawl_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Every refused request (fetch-log outcome ``refused``) with its reason and evidence, oldest first.

    A refusal whose URL was stored metadata-only (a page the norms refused
    after the response) takes its evidence from the page row.
    """
    query = sa.select(FETCH_LOG).where(FETCH_LOG.c.outcome == "refused").order_by(FETCH_LOG.c.at, FETCH_LOG.c.id)
    if crawl_id is not None:
        query = query.where(FETCH_LOG.c.crawl_id == crawl_id)
    with ledger._read() as conn:
        result = conn.execution_options(yield_per=500).execute(query).mappings()
        for rows in result.partitions():
            evidence = _evidence_for(conn, ledger, [r["key"] for r in rows])
            missing = [r["url_key"] for r in rows if r["key"] not in evidence]
            pages = _page_evidence(conn, missing)
            ids = {i for e in [*evidence.values(), *pages.values()] for i in e["signal_ids"]}
            snapshots = _snapshots(conn, ids)
            for row in rows:
                yield _refusal(row, evidence.get(row["key"]) or pages.get(row["url_key"]), snapshots)


def _refusal(row: Any, found: dict[str, Any] | None, snapshots: dict[int, Any]) -> dict[str, Any]:
    out = fetch_dict(row)
    out["kind"] = found["kind"] if found else None
    out["evidence"] = found["evidence"] if found else []
    ids = found["signal_ids"] if found else []
    out["signals"] = [snapshot_dict(snapshots[i]) for i in ids if i in snapshots]
    return out


def _evidence_for(conn: sa.Connection, ledger: Ledger, keys: list[str]) -> dict[str, dict[str, Any]]:
    if not keys or not has_table(ledger, EVIDENCE):
        return {}
    rows = conn.execute(sa.select(EVIDENCE).where(EVIDENCE.c.key.in_(keys))).mappings()
    return {r["key"]: dict(r) for r in rows}


def _page_evidence(conn: sa.Connection, keys: list[str]) -> dict[str, dict[str, Any]]:
    if not keys:
        return {}
    rows = conn.execute(
        sa.select(PAGES.c.url_key, PAGES.c.evidence, PAGES.c.signal_ids).where(PAGES.c.url_key.in_(keys))
    ).mappings()
    return {
        r["url_key"]: {"kind": "page", "evidence": r["evidence"] or [], "signal_ids": r["signal_ids"] or []}
        for r in rows
    }


def _snapshots(conn: sa.Connection, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    cols = [c for c in SNAPSHOTS.c if c.name != "body"]
    return {r["id"]: r for r in conn.execute(sa.select(*cols).where(SNAPSHOTS.c.id.in_(sorted(ids)))).mappings()}


__all__ = [
    "HeldRefusals",
    "Refusal",
    "RefusalEvidence",
    "export_refusals",
    "hold_refusals",
    "record_fetches",
    "record_refusal",
    "record_refusals",
    "release_refusals",
    "url_history",
    "write_refusals",
]
