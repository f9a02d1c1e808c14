"""The compliance checker's speed: a full live check of a fixture site, and an offline lint.

Run with ``make bench``. Budgets (asserted, so a regression fails):

* a full live check (robots.txt, the RSL licence it names, tdmrep.json, the page;
  13 crawler tokens decided; every problem listed) of ``rsl.example`` on the fixture
  web, over loopback through its proxy: < 1 s (median of rounds); reported as a
  ratio to fetching the same documents with a bare httpx client in the same run;
* an offline check of a 500 KiB robots.txt with an RSL licence and a page:
  < 300 ms (median); reported as a ratio to ``parse_robots`` of that file alone.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from crawler.checker.fetch import Limits
from crawler.checker.live import check
from crawler.checker.offline import LocalFile, OfflineInputs, check_files
from fixtures.web import FixtureWeb
from norms.robots import parse_robots
from tests.bench.test_bench_robots import BIG, make_robots

pytestmark = pytest.mark.bench

PAGE = "http://rsl.example/premium/investigation"
DOCUMENTS = ("http://rsl.example/robots.txt", "http://rsl.example/license.xml",  # as the checker fetches them
             "http://rsl.example/.well-known/tdmrep.json", PAGE)


def median_seconds(run: Callable[[], object], rounds: int) -> float:
    run()  # warm-up: imports, TLS context, caches
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb(bench_hosts=0, bench_pages_per_host=0) as w:
        yield w


def test_bench_full_live_check_of_a_fixture_site(web: FixtureWeb, monkeypatch: pytest.MonkeyPatch,
                                                 benchmark: pytest.FixtureRequest) -> None:
    for name, value in web.env().items():
        monkeypatch.setenv(name, value)
    limits = Limits(timeout=5, deadline=10)
    report = check(PAGE, limits=limits)
    assert [d.kind for d in report.documents] == ["robots.txt", "rsl", "tdmrep", "page"]
    assert [d.status for d in report.documents] == [200, 200, 404, 200] and len(report.agents) == 13

    client = httpx.Client(proxy=web.proxy_url, trust_env=False)  # built once: only the fetches are timed

    def bare() -> None:
        for url in DOCUMENTS:
            client.get(url, headers={"Connection": "close"})

    ours = median_seconds(lambda: check(PAGE, limits=limits), rounds=9)
    baseline = median_seconds(bare, rounds=9)
    client.close()
    print(f"\nfull live check: {ours * 1000:.0f} ms median; bare httpx fetch of the same 4 documents "
          f"{baseline * 1000:.0f} ms; ratio {ours / baseline:.1f}x")
    benchmark.pedantic(lambda: check(PAGE, limits=limits), rounds=5, iterations=1)  # type: ignore[attr-defined]
    assert ours < 1.0


def test_bench_offline_check_of_500_kib(benchmark: pytest.FixtureRequest) -> None:
    # AI groups and a '*' group of 500 rules, then groups for many other bots up to 500 KiB.
    data = (b"License: https://news.example/license.xml\n" + make_robots(500, seed=2).encode() + b"\n" + BIG)
    data = data[: 500 * 1024]
    data = data[: data.rfind(b"\n") + 1]
    licence = (b'<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license><permits type="usage">'
               b'search ai-input</permits><payment type="attribution"/></license></content></rsl>')
    page = (b"<!doctype html><html><head><title>t</title><meta name=robots content='max-snippet:200'>"
            b"</head><body><article>" + b"<p>Harbour news paragraph.</p>" * 400 + b"</article></body></html>")
    inputs = OfflineInputs(url="https://news.example/news/1", robots=LocalFile("robots.txt", data),
                           rsl=[LocalFile("license.xml", licence)], html=LocalFile("page.html", page))
    report = check_files(inputs)
    assert len(report.agents) == 13 and report.documents[0].bytes > 500_000

    ours = median_seconds(lambda: check_files(inputs), rounds=7)
    baseline = median_seconds(lambda: parse_robots(data), rounds=7)
    print(f"\noffline check, {len(data) // 1024} KiB robots.txt + licence + page: {ours * 1000:.0f} ms median; "
          f"parse_robots alone {baseline * 1000:.0f} ms; ratio {ours / baseline:.1f}x")
    benchmark.pedantic(lambda: check_files(inputs), rounds=5, iterations=1)  # type: ignore[attr-defined]
    assert ours < 0.3
