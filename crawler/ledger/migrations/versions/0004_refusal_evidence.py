"""Refusal evidence: why a request that never became a page was refused or failed (crawler.ledger.refusals).

Revision ID: 0004
Revises: 0003

``crawler.ledger.refusals`` also creates the table on first use, so a ledger
may have it already whatever its revision: created only when missing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "refusal_evidence" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "refusal_evidence",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("crawl_id", sa.String(200), nullable=False),
        sa.Column("url_key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("signal_ids", sa.JSON(), nullable=False),
    )
    op.create_index("ix_refusal_evidence_crawl_id", "refusal_evidence", ["crawl_id"])
    op.create_index("ix_refusal_evidence_url_key", "refusal_evidence", ["url_key"])


def downgrade() -> None:
    op.drop_index("ix_refusal_evidence_url_key", "refusal_evidence")
    op.drop_index("ix_refusal_evidence_crawl_id", "refusal_evidence")
    op.drop_table("refusal_evidence")
