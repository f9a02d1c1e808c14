"""What Web Bot Auth signing costs: microseconds per request, and a crawl's pages/s signed vs unsigned.

Signing is one Ed25519 signature plus building the RFC 9421 signature base per
request. Measured two ways in one run: ``RequestSigner.sign`` alone (median
microseconds, beside the cost of building a Scrapy request with the same
headers, as a scale), and ``fairfetch crawl --no-extract`` over the bench web
with and without ``--signing-key``, alternating rounds, medians compared.
Run with ``make bench``; figures in docs/benchmarks.md.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from scrapy import Request

from crawler.identity.keys import load_signing_key
from crawler.identity.signing import RequestSigner
from fixtures.identity import TEST_KEY_FILE
from fixtures.web import FixtureWeb
from fixtures.web.bench import bench_host
from tests.bench.crawl_bench import CrawlRun, _run, fairfetch_command

pytestmark = pytest.mark.bench

HOSTS, PAGES, CONCURRENCY, ROUNDS = 10, 100, 16, 3
URL = "http://news.example/2026/12/03/a-long-article-path?utm_source=feed"
HEADERS = {"User-Agent": "fairfetch/0.1.0 (+https://example.org/bot)", "Accept-Encoding": "gzip, deflate",
           "Accept": "text/html,application/xhtml+xml", "crawler-max-price": "USD 0.01"}


def _key(tmp: Path) -> Path:
    path = tmp / "key.jwk"
    shutil.copyfile(TEST_KEY_FILE, path)
    path.chmod(0o600)
    return path


def test_signing_one_request(benchmark: BenchmarkFixture, tmp_path: Path) -> None:
    signer = RequestSigner(load_signing_key(_key(tmp_path)), "https://bot.example")
    baseline = []
    for _ in range(2000):
        started = time.perf_counter()
        Request(URL, headers=HEADERS)
        baseline.append(time.perf_counter() - started)
    benchmark(signer.sign, "GET", URL, HEADERS)
    median_us = benchmark.stats.stats.median * 1e6
    request_us = statistics.median(baseline) * 1e6
    benchmark.extra_info.update(sign_median_us=round(median_us, 1), scrapy_request_us=round(request_us, 1))
    print(f"\nsign: median {median_us:.1f} us; building the scrapy Request itself: {request_us:.1f} us")
    assert median_us < 1000  # well under a millisecond per request on this machine


def _crawl(web: FixtureWeb, workdir: Path, signed: bool, seeds: list[str], key: Path) -> CrawlRun:
    db = workdir / f"{'signed' if signed else 'plain'}-{time.monotonic_ns()}.db"
    command = fairfetch_command(seeds, CONCURRENCY, False, f"sqlite:///{db}")
    if signed:
        command += ["--signing-key", str(key), "--signature-agent", "https://bot.example"]
    return _run("signed" if signed else "unsigned", command, web, workdir, 600)


@pytest.mark.timeout(1800)
def test_crawl_pages_per_second_signed_vs_unsigned(benchmark: BenchmarkFixture) -> None:
    runs: dict[bool, list[CrawlRun]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="sign-bench-") as tmp, \
            FixtureWeb(bench_hosts=HOSTS, bench_pages_per_host=PAGES) as web:
        workdir = Path(tmp)
        key = _key(workdir)
        seeds = [f"http://{bench_host(i)}/" for i in range(HOSTS)]
        _crawl(web, workdir, False, seeds, key)  # warm the server's page cache
        for _ in range(ROUNDS):
            for signed in (False, True):
                run = _crawl(web, workdir, signed, seeds, key)
                assert run.exit_code == 0, run.output
                if signed:
                    assert all("signature" in r.headers for r in run.requests)
                runs[signed].append(run)
    plain = statistics.median(r.pages_per_second for r in runs[False])
    signed_rate = statistics.median(r.pages_per_second for r in runs[True])
    ratio = signed_rate / plain
    benchmark.extra_info.update(unsigned_pages_s=round(plain, 1), signed_pages_s=round(signed_rate, 1),
                                ratio=round(ratio, 3))
    benchmark.pedantic(lambda: None, rounds=1)
    print(f"\ncrawl --no-extract, {HOSTS}x{PAGES} pages, median of {ROUNDS}: unsigned {plain:.1f} pages/s, "
          f"signed {signed_rate:.1f} pages/s, ratio {ratio:.3f}")
    assert ratio > 0.9
