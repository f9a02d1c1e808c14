"""Builds a ledger with the schema and rows of fairfetch main@f4ad9a2 (before Alembic), for upgrade tests.

The DDL (``data/ledger_v0_<dialect>.sql``) and the rows (``data/ledger_v0_rows.json``,
written by that commit's ``Ledger`` through ``data/make_ledger_v0.py``) come
from the old code, not from the migrations under test.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

DATA = Path(__file__).parent / "data"
ORDER = ("crawls", "origins", "signal_snapshots", "hosts", "pages", "fetch_log")


def rows() -> dict[str, list[dict[str, Any]]]:
    raw = json.loads((DATA / "ledger_v0_rows.json").read_text(encoding="utf-8"))
    out: dict[str, list[dict[str, Any]]] = {}
    for table, items in raw.items():
        out[table] = [{k: _value(v) for k, v in item.items()} for item in items]
    return out


def _value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"base64"}:
        return base64.b64decode(value["base64"])
    if isinstance(value, dict) and set(value) == {"datetime"}:
        return datetime.fromisoformat(value["datetime"])
    return value


def build_old_ledger(db_url: str) -> dict[str, list[dict[str, Any]]]:
    """Create the old schema at ``db_url`` and fill it; returns the rows written."""
    engine = sa.create_engine(db_url)
    data = rows()
    try:
        ddl = (DATA / f"ledger_v0_{engine.dialect.name}.sql").read_text(encoding="utf-8")
        statements = [s.strip() for s in ddl.split(";")]
        with engine.begin() as conn:
            for statement in statements:
                body = "\n".join(line for line in statement.splitlines() if not line.startswith("--"))
                if body.strip():
                    conn.exec_driver_sql(body)
            meta = sa.MetaData()
            meta.reflect(conn)
            for name in ORDER:
                table = meta.tables[name]
                for item in data[name]:
                    conn.execute(table.insert().values(**_typed(table, item)))
            if engine.dialect.name == "postgresql":
                for name in ("signal_snapshots", "pages", "fetch_log"):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"
                    )
    finally:
        engine.dispose()
    return data


def _typed(table: sa.Table, item: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in item.items():
        column = table.c[key]
        if isinstance(column.type, sa.JSON) and isinstance(value, str):
            value = json.loads(value)  # SQLite hands JSON back as text when reflected
        out[key] = value
    return out
