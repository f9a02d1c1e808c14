"""``fairfetch ledger upgrade``: bring a ledger written by an older fairfetch to the current schema, in place.

One transaction on both backends (SQLite and PostgreSQL both have
transactional DDL): an upgrade that fails half-way leaves the ledger as it
was. On PostgreSQL the upgrade holds the same advisory lock as ledger
creation, so a crawler starting meanwhile waits instead of reading a schema
in the middle of its change. A ledger from before Alembic is first stamped
with the baseline revision, then upgraded; every row is kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from pydantic import BaseModel

from crawler.ledger import migrations
from crawler.ledger.database import (
    PG_SCHEMA_LOCK,
    LedgerError,
    make_engine,
    require_sqlite_file,
    safe_url,
)


class UpgradeResult(BaseModel):
    """What ``upgrade`` did: the revision found, the revision now, and whether anything changed."""

    db: str
    from_revision: str
    to_revision: str

    @property
    def changed(self) -> bool:
        return self.from_revision != self.to_revision


def upgrade(db_url: str) -> UpgradeResult:
    """Upgrade the ledger at ``db_url`` to the newest schema; raises ``LedgerError`` in plain words."""
    require_sqlite_file(db_url)
    engine = make_engine(db_url)
    shown = safe_url(db_url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_SCHEMA_LOCK)))
            tables = set(sa.inspect(conn).get_table_names())
            found = migrations.current_revision(conn, tables)
            if found is None:
                raise LedgerError(f"{shown} holds no fairfetch ledger: nothing to upgrade")
            known = {s.revision for s in migrations.script_directory().walk_revisions()}
            if found not in known:
                raise LedgerError(
                    f"{shown} has schema revision {found}, which this fairfetch does not know "
                    "(written by a newer version?): upgrade fairfetch instead"
                )
            config = Config()
            config.set_main_option("script_location", str(migrations.HERE))
            config.attributes["connection"] = conn
            if "alembic_version" not in tables:
                command.stamp(config, migrations.BASELINE)
            command.upgrade(config, "head")
            now = migrations.current_revision(conn, set(sa.inspect(conn).get_table_names()))
    except sa.exc.SQLAlchemyError as exc:
        raise LedgerError(f"could not upgrade {shown}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from exc
    finally:
        engine.dispose()
    return UpgradeResult(db=shown, from_revision=found, to_revision=now or found)
