"""The crawl benchmark harness: ``fairfetch crawl`` against a bare Scrapy spider, same pages, same run.

What makes the comparison fair:

* **same pages**: both crawlers start from every bench host's root and follow
  links to the seed hosts (the bench pages link 5 pages of their own host and
  one page of the next, which is a seed host too), with no depth limit. The bare
  spider skips ``/private/`` by a plain prefix test, not by reading robots.txt,
  so both request exactly the 2,000 bench pages; fairfetch's robots.txt and
  tdmrep.json (and sitemap) fetches are part of its cost and count against it.
  :func:`compare` checks from the server's request log that both fetched the
  same set of pages.
* **same engine settings**: the bare spider copies every setting that paces a
  crawl from ``crawler.settings`` (:data:`PACING_KEYS`: concurrency per domain,
  AutoThrottle, delays, timeouts, retries, reactor), and both get the same
  ``CONCURRENT_REQUESTS``; same Scrapy, same Python, same proxy (``http_proxy``
  from :meth:`FixtureWeb.env`), and the same garbage-collector policy
  (:func:`crawler.gcpolicy.apply_crawl_gc_policy`, applied as each spider starts).
* **same conditions**: each crawl runs in its own subprocess (fairfetch through
  its real CLI with a fresh SQLite ledger), the variants alternate round by round
  (bare, fairfetch, bare, fairfetch, ...) against one server whose page cache is
  warmed first, and the best round of each variant is compared, so machine noise
  hits both alike.

Time is measured from the first request the server logs for a run to the exit
of the crawl process: interpreter start-up and imports (a fixed cost, heavier for
fairfetch's CLI) are left out, the ledger's final writes and Scrapy's shutdown
are in. The whole process wall time is reported as well.

CPU is reported where wall time on a shared machine cannot be trusted: the crawl
process's CPU seconds at its first request (start-up) and in all, and for
fairfetch with extraction the CPU its extraction pool's processes spent on pages
(``extract_cpu_seconds`` of the crawl's JSON summary; the pool's processes are
not the crawl process's children once it exits, so ``wait4`` misses them),
each also per page. Every crawl runs with compiled bytecode, as an installed
fairfetch does: :func:`crawl_env` points ``PYTHONPYCACHEPREFIX`` at a cache
the warm-up run fills, even where the caller's environment sets
``PYTHONDONTWRITEBYTECODE`` (compiling the sources every time added a few
tenths of a second of start-up).

``python -m tests.bench.crawl_bench compare [--rounds 3 --concurrency 16]`` prints
the figures for docs/benchmarks-crawl.md; ``python -m tests.bench.crawl_bench bare
SEED...`` is the bare spider's own entry point, used by :func:`run_bare`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import scrapy
from scrapy.http import Response

from crawler.gcpolicy import apply_crawl_gc_policy
from fixtures.web import FixtureWeb
from fixtures.web.bench import BENCH_FORBIDDEN, bench_host
from fixtures.web.model import RequestRecord

REPO_ROOT = Path(__file__).resolve().parents[2]
BARE_UA = "bare-scrapy-bench/1.0"
# Per-origin documents fairfetch reads before or beside the pages (robots.txt,
# TDMRep, the sitemap for source classification): they cost it time but are not pages.
ORIGIN_DOCUMENTS = ("/robots.txt", "/.well-known/tdmrep.json", "/sitemap.xml")

# Every setting of crawler.settings that changes how fast or how much a crawl
# fetches. The bare spider takes these values from there, so a change to
# fairfetch's pacing moves both sides of the comparison.
PACING_KEYS = (
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "CONCURRENT_ITEMS",  # Scrapy runs this many tasks per callback's output: a CPU cost per page
    "AUTOTHROTTLE_ENABLED",
    "AUTOTHROTTLE_START_DELAY",
    "AUTOTHROTTLE_MAX_DELAY",
    "AUTOTHROTTLE_TARGET_CONCURRENCY",
    "DOWNLOAD_DELAY",
    "DOWNLOAD_TIMEOUT",
    "DOWNLOAD_MAXSIZE",
    "DOWNLOAD_WARNSIZE",
    "RETRY_TIMES",
    "RETRY_HTTP_CODES",
    "REDIRECT_MAX_TIMES",
    "METAREFRESH_ENABLED",
    "COOKIES_ENABLED",
    "DUPEFILTER_CLASS",
    "DEPTH_PRIORITY",  # breadth-first order, so that both crawl in the same order
    "SCHEDULER_DISK_QUEUE",
    "SCHEDULER_MEMORY_QUEUE",
    "TWISTED_REACTOR",
)


def fairfetch_pacing() -> dict[str, Any]:
    """The values of :data:`PACING_KEYS` a ``fairfetch crawl`` runs with (Scrapy's default where unset)."""
    from scrapy.settings import Settings

    fair = Settings()
    fair.setmodule("crawler.settings", priority="project")  # as fairfetch crawl loads them
    return {key: fair[key] for key in PACING_KEYS}


def pacing_settings(concurrency: int) -> dict[str, Any]:
    """The bare spider's settings: fairfetch's pacing, no robots.txt, no pipelines, quiet."""
    settings: dict[str, Any] = fairfetch_pacing()
    settings.update(
        CONCURRENT_REQUESTS=concurrency,
        DEPTH_LIMIT=0,  # fairfetch runs with --depth 0 (no limit) as well
        ROBOTSTXT_OBEY=False,
        ITEM_PIPELINES={},
        USER_AGENT=BARE_UA,
        LOG_LEVEL="WARNING",
        TELNETCONSOLE_ENABLED=False,
    )
    return settings


class BareSpider(scrapy.Spider):
    """A plain spider: fetch, find ``<a href>`` links, follow those on seed hosts. Nothing enforced."""

    name = "bare"

    def __init__(self, seeds: list[str] | None = None, skip_prefix: str = BENCH_FORBIDDEN,
                 gc_policy: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seeds = list(seeds or [])
        self.hosts = {(urlsplit(s).hostname or "").lower() for s in self.seeds}
        self.skip_prefix = skip_prefix
        self.pages = 0
        # fairfetch's garbage-collector policy (crawler.gcpolicy): an interpreter setting, shared
        # like the pacing settings so that it cannot count as fairfetch being faster.
        self.gc_policy = gc_policy

    async def start(self) -> Any:
        if self.gc_policy:
            apply_crawl_gc_policy()  # the same point as fairfetch's spider: set up, about to crawl
        for seed in self.seeds:
            yield scrapy.Request(seed, callback=self.parse)

    def parse(self, response: Response, **_: Any) -> Any:
        self.pages += 1
        for href in response.xpath("//a/@href").getall():
            url = urldefrag(response.urljoin(href.strip()))[0]
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or (parts.hostname or "") not in self.hosts:
                continue
            if self.skip_prefix and parts.path.startswith(self.skip_prefix):
                continue
            yield scrapy.Request(url, callback=self.parse)


@dataclass(frozen=True, slots=True)
class CrawlRun:
    """One crawl subprocess, measured from outside and from the server's request log."""

    name: str
    exit_code: int
    crawl_seconds: float  # first request seen by the server -> process exit
    wall_seconds: float  # process spawn -> process exit
    max_rss_mib: float  # peak resident set size of the crawl process
    cpu_seconds: float  # user + system CPU time of the crawl process, start-up included
    requests: tuple[RequestRecord, ...]
    output: str  # stdout + stderr tail, for a failure message
    startup_cpu_seconds: float | None = None  # the crawl process's CPU when the server saw its first request
    pool_cpu_seconds: float = 0.0  # fairfetch: CPU its extraction pool's processes spent on pages

    @property
    def pages(self) -> frozenset[tuple[str, str]]:
        """(host, path) of every page answered 200, per-origin documents excluded."""
        return frozenset(
            (r.host, r.path) for r in self.requests if r.status == 200 and r.path not in ORIGIN_DOCUMENTS
        )

    @property
    def pages_per_second(self) -> float:
        return len(self.pages) / self.crawl_seconds if self.crawl_seconds > 0 else 0.0

    @property
    def steady_pages_per_second(self) -> float:
        """Pages/s over the middle half of the run's page requests: the rate once the start-up ramp is over.

        The whole-run rate mixes two things, how fast each origin's first pages
        come (robots.txt, AutoThrottle's slow start) and the cost per page
        afterwards; this one shows the second alone.
        """
        times = sorted(r.time for r in self.requests if r.status == 200 and r.path not in ORIGIN_DOCUMENTS)
        if len(times) < 8:
            return 0.0
        low, high = len(times) // 4, (3 * len(times)) // 4
        span = times[high] - times[low]
        return (high - low) / span if span > 0 else 0.0

    def cpu_ms_per_page(self) -> dict[str, float]:
        """CPU per page: the crawl process after its start-up, and the extraction pool's processes."""
        pages = len(self.pages) or 1
        crawling = self.cpu_seconds - (self.startup_cpu_seconds or 0.0)
        return {"crawl_process": round(1000 * crawling / pages, 2),
                "extract_pool": round(1000 * self.pool_cpu_seconds / pages, 2)}

    def signal_fetches(self, path: str = "/robots.txt") -> dict[str, int]:
        """How often each host's ``path`` was requested in this run."""
        return dict(Counter(r.host for r in self.requests if r.path == path))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pages": len(self.pages),
            "requests": len(self.requests),
            "crawl_seconds": round(self.crawl_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "pages_per_second": round(self.pages_per_second, 1),
            "steady_pages_per_second": round(self.steady_pages_per_second, 1),
            "max_rss_mib": round(self.max_rss_mib, 1),
            "cpu_seconds": round(self.cpu_seconds, 2),
            "startup_cpu_seconds": None if self.startup_cpu_seconds is None else round(self.startup_cpu_seconds, 2),
            "first_request_after_seconds": round(self.wall_seconds - self.crawl_seconds, 2),
            "cpu_ms_per_page": self.cpu_ms_per_page(),
        }


def crawl_env(web: FixtureWeb, pycache: Path) -> dict[str, str]:
    """The environment of a crawl subprocess: the fixture proxy, this checkout, compiled bytecode in ``pycache``."""
    env = {**os.environ, **web.env()}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a running process (Linux ``/proc``), None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _summary(path: Path) -> dict[str, Any]:
    """The crawl's ``--json`` summary (fairfetch), {} for the bare spider or a crawl that printed none."""
    text = path.read_text(encoding="utf-8", errors="replace")
    start = text.find("{")
    try:
        found = json.loads(text[start:]) if start >= 0 else {}
    except json.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def _run(name: str, command: list[str], web: FixtureWeb, workdir: Path, timeout: float) -> CrawlRun:
    """Run ``command`` with the proxy set, reap it with ``wait4`` for its own peak RSS and CPU."""
    web.reset_log()
    env = crawl_env(web, workdir / "pycache")
    log, stdout = workdir / f"{name}.out", workdir / f"{name}.json"
    startup_cpu: float | None = None
    with open(log, "wb") as err, open(stdout, "wb") as out:
        started = time.time()
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=err)
        deadline = started + timeout
        while True:
            if startup_cpu is None and web.requests():
                startup_cpu = process_cpu_seconds(process.pid)
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.005 if startup_cpu is None else 0.02)
        ended = time.time()
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    records = tuple(web.requests())
    first = min((r.time for r in records), default=ended)
    summary = _summary(stdout)
    return CrawlRun(
        name=name,
        exit_code=process.returncode,
        crawl_seconds=ended - first,
        wall_seconds=ended - started,
        max_rss_mib=usage.ru_maxrss / 1024,  # kilobytes on Linux
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        requests=records,
        output=(stdout.read_text(encoding="utf-8", errors="replace")[-2000:]
                + log.read_text(encoding="utf-8", errors="replace")[-4000:]),
        startup_cpu_seconds=startup_cpu,
        pool_cpu_seconds=float(summary.get("extract_cpu_seconds") or 0.0),
    )


