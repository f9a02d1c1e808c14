"""robots.txt decision cost against protego's ``can_fetch``, and parse time of a 500 KiB file.

Run with ``make bench``. Each test reports its figure through pytest-benchmark
and also asserts the budget itself, timed in CPU time (``process_time``, ``compare``:
ours and protego in short interleaved rounds, fastest round per chunk of
URLs), so a regression fails even with benchmarking disabled:

* ``allowed`` and a full decision (``gate`` + ``statements``) cost at most
  1.5x protego's ``can_fetch`` on the same file and URLs (small ~10 rules,
  large ~500 rules);
* >= 20,000 full decisions per second on the small file;
* parsing a 500 KiB robots.txt takes < 100 ms.

Files and URLs are generated from fixed seeds so every run measures the same work.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest
from protego import Protego

from norms.robots import ROBOTS_MAX_BYTES, RobotsTxt, parse_robots

pytestmark = pytest.mark.bench

AGENT = "fairfetch"
SECTIONS = ("news", "sport", "api", "search", "user", "tag", "video", "live", "archive", "print", "amp")
MAX_RATIO = 1.5


def make_robots(rules: int, seed: int) -> str:
    """A realistic file: a few AI groups, then a ``*`` group of ``rules`` rules and preferences."""
    rnd = random.Random(seed)
    lines = ["Sitemap: https://site.example/sitemap.xml", ""]
    for bot in ("GPTBot", "CCBot", "ClaudeBot"):
        lines += [f"User-agent: {bot}", "Disallow: /", ""]
    lines += ["User-agent: *", "Content-Signal: search=yes, ai-train=no", "Content-Usage: train-ai=n"]
    lines += ["Content-Usage: /news/ train-ai=n, search=y"]
    for i in range(rules):
        path = "/".join(rnd.choice(SECTIONS) for _ in range(rnd.randint(1, 3)))
        kind = rnd.random()
        if kind < 0.7:
            pattern = f"/{path}/{i}"
        elif kind < 0.85:
            pattern = f"/*{rnd.choice(SECTIONS)}*{i}"
        elif kind < 0.95:
            pattern = f"/*?{rnd.choice(SECTIONS)}={i}"
        else:
            pattern = f"/{path}/{i}.html$"
        lines.append(("Allow: " if rnd.random() < 0.2 else "Disallow: ") + pattern)
    return "\n".join(lines) + "\n"


def make_urls(count: int, rules: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    urls = []
    for _ in range(count):
        path = "/".join(rnd.choice(SECTIONS) for _ in range(rnd.randint(1, 3)))
        url = f"https://site.example/{path}/{rnd.randint(0, rules)}/{rnd.randint(0, 99)}"
        if rnd.random() < 0.3:
            url += f"?{rnd.choice(SECTIONS)}={rnd.randint(0, rules)}"
        urls.append(url)
    return urls


SMALL = make_robots(10, seed=1)
LARGE = make_robots(500, seed=2)
SMALL_URLS = make_urls(1000, 10, seed=3)
LARGE_URLS = make_urls(1000, 500, seed=4)


def best_per_call(run: Callable[[], object], calls: int, rounds: int = 7) -> float:
    """Seconds per call: best of ``rounds`` timings of ``run`` (which makes ``calls`` calls)."""
    run()  # warm caches (group selection, compiled indexes) the way a crawler's first URL does
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best / calls


def compare(
    ours: Callable[[list[str]], object], theirs: Callable[[list[str]], object], urls: list[str]
) -> tuple[float, float]:
    """Seconds per URL of each side: short interleaved rounds, best round per chunk of URLs.

    Other processes share the machine (CI runners, parallel test suites); a
    round in which we were descheduled is slow for reasons unrelated to the
    code, so each chunk of 100 URLs keeps its fastest of 25 rounds, taken
    alternately for both sides so they see the same conditions.
    """
    chunks = [urls[i : i + 100] for i in range(0, len(urls), 100)]
    total_ours = total_theirs = 0.0
    for chunk in chunks:
        ours(chunk), theirs(chunk)
        best_ours = best_theirs = float("inf")
        for _ in range(25):
            start = time.process_time()
            ours(chunk)
            best_ours = min(best_ours, time.process_time() - start)
            start = time.process_time()
            theirs(chunk)
            best_theirs = min(best_theirs, time.process_time() - start)
        total_ours += best_ours
        total_theirs += best_theirs
    return total_ours / len(urls), total_theirs / len(urls)


def protego_check(text: str) -> Callable[[list[str]], object]:
    p = Protego.parse(text)
    return lambda urls: [p.can_fetch(u, AGENT) for u in urls]


def allowed_check(text: str) -> Callable[[list[str]], object]:
    r = parse_robots(text)
    return lambda urls: [r.allowed(u, AGENT) for u in urls]


def decision_check(text: str) -> Callable[[list[str]], object]:
    r = parse_robots(text)

    def run(urls: list[str]) -> list[object]:
        out: list[object] = []
        for u in urls:
            gate = r.gate(u, AGENT)
            out.append(gate if gate is not None else r.statements(u, AGENT))
        return out

    return run


def check_same_answers(text: str, urls: list[str]) -> RobotsTxt:
    """Our decisions equal protego's on these files, so the timings compare like with like."""
    p, r = Protego.parse(text), parse_robots(text)
    assert [r.allowed(u, AGENT) for u in urls] == [p.can_fetch(u, AGENT) for u in urls]
    return r


