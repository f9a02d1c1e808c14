"""The scale-out benchmark: one worker against two, same 1,200 pages, same run.

Each run gets its own Redis server (started here on a free port) and its own
PostgreSQL database, so that the commands and transactions counted per page are
this crawl's alone on a machine other people use too. Workers are real
``fairfetch crawl`` processes with extraction on and ``--extract-processes 1``.

* **2 workers**: the first starts with the seeds; the second ``--join``s once
  the first has requested :data:`JOIN_AFTER` pages, with its own ``--contact``
  so that the fixture server's log tells its requests apart.
* **1 worker**: the same crawl alone.

Compared over *the same stretch of the crawl*: from the joiner's first request
(for the lone worker: from the moment it had requested as many pages as the
pair had then) to the last page. Reported: pages/s over that stretch for both
and their ratio, how long the joiner took from its start to its first request
and the CPU seconds it had used by then (the figure a loaded machine does not
inflate; workers run with compiled bytecode, see ``crawl_bench.crawl_env``),
and per page: round trips to Redis and to PostgreSQL counted in the workers
(each command, pipeline or script call; each statement or commit), commands the
Redis server executed (Lua scripts' inner commands included) and PostgreSQL
transactions.

``python -m tests.bench.scale_bench [--rounds 2]`` prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import redis

from fixtures.web import FixtureWeb
from fixtures.web.bench import bench_host
from tests.bench.crawl_bench import crawl_env, process_cpu_seconds

REPO_ROOT = Path(__file__).resolve().parents[2]
HOSTS, PAGES = 12, 100
JOIN_AFTER = 150  # pages the first worker has requested when the second starts
JOINER = "https://joiner.example/bench"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


@contextmanager
def private_redis() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.RedisError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def private_database() -> Iterator[tuple[str, str]]:
    name = f"ffbench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dbname="test", autocommit=True, **PG) as admin:  # type: ignore[arg-type]
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{PG['user']}@{PG['host']}:{PG['port']}/{name}", name
    finally:
        with psycopg.connect(dbname="test", autocommit=True, **PG) as admin:  # type: ignore[arg-type]
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def transactions(name: str) -> int:
    with psycopg.connect(dbname="test", autocommit=True, **PG) as admin:  # type: ignore[arg-type]
        admin.execute("SELECT pg_stat_clear_snapshot()")
        row = admin.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                            (name,)).fetchone()
    return int(row[0]) if row else 0


def commands(url: str) -> int:
    stats = redis.Redis.from_url(url).info("commandstats")
    return sum(int(v["calls"]) for k, v in stats.items() if k not in ("cmdstat_info", "cmdstat_ping"))


# The real CLI, with every round trip counted on the client side: one per command or
# pipeline sent to Redis (sync and asyncio clients), one per statement and per commit
# sent to PostgreSQL. Written as JSON to argv[1] when the worker exits.
_COUNTING_CLI = """
import atexit, json, sys
import redis.connection, redis.asyncio.connection, sqlalchemy
from sqlalchemy import event
counts = {"redis": 0, "pg": 0}
def counted(cls, name, asynchronous=False):
    original = getattr(cls, name)
    if asynchronous:
        async def wrapper(self, *args, **kwargs):
            counts["redis"] += 1
            return await original(self, *args, **kwargs)
    else:
        def wrapper(self, *args, **kwargs):
            counts["redis"] += 1
            return original(self, *args, **kwargs)
    setattr(cls, name, wrapper)
counted(redis.connection.AbstractConnection, "send_packed_command")
counted(redis.asyncio.connection.AbstractConnection, "send_packed_command", asynchronous=True)
def statement(*_args, **_kwargs):
    counts["pg"] += 1
