"""The ``Ledger``: idempotent, transactional writes of provenance and the reads behind ``fairfetch ledger``.

Any SQLAlchemy URL works. SQLite (the default, a file in the current
directory) runs in WAL mode with a busy timeout, and every write transaction
starts with ``BEGIN IMMEDIATE`` so concurrent writers queue on the lock
instead of failing half-way with "database is locked". PostgreSQL and SQLite
use native ``INSERT ... ON CONFLICT``; other backends fall back to an insert
inside a savepoint followed by an update.

Idempotency is what lets a crawl be killed (even with ``kill -9``) and
resumed: a page is keyed by its URL, a fetch-log row by a hash of its
attempt-independent fields, a signal snapshot by its content; replaying any
write leaves the ledger as it was.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from crawler.ledger import migrations
from crawler.ledger.export import fetch_dict, iso, page_dict, snapshot_dict
from crawler.ledger.models import (
    REQUIRED_TABLES,
    TABLES,
    Crawl,
    FetchLog,
    Host,
    Origin,
    Page,
    SignalSnapshot,
)
from crawler.ledger.records import (
    OUTCOMES,
    FetchRecord,
    PageRecord,
    as_utc,
    storable_json,
    storable_text,
    url_key,
    utc_now,
)

DEFAULT_DB_URL = "sqlite:///fairfetch.sqlite"

# Bodies of signal documents are kept up to this size. robots.txt parsers
# must read at least 500 KiB (RFC 9309); 1 MiB keeps every byte a parser
# could have used. ``sha256`` and ``size`` always describe the full body.
MAX_SIGNAL_BODY = 1024 * 1024

# SQLite waits this long for the write lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 30.0

_SNAPSHOT_RETRIES = 20
# Any constant works; it only has to be the same in every process creating the tables.
_PG_SCHEMA_LOCK = 0x66616972
PG_SCHEMA_LOCK = _PG_SCHEMA_LOCK
_BATCH = 500

CRAWLS = Crawl.__table__  # type: ignore[attr-defined]
ORIGINS = Origin.__table__  # type: ignore[attr-defined]
SNAPSHOTS = SignalSnapshot.__table__  # type: ignore[attr-defined]
HOSTS = Host.__table__  # type: ignore[attr-defined]
PAGES = Page.__table__  # type: ignore[attr-defined]
FETCH_LOG = FetchLog.__table__  # type: ignore[attr-defined]


class LedgerError(RuntimeError):
    """The ledger could not do what was asked. The message says why, in plain words."""


def host_of(url: str) -> str:
    """Lower-case host of ``url`` ('' when it has none)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _make_engine(db_url: str) -> Engine:
    try:
        url = sa.engine.make_url(db_url)
    except sa.exc.ArgumentError as exc:
        raise LedgerError(f"not a database URL: {db_url!r}") from exc
    try:
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        return sa.create_engine(url, pool_pre_ping=True)
    except (ModuleNotFoundError, sa.exc.NoSuchModuleError) as exc:
        raise LedgerError(f"no database driver for {url.drivername!r}: {exc}") from exc


def _require_sqlite_file(db_url: str) -> None:
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


