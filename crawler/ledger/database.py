"""Opening the ledger's database: the engine for a URL, SQLite's locking, and errors in plain words.

Any SQLAlchemy URL works. SQLite (the default, a file in the current
directory) runs in WAL mode with a busy timeout, and every write transaction
starts with ``BEGIN IMMEDIATE`` so concurrent writers queue on the lock
instead of failing half-way with "database is locked"; reads (execution
option ``ledger_read``) take no write lock. Kept apart from ``Ledger`` because
``fairfetch ledger upgrade`` opens the same database without creating or
checking its tables.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

DEFAULT_DB_URL = "sqlite:///fairfetch.sqlite"

# SQLite waits this long for the write lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 30.0

# Everything that creates or changes tables on PostgreSQL queues on this
# transaction-scoped advisory lock (ledger creation, ``ledger upgrade``, the
# refusal-evidence table). Any constant works; it only has to be the same in
# every process.
PG_SCHEMA_LOCK = 0x66616972


class LedgerError(RuntimeError):
    """The ledger could not do what was asked. The message says why, in plain words."""


class EncodedJSON(str):
    """JSON text the ledger encoded itself (a value repeated page after page, cached): written as it is."""

    __slots__ = ()


def dump_json(value: Any) -> str:
    """The SQLite and PostgreSQL engines' JSON serializer: ``json.dumps`` as before, ``EncodedJSON`` passed through."""
    if type(value) is EncodedJSON:
        return str.__str__(value)
    return json.dumps(value)


def make_engine(db_url: str) -> Engine:
    """The engine for ``db_url``; a bad URL or a missing driver is a ``LedgerError``."""
    try:
        url = sa.engine.make_url(db_url)
    except sa.exc.ArgumentError as exc:
        raise LedgerError(f"not a database URL: {db_url!r}") from exc
    try:
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        if url.get_backend_name() == "postgresql":
            return sa.create_engine(url, pool_pre_ping=True, json_serializer=dump_json)
        return sa.create_engine(url, pool_pre_ping=True)
    except (ModuleNotFoundError, sa.exc.NoSuchModuleError) as exc:
        raise LedgerError(f"no database driver for {url.drivername!r}: {exc}") from exc


def require_sqlite_file(db_url: str) -> None:
    """Refuse a SQLite file URL whose file does not exist: readers must not conjure an empty ledger."""
    try:
        url = sa.engine.make_url(db_url)
    except sa.exc.ArgumentError as exc:
        raise LedgerError(f"not a database URL: {db_url!r}") from exc
    database = url.database or ""
    is_file = (
        url.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not database.startswith("file:")
    )
    if is_file and not Path(database).expanduser().is_file():
        raise LedgerError(f"no ledger at {database} (run a crawl first, or pass --db)")


def safe_url(db_url: str) -> str:
    """``db_url`` with its password hidden, for messages."""
    try:
        return sa.engine.make_url(db_url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return repr(db_url)


def first_line(exc: BaseException | None) -> str:
    """The first line of an exception's message (driver errors run to many lines), or its class name."""
    text = str(exc or "").strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def _sqlite_engine(url: sa.URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in str(url)
    if not in_memory and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {
        "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        "json_serializer": dump_json,
    }
    if in_memory:
        # One shared connection, or every thread would see its own empty database.
        kwargs["poolclass"] = sa.pool.StaticPool
    engine = sa.create_engine(url, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # busy_timeout first: switching to WAL needs a lock another process may hold.
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        if not in_memory:
            _when_unlocked(lambda: cursor.execute("PRAGMA journal_mode=WAL"))
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Purged text (crawler.ledger.revocation) is overwritten with zeros, not left in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Reads may share the database with a writer (WAL); writes take the
        # lock up front so two writers never deadlock on a lock upgrade.
        conn.exec_driver_sql(
            "BEGIN" if conn.get_execution_options().get("ledger_read") else "BEGIN IMMEDIATE"
        )

    return engine


def _when_unlocked(action: Callable[[], object]) -> None:
    """Run ``action``, retrying while SQLite says the database is locked.

    Switching a new database to WAL needs an exclusive lock, and SQLite does
    not always wait on the busy timeout for it: processes that open one new
    ledger at the same moment would otherwise fail at once with "database
    is locked".
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    pause = 0.01
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.25)
