"""Extraction in a process pool (crawler.extract_pool): same text as on the reactor, and a killed
pool process loses no page.

The crawl runs through the real CLI against the fixture web's bench hosts; a
pool process is killed with SIGKILL mid-crawl (found as a grandchild of the
crawl process: crawl -> forkserver -> pool process). Judged from the ledger:
every page stored once, each with the text ``crawler.extract`` gives for the
page the server sent.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from crawler.extract import extract
from crawler.extract_pool import ExtractPool, page_work, read_page
from crawler.ledger import Ledger
from fixtures.web import FixtureWeb
from tests.crawler.crawlrun import REPO, crawl_command, crawl_env, path_of


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def pool_processes(crawl_pid: int) -> list[int]:
    """The pool's processes: children of the crawl's forkserver (itself a child of the crawl)."""
    for child in children(crawl_pid):
        try:
            cmdline = (Path("/proc") / str(child) / "cmdline").read_bytes()
        except OSError:
            continue
        if b"forkserver" in cmdline:
            return children(child)
    return []


@pytest.mark.slow
def test_a_killed_pool_process_loses_no_page(tmp_path: Path) -> None:
    with FixtureWeb(bench_hosts=3, bench_pages_per_host=40) as web:
        bench = [h for h in web.hosts if h.startswith("bench-")]
        db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
        command = crawl_command([web.site(h).seed_url for h in bench], db, "--depth", "0",
                                "--extract-processes", "2", "--delay", "0.05")
        proc = subprocess.Popen(command, env=crawl_env(web), cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while len([r for r in web.requests() if r.path.startswith("/page/")]) < 30:
                assert time.monotonic() < deadline and proc.poll() is None, "the crawl never got going"
                time.sleep(0.02)
            workers = pool_processes(proc.pid)
            assert len(workers) == 2, workers
            os.kill(workers[0], signal.SIGKILL)
            out, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
        assert proc.returncode == 0, err
        summary = json.loads(out)
        expected = {(h, p) for h in bench for p in web.site(h).expected["stored_paths"]}
        sample = sorted(expected)[::17]
        with httpx.Client(proxy=web.proxy_url) as client:
            served = {key: client.get(f"http://{key[0]}{key[1]}").text for key in sample}

    assert summary["extract_processes"] == 2
    assert summary["extract_pool_restarts"] >= 1, summary
    with Ledger(db) as ledger:
        pages = {(row["url"].split("/")[2], path_of(row["url"])): row for row in ledger.export()}
    assert set(pages) == expected, f"lost: {sorted(expected - set(pages))[:5]}"
    assert all(row["text"] for row in pages.values()), "a page stored without its text"
    for key, html in served.items():
        assert pages[key]["text"] == extract(html, f"http://{key[0]}{key[1]}").text, key


def test_the_pool_gives_what_the_reactor_gives() -> None:
    """Same function, other process: the result crosses the process boundary unchanged."""
    import asyncio

    html = (REPO / "fixtures" / "pages").glob("*.html")
    pages = [(p.read_text(encoding="utf-8"), f"https://news.example/{p.stem}") for p in sorted(html)][:6]

    async def main() -> list[object]:
        pool = ExtractPool(1)
        try:
            return [await pool.run(text, url, (), None, True) for text, url in pages]
        finally:
            pool.close()

    assert asyncio.run(main()) == [page_work(text, url, (), None, True) for text, url in pages]


def test_a_page_read_in_the_pool_is_what_the_reactor_reads() -> None:
    """read_page (facts, links, exclusions, text) crosses the process boundary unchanged, walled parts
    left out of the text as the verdict will ask."""
    import asyncio

    paths = [*sorted((REPO / "fixtures" / "pages").glob("*.html"))][:6]
    pages = [(p.read_bytes(), f"https://news.example/{p.stem}") for p in paths]
    tokens = ("fairfetch",)

    async def main() -> list[object]:
        pool = ExtractPool(1)
        try:
            return [await pool.read(body, body.decode(), url, None, tokens, True) for body, url in pages]
        finally:
            pool.close()

    got = asyncio.run(main())
    assert got == [read_page(body, body.decode(), url, None, tokens, True) for body, url in pages]
    assert any(work.exclusions for work in got)  # a page with walled parts is among them
    for work in got:
        assert work.facts is not None and work.facts.doc.root is None and work.links is not None


def test_a_pool_result_does_not_load_trafilatura_into_the_crawler() -> None:
    """Unpickling a result imports its classes' modules: none of them may bring trafilatura (half a
    second of CPU and ~40 MB on the reactor at the first page), nor the pool's CPU count disturb equality."""
    import pickle
    import sys

    page = REPO / "fixtures" / "pages" / "paywall_graph_parts.html"
    work = read_page(page.read_bytes(), page.read_text(encoding="utf-8"), "https://news.example/plain", None,
                     ("fairfetch",), True)
    assert work.extracted is not None and work.extracted.text and work.cpu_seconds > 0
    assert work.facts is not None and work.facts.paywall is not None
    probe = ("import pickle, sys; pickle.loads(sys.stdin.buffer.read()); "
             "print(sorted(m for m in ('trafilatura', 'htmldate', 'numpy', 'crawler.extract') if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", probe], input=pickle.dumps(work), capture_output=True,
                           cwd=REPO, check=True, timeout=120)
    assert found.stdout.decode().strip() == "[]", found.stderr.decode()[-2000:]


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


@pytest.mark.slow
def test_a_killed_crawl_leaves_no_pool_process_behind(tmp_path: Path) -> None:
    """kill -9 of the crawl: its forkserver and pool processes exit on their own, soon."""
    with FixtureWeb(bench_hosts=2, bench_pages_per_host=40) as web:
        bench = [h for h in web.hosts if h.startswith("bench-")]
        db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
        command = crawl_command([web.site(h).seed_url for h in bench], db, "--depth", "0",
                                "--extract-processes", "2", "--delay", "0.2")
        proc = subprocess.Popen(command, env=crawl_env(web), cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            workers: list[int] = []
            while len(workers) < 2:
                assert time.monotonic() < deadline and proc.poll() is None, "the pool never started"
                time.sleep(0.05)
                workers = pool_processes(proc.pid)
            forkservers = [c for c in children(proc.pid)
                           if b"forkserver" in (Path("/proc") / str(c) / "cmdline").read_bytes()]
            proc.kill()
            proc.wait(timeout=10)
            left = [*workers, *forkservers]
            deadline = time.monotonic() + 15
            while any(_alive(pid) for pid in left) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            proc.kill()
    assert not [pid for pid in left if _alive(pid)], "pool processes outlived the killed crawl"