def run_bare(web: FixtureWeb, seeds: list[str], concurrency: int, workdir: Path,
             timeout: float = 600, overrides: dict[str, Any] | None = None) -> CrawlRun:
    """The bare spider in a subprocess; ``overrides`` (setting -> JSON value) are for experiments."""
    sets = [f"--set={key}={json.dumps(value)}" for key, value in (overrides or {}).items()]
    command = [sys.executable, "-m", "tests.bench.crawl_bench", "bare",
               "--concurrency", str(concurrency), *sets, *seeds]
    return _run("bare", command, web, workdir, timeout)


def fairfetch_command(seeds: list[str], concurrency: int, extract: bool, db_url: str) -> list[str]:
    """``fairfetch crawl`` exactly as an operator types it (the console script of this venv)."""
    script = Path(sys.executable).with_name("fairfetch")
    head = [str(script)] if script.exists() else [
        sys.executable, "-c", "import sys; from crawler.cli import main; sys.exit(main())"]
    return [*head, "crawl", *seeds, "--db", db_url, "--depth", "0",
            "--concurrency", str(concurrency), "--json", *([] if extract else ["--no-extract"])]


# cProfile around the real CLI. Its default (wall-clock) timer: a CPU-time timer
# costs a system call per event and inflated the run six-fold, drowning the picture.
_PROFILED_CLI = (
    "import cProfile, sys; from crawler.cli import main; "
    "p = cProfile.Profile(); out = sys.argv[1]; "
    "code = p.runcall(main, sys.argv[2:]); p.dump_stats(out); sys.exit(code)"
)


