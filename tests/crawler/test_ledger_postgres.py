"""The ledger's idempotency and concurrency guarantees, on SQLite and on a real PostgreSQL.

Each test runs once per backend; the PostgreSQL half needs the server on
127.0.0.1:5432 (skipped locally when it is down, a failure under CI=true).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.ledger import Ledger, LedgerError
from crawler.ledger.models import PAGES
from crawler.ledger.records import storable_text, url_key
from tests.crawler.test_ledger import CRAWL, MESSY, REPO, ROBOTS, T0, fetch, page, robots, start

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    with Ledger(db_url) as led:
        start(led)
        yield led


def _rows(ledger: Ledger, table: str) -> int:
    with ledger.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


# -- idempotency ------------------------------------------------------------------


def test_same_page_twice_is_one_updated_row(ledger: Ledger) -> None:
    url = "https://a.example/story"
    ledger.record_page(page(url))
    ledger.record_page(
        page(url, fetched_at=T0 + timedelta(hours=1), text="second version", status=203)
    )
    assert _rows(ledger, "pages") == 1
    got = ledger.page(url)
    assert got is not None
    assert got["text"] == "second version" and got["status"] == 203
    assert (
        got["first_seen_at"] == T0.isoformat()
        and got["fetched_at"] == (T0 + timedelta(hours=1)).isoformat()
    )


def test_same_fetch_record_twice_is_one_row(ledger: Ledger) -> None:
    entry = fetch(
        "https://a.example/private", outcome="refused", reason="robots.txt disallow", status=None
    )
    ledger.record_fetch(entry)
    ledger.record_fetch(entry)
    ledger.record_fetch(entry.model_copy(update={"at": T0 + timedelta(minutes=3)}))
    assert _rows(ledger, "fetch_log") == 1
    ledger.record_fetch(entry.model_copy(update={"outcome": "error", "reason": "timeout"}))
    assert _rows(ledger, "fetch_log") == 2


def test_signal_history_identical_body_touches_changed_body_adds(ledger: Ledger) -> None:
    first = robots(ledger, at=T0)
    assert robots(ledger, at=T0 + timedelta(hours=6)) == first
    assert _rows(ledger, "signal_snapshots") == 1
    history = ledger.signal_history("robots.txt", "https://a.example/robots.txt")
    assert (
        history[0]["last_seen_at"] == (T0 + timedelta(hours=6)).isoformat()
        and history[0]["seen_count"] == 2
    )
    second = robots(ledger, ROBOTS + b"Disallow: /new\n", at=T0 + timedelta(hours=12))
    assert second != first and _rows(ledger, "signal_snapshots") == 2
    assert _rows(ledger, "origins") == 1


def test_resumed_crawl_reuses_its_id(ledger: Ledger) -> None:
    start(ledger)
    assert _rows(ledger, "crawls") == 1
    crawl = ledger.crawl(CRAWL)
    assert crawl is not None and crawl["runs"] == 2


def test_failed_page_write_leaves_nothing_behind(ledger: Ledger) -> None:
    bad = page("https://a.example/t", fetch=fetch("https://a.example/t", crawl_id="never-started"))
    with pytest.raises(LedgerError):
        ledger.record_page(bad)
    assert _rows(ledger, "pages") == 0 and _rows(ledger, "fetch_log") == 0
    # and the database itself refuses a fetch row of an unknown crawl, rolling back the page with it
    ledger._known_crawls.add("ghost")
    with pytest.raises(sa.exc.IntegrityError):
        ledger.record_page(
            page("https://a.example/fk", fetch=fetch("https://a.example/fk", crawl_id="ghost"))
        )
    assert _rows(ledger, "pages") == 0


def test_export_order_is_code_point_order(ledger: Ledger) -> None:
    urls = [
        "https://a.example/b",
        "https://a.example/B",
        "https://a.example/_",
        "https://a.example/é",
        "https://a.example/e",
        "https://a.example/ä",
    ]
    for url in urls:
        ledger.record_page(page(url, fetch=None))
    assert [p["url"] for p in ledger.export()] == sorted(urls)


def test_long_urls_and_repaired_text(ledger: Ledger) -> None:
    url = "https://a.example/?" + "q" * 8000  # beyond what a PostgreSQL btree can index directly
    ledger.record_page(page(url, text="nul\x00byte", fetch=fetch(url)))
    got = ledger.page(url)
    assert got is not None and got["text"] == "nul\ufffdbyte" and len(got["fetch_log"]) == 1


# -- concurrency --------------------------------------------------------------------


def _race(
    ledger_url: str, work: Callable[[Ledger, int], Any], threads: int = 4, rounds: int = 10
) -> list[Any]:
    """Run ``work`` from several threads, each with its own Ledger, released together by a barrier."""
    barrier = threading.Barrier(threads)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def runner(n: int) -> None:
        try:
            with Ledger(ledger_url) as led:
                barrier.wait(timeout=30)
                for r in range(rounds):
                    value = work(led, n * rounds + r)
                    with lock:
                        results.append(value)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=runner, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert not errors, errors
    return results


def test_concurrent_writers_of_one_url_leave_one_row(ledger: Ledger, db_url: str) -> None:
    url = "https://a.example/contended"
    _race(
        db_url,
        lambda led, i: led.record_page(
            page(url, fetched_at=T0 + timedelta(seconds=i), text=f"v{i}")
        ),
        threads=2,
        rounds=15,
    )
    assert _rows(ledger, "pages") == 1
    got = ledger.page(url)
    # the newest fetch wins whatever the interleaving
    assert got is not None and got["text"] == "v29"
    assert _rows(ledger, "fetch_log") == 1


def test_concurrent_identical_fetch_records_leave_one_row(ledger: Ledger, db_url: str) -> None:
    entry = fetch("https://a.example/x", outcome="refused", reason="HTTP 451", status=451)
    _race(db_url, lambda led, _i: led.record_fetch(entry))
    assert _rows(ledger, "fetch_log") == 1


def test_concurrent_snapshots_of_one_document_leave_one_version(
    ledger: Ledger, db_url: str
) -> None:
    ids = _race(db_url, lambda led, i: robots(led, at=T0 + timedelta(seconds=i)))
    assert len(set(ids)) == 1
    assert _rows(ledger, "signal_snapshots") == 1
    [snap] = ledger.signal_history("robots.txt", "https://a.example/robots.txt")
    assert snap["seen_count"] == 40


def test_concurrent_changes_of_one_document_get_distinct_versions(
    ledger: Ledger, db_url: str
) -> None:
    ids = _race(
        db_url,
        lambda led, i: robots(led, ROBOTS + str(i).encode(), at=T0 + timedelta(seconds=i)),
        threads=4,
        rounds=5,
    )
    history = ledger.signal_history("robots.txt", "https://a.example/robots.txt")
    assert len(set(ids)) == 20 == len(history)
    assert [h["version"] for h in history] == list(range(1, 21))


# -- the service fixtures themselves --------------------------------------------------

_FIXTURE_USERS = """
import pytest

