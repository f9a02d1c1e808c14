"""The ledger's tables: what was fetched, under which signals, and why it was allowed.

Provenance must answer "which signals were in force when we took this page,
and why were we allowed to?" long after the publisher changed them (AIPREF:
preferences are not retroactive), so signal documents are kept as a history
of snapshots and every page row points at the snapshots that applied.

URLs are matched through ``url_key`` (sha256 of the URL) rather than
indexed directly: PostgreSQL cannot index a text value beyond ~2.7 kB and
real URLs sometimes are that long.

Columns are portable across SQLite and PostgreSQL: JSON uses ``sa.JSON``,
datetimes are stored in UTC (``DateTime(timezone=True)``; SQLite drops the
zone, the store re-attaches UTC when reading).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json_column(name: str | None = None, *, nullable: bool = False) -> Any:
    # none_as_null: a Python None is SQL NULL, not the JSON literal null.
    kind = sa.JSON(none_as_null=nullable)
    if name is None:
        return sa.Column(kind, nullable=nullable)
    return sa.Column(name, kind, nullable=nullable)


class Crawl(SQLModel, table=True):
    """One crawl, possibly resumed several times under the same id."""

    __tablename__ = "crawls"

    id: str = Field(primary_key=True, max_length=200)
    user_agent: str
    purposes: list[str] = Field(sa_column=_json_column())
    seeds: list[str] = Field(sa_column=_json_column())
    settings: dict[str, Any] = Field(sa_column=_json_column())
    started_at: datetime = Field(sa_type=_utc())
    last_started_at: datetime = Field(sa_type=_utc())
    runs: int = 1
    finished_at: datetime | None = Field(default=None, sa_type=_utc())
    stats: dict[str, Any] | None = Field(default=None, sa_column=_json_column(nullable=True))


class Origin(SQLModel, table=True):
    """A scheme://host[:port] whose signal documents we fetched."""

    __tablename__ = "origins"

    origin: str = Field(primary_key=True, max_length=400)
    host: str = Field(index=True, max_length=300)
    first_seen_at: datetime = Field(sa_type=_utc())
    last_seen_at: datetime = Field(sa_type=_utc())