def run_fairfetch(web: FixtureWeb, seeds: list[str], concurrency: int, extract: bool, workdir: Path,
                  timeout: float = 600, profile_to: Path | None = None) -> CrawlRun:
    """``fairfetch crawl`` in a subprocess; with ``profile_to``, under cProfile into that file."""
    name = "fairfetch" if extract else "fairfetch-no-extract"
    db = workdir / f"{name}-{time.monotonic_ns()}.db"
    command = fairfetch_command(seeds, concurrency, extract, f"sqlite:///{db}")
    if profile_to is not None:
        command = [sys.executable, "-c", _PROFILED_CLI, str(profile_to), *command[command.index("crawl"):]]
    return _run(name, command, web, workdir, timeout)


@dataclass(frozen=True, slots=True)
class Comparison:
    """Best rounds of each variant and what the asserts need."""

    hosts: int
    pages_per_host: int
    concurrency: int
    rounds: dict[str, list[CrawlRun]]

    def best(self, name: str) -> CrawlRun:
        return max(self.rounds[name], key=lambda r: r.pages_per_second)

    def median(self, name: str) -> float:
        return statistics.median(r.pages_per_second for r in self.rounds[name])

    def ratio(self, name: str) -> float:
        """Median pages/s of ``name`` over median pages/s of the bare spider.

        Medians, not best rounds: on a shared machine one round of either side
        can run far faster or slower than its others (seen: the bare spider
        at 285 and 417 pages/s in one series), and a best-of ratio then
        measures that outlier rather than the crawlers.
        """
        return self.median(name) / self.median("bare")

    def best_ratio(self, name: str) -> float:
        """Best pages/s of ``name`` over best pages/s of the bare spider (reported)."""
        return self.best(name).pages_per_second / self.best("bare").pages_per_second

    def steady_ratio(self, name: str) -> float:
        """Median steady-state pages/s of ``name`` over the bare spider's (reported, not asserted)."""
        mine = statistics.median(r.steady_pages_per_second for r in self.rounds[name])
        bare = statistics.median(r.steady_pages_per_second for r in self.rounds["bare"])
        return mine / bare if bare else 0.0

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "hosts": self.hosts,
            "pages_per_host": self.pages_per_host,
            "concurrency": self.concurrency,
            "rounds": len(self.rounds["bare"]),
        }
        for name, runs in self.rounds.items():
            best = self.best(name)
            out[name] = {
                **best.as_dict(),
                "median_pages_per_second": round(statistics.median(r.pages_per_second for r in runs), 1),
                "all_pages_per_second": [round(r.pages_per_second, 1) for r in runs],
                # CPU, the figure a loaded machine does not distort much: medians over the rounds.
                "median_cpu_ms_per_page": {
                    part: round(statistics.median(r.cpu_ms_per_page()[part] for r in runs), 2)
                    for part in ("crawl_process", "extract_pool")},
                "median_startup_cpu_seconds": round(statistics.median(
                    r.startup_cpu_seconds or 0.0 for r in runs), 2),
            }
            if name != "bare":
                out[name]["ratio_to_bare"] = round(self.ratio(name), 3)
                out[name]["best_round_ratio_to_bare"] = round(self.best_ratio(name), 3)
                out[name]["steady_ratio_to_bare"] = round(self.steady_ratio(name), 3)
                out[name]["robots_fetches_per_origin"] = sorted(set(best.signal_fetches().values()))
        return out


