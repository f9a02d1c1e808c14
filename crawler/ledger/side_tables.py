"""Tables beside the ledger's core that one module owns: created on first write, read oldest first.

Refusal evidence, licence grants and payments are written by few crawls. The
owning module creates its table the first time it writes -- workers of one
crawl may do so at once, so on PostgreSQL they queue on the same advisory
lock as the store's own tables -- and a reader of a ledger that never had the
table sees no rows rather than an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from crawler.ledger.database import PG_SCHEMA_LOCK
from crawler.ledger.store import Ledger

_READY = "_fairfetch_side_tables_ready"  # names of the tables this Ledger object has ensured


def ensure_table(ledger: Ledger, table: sa.Table) -> None:
    """CREATE TABLE IF NOT EXISTS, once per Ledger object, safe when several workers start at once."""
    ready: set[str] = ledger.__dict__.setdefault(_READY, set())
    if table.name in ready:
        return
    with ledger.engine.begin() as conn:
        if ledger.engine.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_SCHEMA_LOCK)))
        SQLModel.metadata.create_all(conn, tables=[table])
    ready.add(table.name)


def has_table(ledger: Ledger, table: sa.Table) -> bool:
    return bool(sa.inspect(ledger.engine).has_table(table.name))


def rows_oldest_first(ledger: Ledger, table: sa.Table, crawl_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Every row of ``table`` (by ``at``, then ``id``), of one crawl if given; none if the table is missing."""
    if not has_table(ledger, table):
        return
    query = sa.select(table).order_by(table.c.at, table.c.id)
    if crawl_id is not None:
        query = query.where(table.c.crawl_id == crawl_id)
    with ledger.engine.connect() as conn:
        for row in conn.execute(query).mappings():
            yield dict(row)
