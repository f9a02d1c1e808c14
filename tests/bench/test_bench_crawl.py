"""``fairfetch crawl`` must keep >= 85 % of a bare Scrapy spider's pages/s on the same pages.

The comparison (tests/bench/crawl_bench.py says how it is made fair): a fixture web
of 20 bench hosts x 100 pages, bare spider and ``fairfetch crawl --no-extract``
and ``fairfetch crawl`` (extraction on) alternating for ``ROUNDS`` rounds, each
run a subprocess, the median round of each compared (the best-round ratio is reported too). Asserted: the ratio with
extraction off, that both crawled exactly the same 2,000 pages, and that
fairfetch requested robots.txt exactly once per origin (from the server's log).
Reported (``benchmark.extra_info`` and stdout): the ratio with extraction on,
peak RSS and CPU seconds of each crawl process. Takes a few minutes; run with
``make bench``.
"""

from __future__ import annotations

import functools
import json

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from fixtures.web.bench import BENCH_FORBIDDEN, bench_host, page_path
from tests.bench.crawl_bench import PACING_KEYS, Comparison, compare, pacing_settings

HOSTS = 20
PAGES_PER_HOST = 100
CONCURRENCY = 16  # fairfetch crawl's default --concurrency
ROUNDS = 5
RATIO_FLOOR = 0.85
EXTRACT_RATIO_FLOOR = 0.8  # with extraction on, in the process pool (--extract-processes: the machine's cores)


@functools.cache
def _comparison() -> Comparison:
    return compare(HOSTS, PAGES_PER_HOST, CONCURRENCY, ROUNDS, extract=True)


def _expected_pages() -> frozenset[tuple[str, str]]:
    return frozenset(
        (bench_host(h), page_path(p)) for h in range(HOSTS) for p in range(PAGES_PER_HOST)
    )


def test_bare_spider_paces_like_fairfetch() -> None:
    """The bare spider's engine settings are fairfetch's (not a bench: it runs in the normal suite)."""
    from scrapy.settings import Settings

    fair = Settings()
    fair.setmodule("crawler.settings", priority="project")  # as fairfetch crawl loads them
    bare = pacing_settings(CONCURRENCY)
    assert {key: bare[key] for key in PACING_KEYS} == {key: fair[key] for key in PACING_KEYS}
    assert bare["CONCURRENT_REQUESTS"] == CONCURRENCY
    assert bare["ROBOTSTXT_OBEY"] is False and bare["ITEM_PIPELINES"] == {}


def test_steady_rate_leaves_out_the_ramp() -> None:
    """The steady-state rate counts the middle half of the page requests only (normal suite)."""
    from fixtures.web.model import RequestRecord
    from tests.bench.crawl_bench import CrawlRun

    def record(t: float, path: str) -> RequestRecord:
        return RequestRecord(t, "bench-00.example", path, "GET", 200, "ua", {})

    slow_start = [record(i * 0.5, f"/slow/{i}") for i in range(10)]  # 5 s for 10 pages
    steady = [record(5 + i * 0.01, f"/page/{i}") for i in range(90)]  # then 100 pages/s
    documents = [record(0.0, "/robots.txt"), record(0.1, "/.well-known/tdmrep.json")]
    run = CrawlRun("x", 0, 6.0, 6.5, 1.0, 1.0, tuple(documents + slow_start + steady), "")
    assert len(run.pages) == 100
    assert run.pages_per_second == pytest.approx(100 / 6.0)
    assert run.steady_pages_per_second == pytest.approx(100, rel=0.02)


@pytest.mark.bench
@pytest.mark.timeout(1200)
def test_fairfetch_keeps_85_percent_of_bare_scrapy(benchmark: BenchmarkFixture) -> None:
    result = benchmark.pedantic(_comparison, rounds=1, iterations=1)
    figures = result.figures()
    benchmark.extra_info.update(figures)
    print("\ncrawl benchmark:", json.dumps(figures, indent=2))
    for name in result.rounds:
        for run in result.rounds[name]:
            assert run.exit_code == 0, f"{name} failed:\n{run.output}"
    ratio = result.ratio("fairfetch-no-extract")
    assert ratio >= RATIO_FLOOR, (
        f"fairfetch crawl --no-extract reached a median {result.median('fairfetch-no-extract'):.0f} "
        f"pages/s, {ratio:.2f} of the bare spider's {result.median('bare'):.0f} "
        f"(floor {RATIO_FLOOR}); with extraction: {result.ratio('fairfetch'):.2f}"
    )


@pytest.mark.bench
@pytest.mark.timeout(1200)
def test_fairfetch_with_extraction_keeps_80_percent_of_bare_scrapy() -> None:
    """Extraction on (in the pool) against the bare spider that extracts nothing: the issue-14 target."""
    result = _comparison()
    ratio = result.ratio("fairfetch")
    assert ratio >= EXTRACT_RATIO_FLOOR, (
        f"fairfetch crawl (extraction in the pool) reached a median {result.median('fairfetch'):.0f} pages/s, "
        f"{ratio:.2f} of the bare spider's {result.median('bare'):.0f} (floor {EXTRACT_RATIO_FLOOR})"
    )


@pytest.mark.bench
@pytest.mark.timeout(1200)
def test_both_crawl_exactly_the_bench_pages() -> None:
    """Same pages on both sides, or the ratio compares different work."""
    result = _comparison()
    expected = _expected_pages()
    for name, runs in result.rounds.items():
        for run in runs:
            assert run.pages == expected, f"{name}: {len(run.pages)} pages, expected {len(expected)}"
            assert not any(r.path.startswith(BENCH_FORBIDDEN) for r in run.requests), name
    assert all(not run.signal_fetches() for run in result.rounds["bare"])  # no robots.txt at all


@pytest.mark.bench
@pytest.mark.timeout(1200)
def test_fairfetch_fetches_robots_once_per_origin() -> None:
    result = _comparison()
    hosts = {bench_host(h) for h in range(HOSTS)}
    for name in ("fairfetch-no-extract", "fairfetch"):
        for run in result.rounds[name]:
            assert run.signal_fetches("/robots.txt") == dict.fromkeys(hosts, 1), name
            # robots.txt comes before any page of its origin (RFC 9309 §2.4 via norms).
            first_seen: dict[str, str] = {}
            for record in sorted(run.requests, key=lambda r: r.time):
                first_seen.setdefault(record.host, record.path)
            assert set(first_seen.values()) == {"/robots.txt"}, name
