"""Payments: one row per charge (Pay Per Crawl, RSL), crawler.ledger.spend.

Revision ID: 0003
Revises: 0002

Ledgers written by fairfetch between the payments table and Alembic created
it on open without recording a revision: they are stamped as the baseline,
so the table may already be there and is created only when missing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "payments" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("crawl_id", sa.String(200), sa.ForeignKey("crawls.id"), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(400), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.Numeric(24, 12), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
    )
    op.create_index("ix_payments_crawl_id", "payments", ["crawl_id"])
    op.create_index("ix_payments_origin", "payments", ["origin"])


def downgrade() -> None:
    op.drop_index("ix_payments_origin", "payments")
    op.drop_index("ix_payments_crawl_id", "payments")
    op.drop_table("payments")