def compare(hosts: int = 20, pages_per_host: int = 100, concurrency: int = 16, rounds: int = 3,
            extract: bool = True) -> Comparison:
    """Alternate bare / fairfetch --no-extract (/ fairfetch) ``rounds`` times on one fixture web."""
    results: dict[str, list[CrawlRun]] = {"bare": [], "fairfetch-no-extract": []}
    if extract:
        results["fairfetch"] = []
    with tempfile.TemporaryDirectory(prefix="crawl-bench-") as tmp, \
            FixtureWeb(bench_hosts=hosts, bench_pages_per_host=pages_per_host) as web:
        workdir = Path(tmp)
        seeds = [f"http://{bench_host(i)}/" for i in range(hosts)]
        run_bare(web, seeds, concurrency, workdir)  # warm-up: the server renders and caches every page
        for _ in range(rounds):
            results["bare"].append(run_bare(web, seeds, concurrency, workdir))
            results["fairfetch-no-extract"].append(
                run_fairfetch(web, seeds, concurrency, False, workdir))
            if extract:
                results["fairfetch"].append(run_fairfetch(web, seeds, concurrency, True, workdir))
    return Comparison(hosts, pages_per_host, concurrency, results)


def _bare_main(args: argparse.Namespace) -> int:
    from scrapy.crawler import CrawlerProcess

    settings = pacing_settings(args.concurrency)
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item!r} is not KEY=JSON")
        settings[key] = json.loads(value)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler, seeds=list(args.seeds), gc_policy=not args.default_gc)
    process.start()
    spider = crawler.spider
    print(json.dumps({"pages": getattr(spider, "pages", 0)}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.crawl_bench",
                                     description="fairfetch crawl against a bare Scrapy spider")
    sub = parser.add_subparsers(dest="command", required=True)
    bare = sub.add_parser("bare", help="run the bare spider (no enforcement) from SEED URLs")
    bare.add_argument("seeds", nargs="+")
    bare.add_argument("--concurrency", type=int, default=16)
    bare.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                      help="override one setting (experiments only; the comparison uses none)")
    bare.add_argument("--default-gc", action="store_true",
                      help="keep CPython's default collector settings (experiments only; the comparison "
                           "gives the bare spider fairfetch's policy)")
    cmp_ = sub.add_parser("compare", help="run the comparison and print the figures as JSON")
    cmp_.add_argument("--hosts", type=int, default=20)
    cmp_.add_argument("--pages", type=int, default=100)
    cmp_.add_argument("--concurrency", type=int, default=16)
    cmp_.add_argument("--rounds", type=int, default=3)
    cmp_.add_argument("--no-extract-only", action="store_true", help="skip the runs with extraction")
    args = parser.parse_args(argv)
    if args.command == "bare":
        return _bare_main(args)
    result = compare(args.hosts, args.pages, args.concurrency, args.rounds, not args.no_extract_only)
    print(json.dumps(result.figures(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
