"""Two ``fairfetch crawl`` workers must reach >= 1.6x one worker's pages/s, and a joiner fetch within 2 s.

The harness is tests/bench/scale_bench.py (one worker against two over the same
1,200 pages with extraction on and ``--extract-processes 1``, measured from the
joiner's first request, each run on its own Redis server and PostgreSQL
database). Also reported: round trips to Redis and PostgreSQL per page.
"""

from __future__ import annotations

import json

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from tests.bench.scale_bench import HOSTS, PAGES, compare

RATIO_FLOOR = 1.6
JOIN_SECONDS = 2.0


@pytest.mark.bench
@pytest.mark.services
@pytest.mark.timeout(1800)
def test_two_workers_scale(benchmark: BenchmarkFixture) -> None:
    figures = benchmark.pedantic(lambda: compare(2), rounds=1, iterations=1)
    benchmark.extra_info.update(figures)
    print("\nscale-out benchmark:", json.dumps(figures, indent=2))
    assert figures["pages_stored"] == [HOSTS * PAGES] * len(figures["pages_stored"])
    assert figures["median_ratio"] >= RATIO_FLOOR, figures
    assert max(figures["joiner_first_request_after_seconds"]) <= JOIN_SECONDS, figures