@pytest.mark.parametrize(("text", "urls"), [(SMALL, SMALL_URLS), (LARGE, LARGE_URLS)], ids=["small", "large"])
def test_bench_protego_can_fetch(benchmark, text: str, urls: list[str]) -> None:  # type: ignore[no-untyped-def]
    benchmark(protego_check(text), urls)


@pytest.mark.parametrize(("text", "urls"), [(SMALL, SMALL_URLS), (LARGE, LARGE_URLS)], ids=["small", "large"])
def test_bench_allowed(benchmark, text: str, urls: list[str]) -> None:  # type: ignore[no-untyped-def]
    check_same_answers(text, urls)
    ours, theirs = compare(allowed_check(text), protego_check(text), urls)
    benchmark.extra_info.update(us_per_url=ours * 1e6, protego_us_per_url=theirs * 1e6)
    benchmark(allowed_check(text), urls)
    assert ours <= MAX_RATIO * theirs, f"allowed {ours * 1e6:.2f} us vs protego {theirs * 1e6:.2f} us"


@pytest.mark.parametrize(("text", "urls"), [(SMALL, SMALL_URLS), (LARGE, LARGE_URLS)], ids=["small", "large"])
def test_bench_gate_and_statements(benchmark, text: str, urls: list[str]) -> None:  # type: ignore[no-untyped-def]
    r = check_same_answers(text, urls)
    assert any(r.statements(u, AGENT) for u in urls)  # the preferences are really evaluated
    ours, theirs = compare(decision_check(text), protego_check(text), urls)
    benchmark.extra_info.update(us_per_url=ours * 1e6, protego_us_per_url=theirs * 1e6)
    benchmark(decision_check(text), urls)
    assert ours <= MAX_RATIO * theirs, f"decision {ours * 1e6:.2f} us vs protego {theirs * 1e6:.2f} us"
    if text is SMALL:
        assert 1 / ours >= 20_000, f"{1 / ours:.0f} decisions/s on the small file"


def make_500_kib() -> bytes:
    """Many groups of realistic rules, a little over the 500 KiB limit."""
    rnd = random.Random(5)
    out: list[str] = []
    size = 0
    group = 0
    while size <= ROBOTS_MAX_BYTES + 4096:
        block = [f"User-agent: bot{group}", f"Content-Signal: /s{group}/ ai-train=no"]
        for i in range(40):
            path = "/".join(rnd.choice(SECTIONS) for _ in range(rnd.randint(1, 4)))
            star = "*" if rnd.random() < 0.2 else ""
            block.append(f"Disallow: /{path}/{star}{group}-{i}/")
        block.append(f"Sitemap: https://site.example/sitemap-{group}.xml")
        text = "\n".join(block) + "\n\n"
        out.append(text)
        size += len(text)
        group += 1
    return "".join(out).encode()


BIG = make_500_kib()


def test_bench_parse_500_kib(benchmark) -> None:  # type: ignore[no-untyped-def]
    assert len(BIG) > ROBOTS_MAX_BYTES
    r = parse_robots(BIG)
    assert r.group_for("bot5") == "bot5" and any("512000" in w for w in r.warnings)
    seconds = best_per_call(lambda: parse_robots(BIG), 1, rounds=5)
    benchmark.extra_info.update(ms=seconds * 1e3)
    benchmark(parse_robots, BIG)
    assert seconds < 0.1, f"parse took {seconds * 1e3:.1f} ms"


def test_bench_parse_500_kib_and_first_decision(benchmark) -> None:  # type: ignore[no-untyped-def]
    """Parse plus the first decision for a named group (selection and index are built lazily)."""

    def run() -> object:
        r = parse_robots(BIG)
        return r.gate("https://site.example/news/1", "bot7"), r.allowed("https://site.example/x", AGENT)

    seconds = best_per_call(run, 1, rounds=5)
    benchmark.extra_info.update(ms=seconds * 1e3)
    benchmark(run)
    assert seconds < 0.1, f"parse and first decision took {seconds * 1e3:.1f} ms"


if __name__ == "__main__":
    # .venv/bin/python tests/bench/test_bench_robots.py: the asserted figures, interleaved.
    for name, text, urls in (("small", SMALL, SMALL_URLS), ("large", LARGE, LARGE_URLS)):
        ours, theirs = compare(allowed_check(text), protego_check(text), urls)
        full, theirs2 = compare(decision_check(text), protego_check(text), urls)
        print(
            f"{name}: protego can_fetch {theirs * 1e6:.2f} us | allowed {ours * 1e6:.2f} us "
            f"({ours / theirs:.2f}x) | gate+statements {full * 1e6:.2f} us ({full / theirs2:.2f}x, "
            f"{1 / full:,.0f}/s)"
        )
    print(f"parse {len(BIG)} bytes: {best_per_call(lambda: parse_robots(BIG), 1, 9) * 1e3:.1f} ms")