event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", statement)
event.listen(sqlalchemy.engine.Engine, "commit", statement)
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps(counts)))
from crawler.cli import main
code = main(sys.argv[2:])
sys.exit(code)
"""


def worker(web: FixtureWeb, redis_url: str, db: str, counts: Path, *args: str) -> subprocess.Popen[bytes]:
    env = crawl_env(web, counts.parent / "pycache")  # compiled bytecode, as an installed fairfetch runs
    return subprocess.Popen(
        [sys.executable, "-c", _COUNTING_CLI, str(counts), "crawl", *args, "--redis", redis_url,
         "--crawl-id", "bench", "--db", db, "--depth", "0", "--extract-processes", "1", "--idle", "2", "--json"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@dataclass(frozen=True, slots=True)
class Run:
    workers: int
    pages: int
    page_times: tuple[float, ...]  # server times of the page requests, sorted
    joined_at: float | None  # the joiner's first page request
    join_latency: float | None  # joiner start -> its first request
    join_cpu: float | None  # the joiner's CPU seconds at its first request
    redis_commands: int  # executed by the server, including those inside Lua scripts
    pg_transactions: int
    redis_round_trips: int  # sent by the workers: commands, pipelines and script calls
    pg_round_trips: int  # statements and commits sent by the workers

    def rate_from(self, start_index: int) -> float:
        times = self.page_times[start_index:]
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0


def run(web: FixtureWeb, workers: int, tmp: Path) -> Run:
    seeds = [f"http://{bench_host(h)}/" for h in range(HOSTS)]
    web.reset_log()
    counted = [tmp / f"counts-{workers}-{i}-{time.monotonic_ns()}.json" for i in range(workers)]
    with private_redis() as redis_url, private_database() as (db, name):
        before_pg = transactions(name)
        first = worker(web, redis_url, db, counted[0], *seeds)
        joiner = None
        started = 0.0
        join_cpu: float | None = None
        try:
            if workers == 2:
                while len([r for r in web.requests() if r.path.startswith("/page/")]) < JOIN_AFTER:
                    time.sleep(0.01)
                started = time.time()
                joiner = worker(web, redis_url, db, counted[1], "--join", "--contact", JOINER)
                seen = 0
                while joiner.poll() is None and time.time() - started < 120:
                    log = web.requests()  # the server runs in this process: look at new records only
                    if any(JOINER in r.user_agent for r in log[seen:]):
                        join_cpu = process_cpu_seconds(joiner.pid)
                        break
                    seen = len(log)
                    time.sleep(0.01)
            first.wait(900)
            if joiner is not None:
                joiner.wait(900)
        finally:
            first.kill()
            if joiner is not None:
                joiner.kill()
        log = web.requests()
        redis_commands = commands(redis_url)
        pg = transactions(name) - before_pg
    pages = sorted((r for r in log if r.path == "/" or r.path.startswith("/page/")), key=lambda r: r.time)
    by_joiner = [r.time for r in pages if JOINER in r.user_agent]
    joined = min(by_joiner) if by_joiner else None
    trips = [json.loads(path.read_text()) for path in counted if path.exists()]
    return Run(workers, len(pages), tuple(r.time for r in pages), joined,
               None if joined is None else joined - started, join_cpu, redis_commands, pg,
               sum(t["redis"] for t in trips), sum(t["pg"] for t in trips))


def compare(rounds: int = 2) -> dict[str, Any]:
    """Alternate 1 and 2 workers ``rounds`` times on one fixture web."""
    results: dict[int, list[Run]] = {1: [], 2: []}
    with FixtureWeb(bench_hosts=HOSTS, bench_pages_per_host=PAGES) as web, \
            tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        for _ in range(rounds):
            for n in (1, 2):
                results[n].append(run(web, n, Path(tmp)))
    ratios, one_rates, two_rates = [], [], []
    for one, two in zip(results[1], results[2], strict=True):
        assert two.joined_at is not None, "the joiner never requested a page"
        start = sum(1 for t in two.page_times if t < two.joined_at)  # pages requested before the join
        two_rate, one_rate = two.rate_from(start), one.rate_from(start)
        one_rates.append(one_rate)
        two_rates.append(two_rate)
        ratios.append(two_rate / one_rate if one_rate else 0.0)
    every = results[1] + results[2]
    return {
        "pages": HOSTS * PAGES,
        "rounds": rounds,
        "one_worker_pages_per_second": [round(r, 1) for r in one_rates],
        "two_workers_pages_per_second": [round(r, 1) for r in two_rates],
        "ratio_two_to_one": [round(r, 2) for r in ratios],
        "median_ratio": round(statistics.median(ratios), 2),
        "joiner_first_request_after_seconds": [round(r.join_latency or 0, 2) for r in results[2]],
        "joiner_cpu_seconds_at_first_request": [round(r.join_cpu or 0, 2) for r in results[2]],
        "pages_stored": [r.pages for r in every],
        "redis_round_trips_per_page": {n: [round(r.redis_round_trips / r.pages, 2) for r in results[n]]
                                       for n in (1, 2)},
        "pg_round_trips_per_page": {n: [round(r.pg_round_trips / r.pages, 2) for r in results[n]] for n in (1, 2)},
        "redis_commands_per_page": {n: [round(r.redis_commands / r.pages, 1) for r in results[n]] for n in (1, 2)},
        "pg_transactions_per_page": {n: [round(r.pg_transactions / r.pages, 2) for r in results[n]] for n in (1, 2)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.scale_bench",
                                     description="one fairfetch worker against two on Redis + PostgreSQL")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    print(json.dumps(compare(args.rounds), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
