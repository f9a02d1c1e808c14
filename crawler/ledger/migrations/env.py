"""Alembic's environment for the ledger: always run on a connection handed over by crawler.ledger.upgrade."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import crawler.ledger.models
import crawler.ledger.refusals  # noqa: F401  (its table, created on first use, is in the migrations too)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
