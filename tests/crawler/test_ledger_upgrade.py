"""``fairfetch ledger upgrade``: a ledger written by the previous fairfetch (schema and rows from main@f4ad9a2,
tests/crawler/ledger_v0.py) is upgraded in place on SQLite and PostgreSQL and reads back completely.

Also: a fresh ledger is created at the newest revision and its schema equals
what the migrations build from nothing (Alembic's own comparison), so the
models and the migrations cannot drift apart; an old ledger is refused with
the command to run rather than failing on a missing column.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

# Both register their tables (refusal_evidence, license_grants): compared with the migrations too.
import crawler.ledger.licences
import crawler.ledger.refusals  # noqa: F401
from crawler.ledger import Ledger, LedgerError, migrations
from crawler.ledger.upgrade import upgrade
from tests.crawler.crawlrun import FAIRFETCH, REPO
from tests.crawler.ledger_v0 import build_old_ledger


def _cli(*args: str, expect: int = 0) -> str:
    proc = subprocess.run([str(FAIRFETCH), "ledger", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == expect, proc.stderr
    return proc.stdout + proc.stderr


def _check_everything_reads_back(db_url: str, old: dict[str, list[dict[str, Any]]]) -> None:
    with Ledger(db_url, create=False) as ledger:
        pages = {p["url"]: p for p in ledger.export()}
        assert set(pages) == {p["url"] for p in old["pages"]}
        for row in old["pages"]:
            page = pages[row["url"]]
            assert page["text"] == row["text"] and page["content_hash"] == row["content_hash"]
            assert page["decisions"] == row["decisions"] and page["evidence"] == row["evidence"]
            assert page["signal_ids"] == row["signal_ids"] and len(page["signals"]) == 1
            assert page["revoked"] is False and page["etag"] is None
        shown = ledger.page("http://shinbun.example/kiji")
        assert shown is not None and [f["outcome"] for f in shown["fetch_log"]] == ["fetched"]
        snapshots = {s["id"]: s for s in old["signal_snapshots"]}
        for sid, row in snapshots.items():
            stored = ledger.snapshot(sid)
            assert stored is not None and stored["body"] == row["body"] and stored["error"] == row["error"]
        assert len(ledger.fetch_log()) == len(old["fetch_log"])
        crawl = ledger.crawl("crawl-v0")
        assert crawl is not None and crawl["stats"] == {"fetched": 4, "stored": 4} and crawl["finished_at"]
        host = ledger.host_class("news.example")
        assert host is not None and host["source_class"] == "canonical"
        assert ledger.counts()["signal_snapshots"] == len(old["signal_snapshots"])
    # and it is writable again: a new crawl into the upgraded ledger
    with Ledger(db_url) as ledger:
        ledger.start_crawl("crawl-v1", user_agent="fairfetch", purposes=["ai-input"], seeds=[], settings={})
        assert ledger.counts()["crawls"] == 2


def _upgrade_and_check(db_url: str) -> None:
    old = build_old_ledger(db_url)
    with pytest.raises(LedgerError, match="fairfetch ledger upgrade --db"):
        Ledger(db_url)
    assert "upgrade" in _cli("stats", "--db", db_url, expect=2)
    out = _cli("upgrade", "--db", db_url)
    assert f"from schema {migrations.BASELINE} to {migrations.head()}" in " ".join(out.split())
    _check_everything_reads_back(db_url, old)
    assert "up to date" in _cli("upgrade", "--db", db_url)  # a second run changes nothing
    _check_everything_reads_back(db_url, old)


def test_upgrade_an_old_sqlite_ledger_in_place(tmp_path: Path) -> None:
    _upgrade_and_check(f"sqlite:///{tmp_path / 'old.sqlite'}")


@pytest.mark.services
def test_upgrade_an_old_postgresql_ledger_in_place(pg_url: str) -> None:
    _upgrade_and_check(pg_url)


def test_upgrade_a_ledger_that_already_has_the_payments_table(tmp_path: Path) -> None:
    """Between the payments table and Alembic, fairfetch created tables on open without a revision."""
    from crawler.ledger.models import Payment

    db_url = f"sqlite:///{tmp_path / 'between.sqlite'}"
    old = build_old_ledger(db_url)
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        Payment.__table__.create(conn)  # type: ignore[attr-defined]
        conn.execute(Payment.__table__.insert().values(  # type: ignore[attr-defined]
            crawl_id="crawl-v0", url="http://news.example/story", origin="http://news.example",
            at=old["crawls"][0]["started_at"], amount="0.01", currency="USD", kind="pay-per-crawl"))
    engine.dispose()
    result = upgrade(db_url)
    assert (result.from_revision, result.to_revision) == (migrations.BASELINE, migrations.head())
    _check_everything_reads_back(db_url, old)
    from crawler.ledger.spend import spend

    with Ledger(db_url, create=False) as ledger:
        (total,) = spend(ledger)
    assert str(total["amount"]) == "0.01" and total["origin"] == "http://news.example"


def test_a_new_ledger_is_what_the_migrations_build(tmp_path: Path) -> None:
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    Ledger(fresh).close()
    migrated = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    sa.create_engine(migrated).dispose()
    (tmp_path / "migrated.sqlite").touch()
    # an empty file holds no ledger: the upgrade says so instead of inventing one
    with pytest.raises(LedgerError, match="holds no fairfetch ledger"):
        upgrade(migrated)
    engine = sa.create_engine(migrated)
    from alembic import command
    from alembic.config import Config

    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(migrations.HERE))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == []
    version_tables = []
    for url in (fresh, migrated):
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == migrations.head()
            version_tables.append(conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = :name"),
                                               {"name": migrations.VERSION_TABLE}).scalar_one())
        engine.dispose()
    # stamped without Alembic (migrations.stamp_head), the version table is the one Alembic makes
    assert version_tables[0] == version_tables[1]


def test_head_names_the_newest_migration() -> None:
    assert migrations.script_directory().get_current_head() == migrations.HEAD


def test_upgrade_refuses_what_is_not_a_ledger(tmp_path: Path) -> None:
    out = _cli("upgrade", "--db", f"sqlite:///{tmp_path / 'missing.sqlite'}", "--json", expect=1)
    assert "no ledger at" in out and "Traceback" not in out


def test_upgrade_from_0004_adds_the_licence_grants_table(tmp_path: Path) -> None:
    """A ledger of the release before licence tokens (revision 0004) gets ``license_grants``, its rows kept."""
    from datetime import UTC, datetime

    from crawler.ledger.licences import license_grants, record_grant

    db_url = f"sqlite:///{tmp_path / 'r4.sqlite'}"
    with Ledger(db_url) as ledger:
        ledger.start_crawl("crawl-r4", user_agent="fairfetch", purposes=["ai-input"], seeds=[], settings={})
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        if sa.inspect(conn).has_table("license_grants"):  # a new ledger has it; one from 0004 did not
            conn.execute(sa.text("DROP TABLE license_grants"))
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0004'"))
    engine.dispose()
    with pytest.raises(LedgerError, match="fairfetch ledger upgrade --db"):
        Ledger(db_url)
    result = upgrade(db_url)
    assert (result.from_revision, result.to_revision) == ("0004", migrations.head())
    with Ledger(db_url, create=False) as ledger:
        assert ledger.crawl("crawl-r4") is not None
        row = record_grant(ledger, crawl_id="crawl-r4", at=datetime.now(UTC), server="https://lic.example",
                           resource="https://a.example/*", license_url="https://a.example/license.xml",
                           license_xml="<license/>", outcome="granted", token="tok-123")
        (grant,) = license_grants(ledger)
    assert grant["id"] == row and grant["token_fingerprint"] and grant["token_fingerprint"] != "tok-123"
