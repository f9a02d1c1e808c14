"""The ledger as fairfetch created it before Alembic (main@f4ad9a2).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "crawls",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("user_agent", sa.String(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("seeds", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("last_started_at", _utc(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.Column("stats", sa.JSON(), nullable=True),
    )
    op.create_table(
        "origins",
        sa.Column("origin", sa.String(400), primary_key=True),
        sa.Column("host", sa.String(300), nullable=False),
        sa.Column("first_seen_at", _utc(), nullable=False),
        sa.Column("last_seen_at", _utc(), nullable=False),
    )
    op.create_index("ix_origins_host", "origins", ["host"])
    op.create_table(
        "signal_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("origin", sa.String(400), sa.ForeignKey("origins.origin"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_key", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("first_seen_at", _utc(), nullable=False),
        sa.Column("last_seen_at", _utc(), nullable=False),
        sa.Column("seen_count", sa.Integer(), nullable=False),
        sa.Column("crawl_id", sa.String(200), sa.ForeignKey("crawls.id"), nullable=False),
        sa.UniqueConstraint("kind", "url_key", "version", name="uq_snapshot_version"),
    )
    op.create_index("ix_signal_snapshots_origin", "signal_snapshots", ["origin"])
    op.create_table(
        "hosts",
        sa.Column("host", sa.String(300), primary_key=True),
        sa.Column("source_class", sa.String(), nullable=True),
        sa.Column("platform", sa.String(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("classified_at", _utc(), nullable=False),
    )
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_key", sa.String(64), nullable=False, unique=True),
        sa.Column("canonical_url", sa.String(), nullable=True),
        sa.Column("host", sa.String(300), nullable=False),
        sa.Column("crawl_id", sa.String(200), sa.ForeignKey("crawls.id"), nullable=False),
        sa.Column("fetched_at", _utc(), nullable=False),
        sa.Column("first_seen_at", _utc(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(128), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("obligations", sa.JSON(), nullable=False),
        sa.Column("signal_ids", sa.JSON(), nullable=False),
        sa.Column("source_class", sa.String(), nullable=True),
        sa.Column("page_role", sa.String(), nullable=True),
        sa.Column("platform", sa.String(), nullable=True),
        sa.Column("user_agent", sa.String(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
    )
    op.create_index("ix_pages_host", "pages", ["host"])
    op.create_index("ix_pages_crawl_id", "pages", ["crawl_id"])
    op.create_table(
        "fetch_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("crawl_id", sa.String(200), sa.ForeignKey("crawls.id"), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_key", sa.String(64), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
    )
    op.create_index("ix_fetch_log_crawl_id", "fetch_log", ["crawl_id"])
    op.create_index("ix_fetch_log_url_key", "fetch_log", ["url_key"])


def downgrade() -> None:
    for table in ("fetch_log", "pages", "hosts", "signal_snapshots", "origins", "crawls"):
        op.drop_table(table)
