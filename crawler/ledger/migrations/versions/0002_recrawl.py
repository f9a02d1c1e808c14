"""Re-crawls: HTTP validators and the revocation mark on pages, the revocations table.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns: SQLite adds them with a plain ALTER TABLE, no table copy.
    op.add_column("pages", sa.Column("etag", sa.Text(), nullable=True))
    op.add_column("pages", sa.Column("last_modified", sa.Text(), nullable=True))
    op.add_column("pages", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "revocations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_key", sa.String(64), nullable=False),
        sa.Column("host", sa.String(300), nullable=False),
        sa.Column("crawl_id", sa.String(200), sa.ForeignKey("crawls.id"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("text_purged", sa.Boolean(), nullable=False),
        sa.Column("old_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("old_signal_ids", sa.JSON(), nullable=False),
        sa.Column("new_signal_ids", sa.JSON(), nullable=False),
        sa.Column("old_decisions", sa.JSON(), nullable=False),
        sa.Column("new_decisions", sa.JSON(), nullable=False),
        sa.Column("old_evidence", sa.JSON(), nullable=False),
        sa.Column("new_evidence", sa.JSON(), nullable=False),
    )
    op.create_index("ix_revocations_url_key", "revocations", ["url_key"])
    op.create_index("ix_revocations_host", "revocations", ["host"])


def downgrade() -> None:
    op.drop_index("ix_revocations_host", "revocations")
    op.drop_index("ix_revocations_url_key", "revocations")
    op.drop_table("revocations")
    with op.batch_alter_table("pages") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("last_modified")
        batch.drop_column("etag")