class SignalSnapshot(SQLModel, table=True):
    """One version of a signal document (robots.txt, RSL licence, tdmrep.json) as fetched.

    A new row is written only when the document changed (``fingerprint``:
    status, body hash and error together); an identical re-fetch moves
    ``last_seen_at`` and bumps ``seen_count``. ``version`` numbers the
    versions of one (kind, url); its unique constraint makes concurrent
    writers of the same change collide instead of writing it twice.
    """

    __tablename__ = "signal_snapshots"
    __table_args__ = (
        sa.UniqueConstraint("kind", "url_key", "version", name="uq_snapshot_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    origin: str = Field(foreign_key="origins.origin", index=True, max_length=400)
    kind: str = Field(max_length=40)
    url: str = Field(sa_type=sa.Text)
    url_key: str = Field(max_length=64)
    version: int
    status: int | None = None
    body: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    size: int | None = None
    truncated: bool = False
    sha256: str | None = Field(default=None, max_length=64)
    error: str | None = None
    fingerprint: str = Field(max_length=64)
    first_seen_at: datetime = Field(sa_type=_utc())
    last_seen_at: datetime = Field(sa_type=_utc())
    seen_count: int = 1
    crawl_id: str = Field(foreign_key="crawls.id", max_length=200)


class Host(SQLModel, table=True):
    """What kind of source a host is (news, forum, user-hosted platform ...), and why we think so."""

    __tablename__ = "hosts"

    host: str = Field(primary_key=True, max_length=300)
    source_class: str | None = None
    platform: str | None = None
    evidence: list[dict[str, Any]] = Field(sa_column=_json_column())
    classified_at: datetime = Field(sa_type=_utc())


class Page(SQLModel, table=True):
    """The latest fetch of one URL with the decisions, evidence and signals that applied to it.

    Re-crawling a URL updates this row (``url`` is unique); ``first_seen_at``
    keeps the first time it entered the ledger. ``signal_ids`` are
    :class:`SignalSnapshot` ids. ``text`` is NULL when the decisions did not
    allow keeping it.
    """

    __tablename__ = "pages"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_type=sa.Text)
    url_key: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    canonical_url: str | None = None
    host: str = Field(index=True, max_length=300)
    crawl_id: str = Field(foreign_key="crawls.id", index=True, max_length=200)
    fetched_at: datetime = Field(sa_type=_utc())
    first_seen_at: datetime = Field(sa_type=_utc())
    status: int | None = None
    content_hash: str | None = Field(default=None, max_length=128)
    text: str | None = Field(default=None, sa_type=sa.Text)
    # "metadata" is reserved on declarative classes, hence the attribute name.
    meta: dict[str, Any] = Field(sa_column=_json_column("metadata"))
    decisions: dict[str, Any] = Field(sa_column=_json_column())
    evidence: list[dict[str, Any]] = Field(sa_column=_json_column())
    obligations: list[dict[str, Any]] = Field(sa_column=_json_column())
    signal_ids: list[int] = Field(sa_column=_json_column())
    source_class: str | None = None
    page_role: str | None = None
    platform: str | None = None
    user_agent: str
    purposes: list[str] = Field(sa_column=_json_column())
    # Validators for conditional re-requests (If-None-Match / If-Modified-Since), as the server sent them.
    etag: str | None = Field(default=None, sa_type=sa.Text)
    last_modified: str | None = Field(default=None, sa_type=sa.Text)
    # Set when newer signals revoked the page's use and its text was purged (see crawler.ledger.revocation).
    revoked_at: datetime | None = Field(default=None, sa_type=_utc())


class FetchLog(SQLModel, table=True):
    """Every request made and every request the norms refused, with the reason.

    ``key`` is a hash of the attempt-independent fields (crawl, url, outcome,
    reason, status): a crawl killed and resumed replays the same entries and
    the unique constraint turns them into no-ops.
    """

    __tablename__ = "fetch_log"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    crawl_id: str = Field(foreign_key="crawls.id", index=True, max_length=200)
    url: str = Field(sa_type=sa.Text)
    url_key: str = Field(index=True, max_length=64)
    at: datetime = Field(sa_type=_utc())
    outcome: str = Field(max_length=16)
    reason: str
    status: int | None = None


class Payment(SQLModel, table=True):
    """Money paid for one response: a Pay Per Crawl charge (``crawler-charged``) or an RSL payment.

    A row per charge, never updated: a page fetched again is billed again, and
    ``fairfetch ledger spend`` adds the rows up per origin and crawl.
    """

    __tablename__ = "payments"

    id: int | None = Field(default=None, primary_key=True)
    crawl_id: str = Field(foreign_key="crawls.id", index=True, max_length=200)
    url: str = Field(sa_type=sa.Text)
    origin: str = Field(index=True, max_length=400)
    at: datetime = Field(sa_type=_utc())
    amount: Decimal = Field(sa_type=sa.Numeric(24, 12))
    currency: str = Field(max_length=8)
    kind: str = Field(max_length=32)  # "pay-per-crawl" | "rsl"
    detail: str = ""


class Revocation(SQLModel, table=True):
    """A stored page whose use newer signals deny: its text was purged, the evidence of both sides kept.

    ``scope`` is ``site`` (a changed robots.txt, licence or tdmrep.json,
    found without refetching the page) or ``page`` (the page itself now says
    no, found when it was fetched again). ``purposes`` are the usages the
    page had been stored for that are denied now; ``old_*`` is what allowed
    them, ``new_*`` what denies them.
    """

    __tablename__ = "revocations"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_type=sa.Text)
    url_key: str = Field(index=True, max_length=64)
    host: str = Field(index=True, max_length=300)
    crawl_id: str = Field(foreign_key="crawls.id", max_length=200)
    revoked_at: datetime = Field(sa_type=_utc())
    scope: str = Field(max_length=8)
    purposes: list[str] = Field(sa_column=_json_column())
    reason: str = Field(sa_type=sa.Text)
    text_purged: bool = True
    old_fetched_at: datetime | None = Field(default=None, sa_type=_utc())
    old_signal_ids: list[int] = Field(sa_column=_json_column())
    new_signal_ids: list[int] = Field(sa_column=_json_column())
    old_decisions: dict[str, Any] = Field(sa_column=_json_column())
    new_decisions: dict[str, Any] = Field(sa_column=_json_column())
    old_evidence: list[dict[str, Any]] = Field(sa_column=_json_column())
    new_evidence: list[dict[str, Any]] = Field(sa_column=_json_column())


TABLES = (Crawl, Origin, SignalSnapshot, Host, Page, FetchLog, Payment, Revocation)
# What a ledger must hold to be read at all. Since Alembic (crawler.ledger.migrations) every
# table is created by the migration that introduced it; a reader checks the revision first.
REQUIRED_TABLES = (Crawl, Origin, SignalSnapshot, Host, Page, FetchLog)

# The Core tables the store's statements are built on (SQLModel leaves ``__table__`` untyped).
CRAWLS: sa.Table = Crawl.__table__  # type: ignore[attr-defined]
ORIGINS: sa.Table = Origin.__table__  # type: ignore[attr-defined]
SNAPSHOTS: sa.Table = SignalSnapshot.__table__  # type: ignore[attr-defined]
HOSTS: sa.Table = Host.__table__  # type: ignore[attr-defined]
PAGES: sa.Table = Page.__table__  # type: ignore[attr-defined]
FETCH_LOG: sa.Table = FetchLog.__table__  # type: ignore[attr-defined]
