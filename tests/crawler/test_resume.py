"""Resume after ``kill -9``: same ``--db`` and ``--jobdir``, nothing lost, nothing duplicated.

A real ``fairfetch crawl`` subprocess crawls a generated web, is SIGKILLed once
some pages are in the ledger, and is started again. The ledger must then hold
every page of the web exactly once under one crawl id, no fetch-log entry twice,
and the pages stored before the kill must not have been fetched again; only
pages not yet written at the kill (in flight, or in the pipeline's unwritten
batch) may be.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from crawler.ledger import Ledger
from crawler.pipelines import BATCH_PAGES
from fixtures.web import FixtureWeb
from tests.crawler.crawlrun import REPO, crawl_command, crawl_env, run_crawl

pytestmark = pytest.mark.slow

HOSTS = 2
PAGES = 60
KILL_AFTER = 25  # pages in the ledger


def _stored_urls(db_file: Path) -> set[str]:
    if not db_file.exists():
        return set()
    engine = sa.create_engine(f"sqlite:///{db_file}")
    try:
        with engine.connect() as conn:
            return {row[0] for row in conn.execute(sa.text("SELECT url FROM pages"))}
    except sa.exc.OperationalError:  # tables not created yet
        return set()
    finally:
        engine.dispose()


def test_kill_9_and_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    db_file = tmp_path / "ledger.sqlite"
    db = f"sqlite:///{db_file}"
    jobdir = tmp_path / "job"
    options = ("--jobdir", str(jobdir), "--depth", "0", "--concurrency", "2", "--delay", "0.05")
    with FixtureWeb(bench_hosts=HOSTS, bench_pages_per_host=PAGES) as web:
        bench = [h for h in web.hosts if h.startswith("bench-")]
        seeds = [web.site(h).seed_url for h in bench]
        expected = {f"http://{h}{p}" for h in bench for p in web.site(h).expected["stored_paths"]}
        assert len(expected) == HOSTS * PAGES

        proc = subprocess.Popen(
            crawl_command(seeds, db, *options), env=crawl_env(web), cwd=REPO,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while len(_stored_urls(db_file)) < KILL_AFTER:
                assert proc.poll() is None, "the crawl finished before it could be killed"
                assert time.monotonic() < deadline, "the crawl stored too few pages"
                time.sleep(0.05)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        before = _stored_urls(db_file)
        assert KILL_AFTER <= len(before) < len(expected)
        requests_before = Counter(f"http://{r.host}{r.path}" for r in web.requests())

        run = run_crawl(web, seeds, db, *options)
        assert run.returncode == 0, run.stderr[-3000:]
        assert run.summary["resumed"] is True
        requests_after = Counter(f"http://{r.host}{r.path}" for r in web.requests()) - requests_before

    ledger = Ledger(db)
    pages = list(ledger.export())
    urls = Counter(p["url"] for p in pages)
    # every page of the web, exactly once, all under the one crawl id kept in the jobdir
    assert set(urls) == expected
    assert max(urls.values()) == 1
    assert {p["crawl_id"] for p in pages} == {run.summary["crawl_id"]}
    assert all(p["text"] for p in pages)
    # no fetch-log entry twice: one 'fetched' row per page
    fetched = Counter(r["url"] for r in ledger.fetch_log() if r["outcome"] == "fetched")
    assert set(fetched) == expected and max(fetched.values()) == 1
    # pages stored before the kill were replayed from the ledger, not fetched again
    assert not (set(requests_after) & before)
    # what is fetched twice is only what was not yet written: in flight at the kill, or in
    # the pipeline's one unwritten batch
    refetched = (set(requests_before) & set(requests_after) & expected) - before
    assert len(refetched) <= BATCH_PAGES + 2  # 2: --concurrency
    crawl = ledger.crawl(run.summary["crawl_id"])
    assert crawl is not None and crawl["runs"] == 2 and crawl["finished_at"] is not None