def _sqlite_engine(url: sa.URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in str(url)
    if not in_memory and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {
        "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
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


def _fingerprint(status: int | None, sha256: str | None, error: str | None) -> str:
    parts = ("" if status is None else str(status), sha256 or "", error or "")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _check_length(name: str, value: str, limit: int) -> str:
    if not value:
        raise LedgerError(f"{name} must not be empty")
    if len(value) > limit:
        raise LedgerError(f"{name} is longer than {limit} characters: {value[:60]!r}...")
    return value


class Ledger:
    """The provenance store. One instance per process; safe to share between threads.

    Tables are created on first use. Every public write is one transaction.
    """

    def __init__(self, db_url: str = DEFAULT_DB_URL, *, create: bool = True) -> None:
        """Open (and with ``create``, set up) the ledger at ``db_url``.

        ``create=False`` is for readers: it refuses to conjure an empty
        ledger out of a mistyped path or an unprepared database.
        """
        self.db_url = db_url
        if not create:
            _require_sqlite_file(db_url)
        self._engine = _make_engine(db_url)
        self._native_upsert = self._engine.dialect.name in ("sqlite", "postgresql")
        self._known_crawls: set[str] = set()
        # Snapshot rows are never deleted, so an id once seen committed stays
        # valid: pages citing it need not look it up again.
        self._known_snapshots: set[int] = set()
        self._statements: dict[tuple[Any, ...], Any] = {}
        try:
            if not create:
                with self._read() as conn:  # a reader never takes SQLite's write lock
                    self._schema_revision(conn)
                missing = {t.__tablename__ for t in REQUIRED_TABLES} - set(
                    sa.inspect(self._engine).get_table_names()
                )
                if missing:
                    raise LedgerError(
                        f"{self._safe_url()} holds no fairfetch ledger (missing tables: {', '.join(sorted(missing))})"
                    )
                return
            self._create_tables()
        except LedgerError:
            self._engine.dispose()
            raise
        except sa.exc.SQLAlchemyError as exc:
            self._engine.dispose()
            raise LedgerError(
                f"cannot open the ledger at {self._safe_url()}: {exc.__class__.__name__}: {_first_line(exc)}"
            ) from exc

    # -- plumbing ---------------------------------------------------------

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
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_SCHEMA_LOCK)))
            if self._schema_revision(conn) is None:
                SQLModel.metadata.create_all(conn, tables=tables)
                migrations.stamp_head(conn)

    def _schema_revision(self, conn: Connection) -> str | None:
        """The ledger's schema revision (None: no ledger yet); an older one is an error naming the upgrade."""
        found = migrations.current_revision(conn, set(sa.inspect(conn).get_table_names()))
        if found is not None and found != migrations.head():
            raise LedgerError(
                f"the ledger at {self._safe_url()} has schema revision {found}, this fairfetch needs "
                f"{migrations.head()}: run 'fairfetch ledger upgrade --db {self._safe_url()}' (rows are kept)"
            )
        return found

    def _safe_url(self) -> str:
        try:
            return sa.engine.make_url(self.db_url).render_as_string(hide_password=True)
        except sa.exc.ArgumentError:
            return repr(self.db_url)

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

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

    def _insert(self, table: sa.Table) -> Any:
        if self._engine.dialect.name == "postgresql":
            return postgresql.insert(table)
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
        if crawl_id in self._known_crawls:
            return
        found = conn.execute(sa.select(CRAWLS.c.id).where(CRAWLS.c.id == crawl_id)).first()
        if found is None:
            raise LedgerError(
                f"unknown crawl {crawl_id!r}: call start_crawl({crawl_id!r}, ...) first"
            )
        self._known_crawls.add(crawl_id)

    # -- crawls -----------------------------------------------------------

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
        crawl_id = _check_length("crawl id", storable_text(crawl_id), 200)
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

    # -- signals ----------------------------------------------------------

    def record_signal(
        self,
        *,
        crawl_id: str,
        origin: str,
        kind: str,
        url: str,
        status: int | None,
        body: bytes | None,
        error: str | None,
        fetched_at: datetime,
        truncated: bool = False,
    ) -> int:
        """Keep what a signal document said at ``fetched_at``; returns the snapshot id to cite.

        A document identical to the latest version of (``kind``, ``url``) —
        same status, body and error — only moves that version's
        ``last_seen_at``; anything else becomes a new version. A body over
        ``MAX_SIGNAL_BODY`` is stored truncated (``truncated``), its hash and
        size still those of the whole body. ``truncated=True``: the fetch
        itself stopped at its byte cap (a robots.txt over 500 KiB, a gzip bomb).
        """
        origin = _check_length("origin", storable_text(origin).lower().rstrip("/"), 400)
        kind = _check_length("signal kind", storable_text(kind), 40)
        url = _check_length("signal url", storable_text(url), 100_000)
        error = None if error is None else storable_text(error)
        if body is not None and not isinstance(body, bytes | bytearray | memoryview):
            raise LedgerError(f"signal body must be bytes, not {type(body).__name__}")
        at = as_utc(fetched_at)
        raw = bytes(body) if body is not None else None
        sha = hashlib.sha256(raw).hexdigest() if raw is not None else None
        fingerprint = _fingerprint(status, sha, error)
        key = url_key(url)
        last_exc: Exception | None = None
        for _ in range(_SNAPSHOT_RETRIES):
            try:
                with self._write() as conn:
                    self._require_crawl(conn, crawl_id)
                    self._touch_origin(conn, origin, at)
                    latest = (
                        conn.execute(
                            sa.select(SNAPSHOTS.c.id, SNAPSHOTS.c.version, SNAPSHOTS.c.fingerprint)
                            .where(SNAPSHOTS.c.kind == kind, SNAPSHOTS.c.url_key == key)
                            .order_by(SNAPSHOTS.c.version.desc())
                            .limit(1)
                        )
                        .mappings()
                        .first()
                    )
                    if latest is not None and latest["fingerprint"] == fingerprint:
                        snapshot_id: int = latest["id"]
                        conn.execute(
                            sa.update(SNAPSHOTS)
                            .where(SNAPSHOTS.c.id == snapshot_id)
                            .values(
                                last_seen_at=sa.case(
                                    (SNAPSHOTS.c.last_seen_at < at, at),
                                    else_=SNAPSHOTS.c.last_seen_at,
                                ),
                                seen_count=SNAPSHOTS.c.seen_count + 1,
                            )
                        )
                        written = snapshot_id
                    else:
                        result = conn.execute(
                            sa.insert(SNAPSHOTS).values(
                                origin=origin,
                                kind=kind,
                                url=url,
                                url_key=key,
                                version=(latest["version"] + 1) if latest is not None else 1,
                                status=status,
                                body=raw[:MAX_SIGNAL_BODY] if raw is not None else None,
                                size=len(raw) if raw is not None else None,
                                # also when the fetch itself stopped at its byte cap
                                truncated=truncated or (raw is not None and len(raw) > MAX_SIGNAL_BODY),
                                sha256=sha,
                                error=error,
                                fingerprint=fingerprint,
                                first_seen_at=at,
                                last_seen_at=at,
                                seen_count=1,
                                crawl_id=crawl_id,
                            )
                        )
                        inserted = result.inserted_primary_key
                        assert inserted is not None
                        written = int(inserted[0])
                # Committed: pages may cite it without the ledger looking it up.
                self._known_snapshots.add(written)
                return written
            except sa.exc.IntegrityError as exc:
                # Another writer stored a version of the same document first; look again.
                last_exc = exc
        raise LedgerError(f"could not record the {kind} snapshot of {url}: {_first_line(last_exc)}")

    def _touch_origin(self, conn: Connection, origin: str, at: datetime) -> None:
        values = {
            "origin": origin,
            "host": host_of(origin) or origin,
            "first_seen_at": at,
            "last_seen_at": at,
        }
        self._upsert(
            conn,
            ORIGINS,
            values,
            ["origin"],
            ["last_seen_at"],
            only_if=lambda excluded: ORIGINS.c.last_seen_at < excluded.last_seen_at,
            only_if_py=lambda row: _naive(row["last_seen_at"]) < _naive(at),
        )

    def snapshot(self, snapshot_id: int) -> dict[str, Any] | None:
        """One signal snapshot with its stored body (bytes)."""
        with self._read() as conn:
            row = (
                conn.execute(sa.select(SNAPSHOTS).where(SNAPSHOTS.c.id == snapshot_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        out = snapshot_dict(row)
        out["body"] = row["body"]
        out["crawl_id"] = row["crawl_id"]
        return out

    def signal_history(self, kind: str, url: str) -> list[dict[str, Any]]:
        """Every version of one signal document, oldest first (bodies left out)."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(SNAPSHOTS)
                .where(SNAPSHOTS.c.kind == kind, SNAPSHOTS.c.url_key == url_key(url))
                .order_by(SNAPSHOTS.c.version)
            ).mappings()
            return [snapshot_dict(r) for r in rows]

    # -- pages and fetches ------------------------------------------------

    def record_page(self, page: PageRecord) -> None:
        """Insert or update the page row for ``page.url`` and its fetch-log row, in one transaction.

        An older fetch never overwrites a newer one: replaying a page after a
        resume with an earlier ``fetched_at`` leaves the row as it is.
        """
        self.record_pages([page])

    def record_pages(self, pages: Sequence[PageRecord]) -> None:
        """Write several pages and their fetch-log rows in one transaction: all of them or none.

        The crawler batches its pages because the per-transaction cost
        (``BEGIN IMMEDIATE``, commit, statement set-up) dominated the write of
        one small row. The outcome is that of writing the pages one by one in
        order: per URL the latest ``fetched_at`` wins (a later record on a
        tie), an older fetch never overwrites a newer row already stored, and
        fetch-log rows stay idempotent. A page citing a snapshot id the ledger
        does not hold fails the whole batch with a ``LedgerError``.
        """
        if not pages:
            return
        rows: dict[str, dict[str, Any]] = {}
        fetches: dict[str, dict[str, Any]] = {}
        crawl_ids: set[str] = set()
        cited: set[int] = set()
        for page in pages:
            values = _page_values(page)
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
                fetches.setdefault(page.fetch.key, _fetch_values(page.fetch))
        with self._write() as conn:
            for crawl_id in crawl_ids:
                self._require_crawl(conn, crawl_id)
            self._check_signal_ids(conn, cited)
            if self._native_upsert:
                conn.execute(
                    self._upsert_statement(PAGES, ["url_key"], _PAGE_UPDATE, _newer_fetch),
                    list(rows.values()),
                )
                if fetches:
                    conn.execute(
                        self._ignore_many_statement(FETCH_LOG, ["key"]), list(fetches.values())
                    )
                return
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
            for values in fetches.values():
                self._insert_ignore(conn, FETCH_LOG, values, ["key"])

    def _check_signal_ids(self, conn: Connection, ids: Iterable[int]) -> None:
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

    def set_host_class(
        self,
        host: str,
        source_class: str | None,
        platform: str | None,
        evidence: list[dict[str, Any]],
    ) -> None:
        """Record how a host was classified (replacing an earlier classification)."""
        host = _check_length("host", storable_text(host).strip().lower().rstrip("."), 300)
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

    # -- reads ------------------------------------------------------------

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
        order = PAGES.c.url
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
            for start in range(0, len(keys), 500):  # bounded IN lists
                chunk = keys[start:start + 500]
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


def _page_values(page: PageRecord) -> dict[str, Any]:
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
        "decisions": page.decisions,
        "evidence": page.evidence,
        "obligations": page.obligations,
        "signal_ids": list(page.signal_ids),
        "source_class": page.source_class,
        "page_role": page.page_role,
        "platform": page.platform,
        "user_agent": page.user_agent,
        "purposes": page.purposes,
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
    return lambda row: _naive(row["fetched_at"]) <= _naive(fetched_at)


def _fetch_values(entry: FetchRecord) -> dict[str, Any]:
    return {
        "key": entry.key,
        "crawl_id": entry.crawl_id,
        "url": entry.url,
        "url_key": url_key(entry.url),
        "at": entry.at,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "status": entry.status,
    }


def _naive(value: datetime) -> datetime:
    """Comparable form of a stored or given time (SQLite hands back naive UTC)."""
    return as_utc(value).replace(tzinfo=None)


make_engine = _make_engine
require_sqlite_file = _require_sqlite_file


def safe_url(db_url: str) -> str:
    """``db_url`` with its password hidden, for messages."""
    try:
        return sa.engine.make_url(db_url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return repr(db_url)


def _first_line(exc: BaseException | None) -> str:
    text = str(exc or "").strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
