"""A full per-URL decision with cached signals, against protego's ``can_fetch`` in the same run.

"Full" means what the crawler asks before every request: ``norms.evaluate``
with the origin's parsed robots.txt (Allow/Disallow, Content-Signal,
Content-Usage) and, in the second variant, an RSL licence and a tdmrep.json
as well. "Cached signals" means those documents are parsed once, as the
crawler keeps them per origin; every call decides a *different* URL (no
per-URL caching is involved). Budget: at most 1.5x protego on the same file
and URLs, small (~10 rules) and large (~500 rules), and >= 20,000 decisions/s
on the small file. Run with ``make bench``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from norms import Usage, evaluate
from norms.model import LicenseRef
from norms.robots import parse_robots
from norms.rsl import LicenseSource
from norms.tdmrep import parse_tdmrep_json
from tests.bench.test_bench_robots import (
    AGENT,
    LARGE,
    LARGE_URLS,
    MAX_RATIO,
    SMALL,
    SMALL_URLS,
    compare,
    protego_check,
)

pytestmark = pytest.mark.bench

PURPOSES = (Usage.AI_INPUT,)
LICENSE = LicenseSource.from_body(
    LicenseRef(url="https://site.example/license.xml", via="robots", scope="global", line=1),
    """<rsl xmlns="https://rslstandard.org/rsl">
      <content url="/"><license><permits type="usage">search ai-index ai-input</permits>
        <payment type="attribution"/></license></content>
      <content url="/video/"><license><prohibits type="usage">ai-all</prohibits></license></content>
    </rsl>""",
)
TDMREP = parse_tdmrep_json(
    '[{"location": "/news/", "tdm-reservation": 1}, {"location": "/", "tdm-reservation": 0}]',
    source_url="https://site.example/.well-known/tdmrep.json",
)


def evaluate_check(text: str, *, all_signals: bool) -> Callable[[list[str]], list[bool]]:
    robots = parse_robots(text, source_url="https://site.example/robots.txt")
    licenses = (LICENSE,) if all_signals else ()
    tdmrep = TDMREP if all_signals else None

    def run(urls: list[str]) -> list[bool]:
        return [
            evaluate(u, user_agent=AGENT, purposes=PURPOSES, robots=robots, licenses=licenses, tdmrep=tdmrep)
            .fetch.allowed
            for u in urls
        ]

    return run


CASES = [(SMALL, SMALL_URLS), (LARGE, LARGE_URLS)]


@pytest.mark.parametrize("all_signals", [False, True], ids=["robots", "robots+rsl+tdmrep"])
@pytest.mark.parametrize(("text", "urls"), CASES, ids=["small", "large"])
def test_bench_evaluate(benchmark, text: str, urls: list[str], all_signals: bool) -> None:  # type: ignore[no-untyped-def]
    ours_check = evaluate_check(text, all_signals=all_signals)
    # Same fetch answers as robots.txt alone wherever no licence or reservation intervenes.
    if not all_signals:
        assert ours_check(urls) == protego_check(text)(urls)
    ours, theirs = compare(ours_check, protego_check(text), urls)
    benchmark.extra_info.update(
        us_per_url=ours * 1e6, protego_us_per_url=theirs * 1e6, ratio=ours / theirs, per_second=1 / ours
    )
    print(f"\nevaluate {ours * 1e6:.2f} us/URL, protego {theirs * 1e6:.2f} us/URL, ratio {ours / theirs:.2f}")
    benchmark(ours_check, urls)
    if not all_signals:
        assert ours <= MAX_RATIO * theirs, f"evaluate {ours * 1e6:.2f} us vs protego {theirs * 1e6:.2f} us"
    if text is SMALL:
        assert 1 / ours >= 20_000, f"{1 / ours:.0f} decisions/s on the small file"
