"""What every part of ``Ledger`` shares: opening the tables, transactions, idempotent inserts and upserts.

Idempotency is what lets a crawl be killed (even with ``kill -9``) and
resumed, so every write goes through ``_insert_ignore`` or ``_upsert``
here. PostgreSQL and SQLite use native ``INSERT ... ON CONFLICT`` (built once
per table and shape, then reused: building costs more than running it);
other backends fall back to an insert inside a savepoint followed by an
update. The table-specific writes and reads (``crawler.ledger.writes``,
``.snapshots``, ``.reads``) subclass ``LedgerBase`` and are assembled into
``Ledger`` in ``crawler.ledger.store``. The functions that take a ``Ledger``
(``crawler.ledger.history``, ``.revocation``, ``.recrawl``, ``.refusals``)
use ``_read``, ``_write`` and ``_insert_ignore`` as well: they are the
package's own transactions, not an API for code outside ``crawler.ledger``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Self

import sqlalchemy as sa
from pydantic_core import to_json
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from crawler.ledger import migrations
from crawler.ledger.database import (
    DEFAULT_DB_URL,
    PG_SCHEMA_LOCK,
    EncodedJSON,
    LedgerError,
    dump_json,
    first_line,
    make_engine,
    require_sqlite_file,
    safe_url,
)
from crawler.ledger.models import CRAWLS, REQUIRED_TABLES, TABLES

# JSON texts kept by ``LedgerBase._json_text``; a full cache starts over.
JSON_TEXTS = 512


def check_length(name: str, value: str, limit: int) -> str:
    """``value`` if it is non-empty and at most ``limit`` characters, else a ``LedgerError`` naming it."""
    if not value:
        raise LedgerError(f"{name} must not be empty")
    if len(value) > limit:
        raise LedgerError(f"{name} is longer than {limit} characters: {value[:60]!r}...")
    return value


class LedgerBase:
    """The provenance store's plumbing. One instance per process; safe to share between threads.

    Tables are created on first use. Every public write is one transaction.
    """

    def __init__(self, db_url: str = DEFAULT_DB_URL, *, create: bool = True) -> None:
        """Open (and with ``create``, set up) the ledger at ``db_url``.

        ``create=False`` is for readers: it refuses to conjure an empty
        ledger out of a mistyped path or an unprepared database.
        """
        self.db_url = db_url
        if not create:
            require_sqlite_file(db_url)
        self._engine = make_engine(db_url)
        self._native_upsert = self._engine.dialect.name in ("sqlite", "postgresql")
        self._known_crawls: set[str] = set()
        # Snapshot rows are never deleted, so an id once seen committed stays
        # valid: pages citing it need not look it up again.
        self._known_snapshots: set[int] = set()
        self._statements: dict[tuple[Any, ...], Any] = {}
        # None where the engine would encode an EncodedJSON again (not SQLite or PostgreSQL).
        passes_through = getattr(self._engine.dialect, "_json_serializer", None) is dump_json
        self._json_texts: dict[bytes, EncodedJSON] | None = {} if passes_through else None
        try:
            if not create:
                with self._read() as conn:  # a reader never takes SQLite's write lock
                    self._schema_revision(conn)
                missing = {t.__tablename__ for t in REQUIRED_TABLES} - set(
                    sa.inspect(self._engine).get_table_names()
                )
                if missing:
                    raise LedgerError(
                        f"{safe_url(self.db_url)} holds no fairfetch ledger (missing tables: {', '.join(sorted(missing))})"
                    )
                return
            self._create_tables()
        except LedgerError:
            self._engine.dispose()
            raise
        except sa.exc.SQLAlchemyError as exc:
            self._engine.dispose()
            raise LedgerError(
                f"cannot open the ledger at {safe_url(self.db_url)}: {exc.__class__.__name__}: {first_line(exc)}"
            ) from exc

    def _create_tables(self) -> None:
        """CREATE TABLE IF NOT EXISTS, safe when several crawler processes start at once.

        PostgreSQL's catalog checks race between sessions ("duplicate key
        value violates unique constraint pg_type_typname_nsp_index"), so the
        creators queue on a transaction-scoped advisory lock; SQLite's
        ``BEGIN IMMEDIATE`` already serialises them.
        """
        tables = [t.__table__ for t in TABLES]  # type: ignore[union-attr]
        with self._engine.begin() as conn:
            if self._engine.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_SCHEMA_LOCK)))
            if self._schema_revision(conn) is None:
                SQLModel.metadata.create_all(conn, tables=tables)
                migrations.stamp_head(conn)

    def _schema_revision(self, conn: Connection) -> str | None:
        """The ledger's schema revision (None: no ledger yet); an older one is an error naming the upgrade."""
        found = migrations.current_revision(conn, set(sa.inspect(conn).get_table_names()))
        if found is not None and found != migrations.head():
            shown = safe_url(self.db_url)
            raise LedgerError(
                f"the ledger at {shown} has schema revision {found}, this fairfetch needs "
                f"{migrations.head()}: run 'fairfetch ledger upgrade --db {shown}' (rows are kept)"
            )
        return found

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- transactions -----------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as raw:
            conn = raw.execution_options(ledger_read=True)
            with conn.begin():
                yield conn

    # -- idempotent inserts and upserts -----------------------------------

    def _json_text(self, value: Any) -> Any:
        """``value`` for a JSON column, as the JSON text it is stored as, from a cache of recent ones.

        A page's decisions, evidence, obligations, signal ids and purposes
        mostly repeat those of the page before; ``json.dumps`` of each cost
        the crawl's reactor thread more than serialising it in Rust to look it
        up. ``value`` must be plain JSON (``storable_json``'s output): then
        equal Rust JSON means equal ``json.dumps`` text, so the bytes stored
        are those SQLAlchemy would have written. Without a pass-through
        serializer (see ``database.dump_json``) ``value`` is returned as it is.
        """
        cache = self._json_texts
        if cache is None:
            return value
        try:
            key = to_json(value)
        except ValueError:  # not storable after all: encoded where it always was
            return value
        text = cache.get(key)
        if text is None:
            if len(cache) >= JSON_TEXTS:
                cache.clear()
            text = cache[key] = EncodedJSON(json.dumps(value))
        return text

    def _insert(self, table: sa.Table) -> Any:
        # The engine's own dialect package is loaded already; the other one is never needed.
        if self._engine.dialect.name == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)

    def _insert_ignore(
        self, conn: Connection, table: sa.Table, values: dict[str, Any], keys: Sequence[str]
    ) -> bool:
        """Insert unless a row with the same ``keys`` exists; True if inserted."""
        if self._native_upsert:
            cache_key = ("ignore", table.name, tuple(keys))
            stmt = self._statements.get(cache_key)
            if stmt is None:
                # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT.
                stmt = (
                    self._insert(table)
                    .on_conflict_do_nothing(index_elements=list(keys))
                    .returning(table.c[keys[0]])
                )
                self._statements[cache_key] = stmt
            return conn.execute(stmt, values).first() is not None
        if self._exists(conn, table, values, keys):
            return False
        try:
            with conn.begin_nested():
                conn.execute(sa.insert(table).values(**values))
        except sa.exc.IntegrityError:
            if not self._exists(conn, table, values, keys):
                raise
            return False
        return True

    def _upsert(
        self,
        conn: Connection,
        table: sa.Table,
        values: dict[str, Any],
        keys: Sequence[str],
        update: Sequence[str],
        only_if: Callable[[Any], sa.ColumnElement[bool]] | None = None,
        only_if_py: Callable[[Mapping[Any, Any]], bool] | None = None,
    ) -> None:
        """Insert, or update the ``update`` columns of the row with the same ``keys``.

        ``only_if`` (SQL over the existing row and ``excluded``) and
        ``only_if_py`` (the same test on the existing row, for the portable
        path) guard the update. The native statement is built once per
        table (one guard per table) and reused with new parameters: building
        it costs more than running it.
        """
        if self._native_upsert:
            conn.execute(self._upsert_statement(table, keys, update, only_if), values)
            return
        where = sa.and_(*(table.c[k] == values[k] for k in keys))
        existing = conn.execute(sa.select(table).where(where)).mappings().first()
        if existing is None:
            try:
                with conn.begin_nested():
                    conn.execute(sa.insert(table).values(**values))
                return
            except sa.exc.IntegrityError:
                existing = conn.execute(sa.select(table).where(where)).mappings().first()
                if existing is None:
                    raise
        if only_if_py is not None and not only_if_py(existing):
            return
        conn.execute(sa.update(table).where(where).values({c: values[c] for c in update}))

    def _upsert_statement(
        self,
        table: sa.Table,
        keys: Sequence[str],
        update: Sequence[str],
        only_if: Callable[[Any], sa.ColumnElement[bool]] | None,
    ) -> Any:
        """The native ``INSERT ... ON CONFLICT DO UPDATE``, built once per table and shape."""
        cache_key = ("upsert", table.name, tuple(keys), tuple(update), only_if is not None)
        stmt = self._statements.get(cache_key)
        if stmt is None:
            insert = self._insert(table)
            stmt = insert.on_conflict_do_update(
                index_elements=list(keys),
                set_={c: insert.excluded[c] for c in update},
                where=only_if(insert.excluded) if only_if is not None else None,
            )
            self._statements[cache_key] = stmt
        return stmt

    def _ignore_many_statement(self, table: sa.Table, keys: Sequence[str]) -> Any:
        """The native ``INSERT ... ON CONFLICT DO NOTHING`` without RETURNING, for executemany."""
        cache_key = ("ignore-many", table.name, tuple(keys))
        stmt = self._statements.get(cache_key)
        if stmt is None:
            stmt = self._insert(table).on_conflict_do_nothing(index_elements=list(keys))
            self._statements[cache_key] = stmt
        return stmt

    @staticmethod
    def _exists(
        conn: Connection, table: sa.Table, values: Mapping[Any, Any], keys: Sequence[str]
    ) -> bool:
        where = sa.and_(*(table.c[k] == values[k] for k in keys))
        return (
            conn.execute(sa.select(sa.literal(1)).select_from(table).where(where)).first()
            is not None
        )

    def _require_crawl(self, conn: Connection, crawl_id: str) -> None:
        """A ``LedgerError`` unless crawl ``crawl_id`` was started: every row cites its crawl."""
        if crawl_id in self._known_crawls:
            return
        found = conn.execute(sa.select(CRAWLS.c.id).where(CRAWLS.c.id == crawl_id)).first()
        if found is None:
            raise LedgerError(
                f"unknown crawl {crawl_id!r}: call start_crawl({crawl_id!r}, ...) first"
            )
        self._known_crawls.add(crawl_id)
