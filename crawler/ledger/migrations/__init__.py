"""The ledger's schema history, managed with Alembic.

A new ledger is created from the current models (``create_all``) and stamped
with the newest revision; a ledger written by an older fairfetch is brought
up to date in place by ``fairfetch ledger upgrade --db URL``
(:func:`crawler.ledger.upgrade.upgrade`), never silently: opening it reports
that it needs upgrading. Ledgers from before Alembic carry no
``alembic_version`` table; their schema is :data:`BASELINE`.

Revisions live in ``versions/``; each one works on SQLite (batch mode) and
PostgreSQL. To change the schema: change ``crawler/ledger/models.py``, add
``versions/NNNN_what.py`` by hand after the last one (``down_revision``) and
set :data:`HEAD`; ``tests/crawler/test_ledger_upgrade.py`` fails until a
ledger built by the migrations equals one created from the models, and keeps
the upgrade from the previous release's rows honest. This module imports nothing from the store, so the store can ask
it about a connection without an import cycle, and it imports Alembic only to
upgrade (not even to stamp a new ledger): every ``fairfetch`` command opens a
ledger, and Alembic's import costs more than the check (one SELECT).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

HEAD = "0005"
"""The newest revision in ``versions/`` (a test keeps it equal to Alembic's view of the scripts)."""

VERSION_TABLE = "alembic_version"

BASELINE = "0001"
"""The schema before Alembic (fairfetch up to main@f4ad9a2)."""

LEDGER_TABLES = frozenset({"crawls", "origins", "signal_snapshots", "hosts", "pages", "fetch_log"})
"""Tables every ledger has had since the baseline: their presence means 'a fairfetch ledger'."""

def _on_disk(here: Path) -> Path:
    """``here`` as a real directory: Alembic reads its scripts from one, and Scrapyd imports from a zipped egg."""
    if here.is_dir():
        return here
    import tempfile
    import zipfile

    archive = next(p for p in here.parents if p.is_file())
    inner = here.relative_to(archive).as_posix() + "/"
    target = Path(tempfile.mkdtemp(prefix="fairfetch-migrations-"))
    with zipfile.ZipFile(archive) as egg:
        for name in egg.namelist():
            if name.startswith(inner) and name.endswith(".py"):
                egg.extract(name, target)
    return target / inner


HERE = _on_disk(Path(__file__).resolve().parent)


@cache
def script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(HERE))


def head() -> str:
    return HEAD


def current_revision(conn: Connection, tables: set[str]) -> str | None:
    """The ledger's schema revision; None when ``conn`` holds no ledger at all."""
    if not tables & LEDGER_TABLES:
        return None
    if VERSION_TABLE not in tables:
        return BASELINE
    found = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().first()
    return found or BASELINE


def stamp_head(conn: Connection) -> None:
    """Mark a ledger just created from the current models as being at the newest revision.

    The table and row Alembic's own stamp writes (``version_num`` VARCHAR(32),
    primary key ``alembic_version_pkc``; a test compares the two), without
    importing Alembic and reading ``versions/``: ~70 ms of CPU before the
    first request of every crawl into a new ledger.
    """
    version = sa.Table(
        VERSION_TABLE, sa.MetaData(),
        sa.Column("version_num", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
    )
    version.create(conn, checkfirst=True)
    found = set(conn.execute(sa.select(version.c.version_num)).scalars())
    if not found:
        conn.execute(version.insert().values(version_num=HEAD))
    elif found != {HEAD}:
        raise RuntimeError(f"{VERSION_TABLE} already names revisions {sorted(found)}: not a fairfetch ledger's")