@pytest.mark.services
def test_pg(pg_url):
    pass

@pytest.mark.services
def test_redis(redis_url):
    pass

def test_unmarked(pg_url):
    pass
"""


def _run_fixture_users(tmp_path: Path, ci: bool) -> str:
    (tmp_path / "test_users.py").write_text(_FIXTURE_USERS)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    # Port 9 (discard) is never a database: both services look down.
    env.update(
        PYTHONPATH=str(REPO),
        FAIRFETCH_TEST_PG_PORT="9",
        FAIRFETCH_TEST_REDIS_PORT="9",
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    if ci:
        env["CI"] = "true"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.conftest",
            "-q",
            "-rA",
            "--strict-markers",
            "-o",
            "markers=services: needs services",
            "-p",
            "no:cacheprovider",
            "test_users.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout


def test_unreachable_services_skip_locally_and_fail_under_ci(tmp_path: Path) -> None:
    local = _run_fixture_users(tmp_path, ci=False)
    assert "2 skipped" in local and "1 error" in local, local
    assert "must be marked @pytest.mark.services" in local
    ci = _run_fixture_users(tmp_path, ci=True)
    assert "3 errors" in ci and "skipped" not in ci, ci
    assert (
        "PostgreSQL is not reachable" in ci and "Redis is not reachable" in ci and "CI=true" in ci
    )


def test_processes_starting_together_create_the_tables_once(db_url: str) -> None:
    _race(db_url, lambda led, _i: led.counts()["pages"], threads=6, rounds=1)
    with Ledger(db_url) as led:
        assert led.counts()["pages"] == 0


def test_export_streams_many_pages_in_url_order(ledger: Ledger) -> None:
    sids = [
        robots(ledger, ROBOTS + str(i).encode(), at=T0 + timedelta(minutes=i)) for i in range(3)
    ]
    n = 1100  # more than two batches
    rows = [
        {
            "url": f"https://a.example/{i:05d}",
            "url_key": url_key(f"https://a.example/{i:05d}"),
            "host": "a.example",
            "crawl_id": CRAWL,
            "fetched_at": T0,
            "first_seen_at": T0,
            "metadata": {},
            "decisions": {},
            "evidence": [],
            "obligations": [],
            "signal_ids": [sids[i % 3]],
            "user_agent": "fairfetch",
            "purposes": [],
        }
        for i in reversed(range(n))
    ]
    with ledger.engine.begin() as conn:  # bulk setup; record_page itself is covered above
        conn.execute(PAGES.insert(), rows)
    exported = list(ledger.export())
    assert [p["url"] for p in exported] == [f"https://a.example/{i:05d}" for i in range(n)]
    assert all(p["signals"][0]["id"] == sids[i % 3] for i, p in enumerate(exported))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(st.none(), st.text(MESSY, max_size=300)),
    key=st.text(MESSY, max_size=20),
    reason=st.text(MESSY, max_size=40),
)
def test_any_text_is_stored_or_repaired_on_every_backend(
    ledger: Ledger, text: str | None, key: str, reason: str
) -> None:
    url = "https://a.example/prop"
    ledger.record_page(
        page(
            url,
            text=text,
            metadata={key: [text, reason]},
            fetched_at=datetime.now(UTC),
            fetch=fetch(url, outcome="error", reason=reason, status=None),
        )
    )
    got = ledger.page(url)
    assert got is not None
    fixed = None if text is None else storable_text(text)
    assert got["text"] == fixed
    assert got["metadata"] == {storable_text(key): [fixed, storable_text(reason)]}
    assert storable_text(reason) in [f["reason"] for f in got["fetch_log"]]


def test_workers_starting_one_crawl_together_each_count_a_run(db_url: str) -> None:
    _race(db_url, lambda led, _i: start(led, "shared"), threads=4, rounds=3)
    with Ledger(db_url) as led:
        crawl = led.crawl("shared")
        assert crawl is not None and crawl["runs"] == 12
        assert led.counts()["crawls"] == 1


def test_finishing_records_stats_and_an_unknown_crawl_is_refused(ledger: Ledger) -> None:
    with ledger.engine.connect() as conn:  # not finished yet: SQL NULL, not the JSON literal null
        assert (
            conn.execute(sa.text("SELECT count(*) FROM crawls WHERE stats IS NULL")).scalar_one()
            == 1
        )
    ledger.finish_crawl(CRAWL, {"pages": 2})
    crawl = ledger.crawl(CRAWL)
    assert crawl is not None and crawl["stats"] == {"pages": 2} and crawl["finished_at"] is not None
    with pytest.raises(LedgerError, match="unknown crawl"):
        ledger.finish_crawl("never-started", {})
