"""RSL licence token requests (OLP): crawler.ledger.licences.

Revision ID: 0005
Revises: 0004

``crawler.ledger.licences`` also creates the table on first use, so a ledger
may have it already whatever its revision: created only when missing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "license_grants" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "license_grants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("crawl_id", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("server", sa.String(400), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("license_url", sa.Text(), nullable=False),
        sa.Column("license_sha256", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.String(64), nullable=True),
        sa.Column("detail", sa.String(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_fingerprint", sa.String(16), nullable=True),
    )
    op.create_index("ix_license_grants_crawl_id", "license_grants", ["crawl_id"])


def downgrade() -> None:
    op.drop_index("ix_license_grants_crawl_id", "license_grants")
    op.drop_table("license_grants")
