"""Faults the crawl must survive and name: hanging hosts, 5xx storms, loops, oversized bodies, bombs.

Plus the operator-facing edges of ``fairfetch crawl``: usage errors exit 2,
402 is paid only within the ceiling, the crawl runs as ``scrapy crawl fair`` too.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.cli import main
from crawler.session import build_grants, crawl_id_for, parse_max_price
from fixtures.web import FixtureWeb
from norms.model import SignalError
from norms.verdict import Verdict
from tests.crawler.crawlrun import REPO, crawl_env, run_crawl


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb(hang_seconds=60) as w:
        yield w


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}"


# --- usage errors: exit 2, plain message, nothing crawled ------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["crawl", "ftp://open.example/"],
        ["crawl", "not a url"],
        ["crawl", "http://open.example/", "--max-price", "a lot"],
        ["crawl", "http://open.example/", "--max-price", "USD -1"],
        ["crawl", "http://open.example/", "--license-token", "no-equals-sign"],
        ["crawl", "http://open.example/", "--depth", "-1"],
        ["crawl", "http://open.example/", "--concurrency", "0"],
        ["crawl", "http://open.example/", "--user-agent", "two words"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "error:" in capsys.readouterr().err


def test_unknown_purpose_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["crawl", "http://open.example/", "--purpose", "world-domination"])
    assert exc.value.code == 2


def test_price_ceiling_parsing() -> None:
    assert parse_max_price("USD 0.05") == (parse_max_price("0.05")[0], "USD")
    assert parse_max_price(None) == (None, "USD")
    grants = build_grants("eur 1.50", {"https://lic.example/": "tok"})
    assert str(grants.max_price) == "1.50" and grants.currency == "EUR"
    for bad in ("USD", "USD NaN", "USD 1 2", "1 USD"):
        with pytest.raises(SignalError):
            parse_max_price(bad)


def test_crawl_id_is_persisted_in_the_jobdir(tmp_path: Path) -> None:
    first, resumed = crawl_id_for(str(tmp_path / "job"), None)
    assert not resumed
    again, resumed = crawl_id_for(str(tmp_path / "job"), "ignored")
    assert (again, resumed) == (first, True)
    assert crawl_id_for(None, "given") == ("given", False)


# --- faults -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_hanging_host_does_not_stall_the_crawl(web: FixtureWeb, db: str) -> None:
    web.reset_log()
    run = run_crawl(web, ["http://hang.example/", "http://open.example/"], db, "--robots-timeout", "2")
    assert run.returncode == 0, run.stderr[-2000:]
    # The hang lasts 60 s; the crawl gives robots.txt 2 s and moves on.
    assert run.seconds < 25, run.seconds
    assert run.summary["stored"] >= 4
    assert {r.path for r in web.requests_for("hang.example")} == {"/robots.txt"}
    rows = run.ledger().fetch_log()
    hang = [r for r in rows if r["url"] == "http://hang.example/"]
    # An origin that never answered is an error of that kind, not a publisher's refusal.
    assert [r["outcome"] for r in hang] == ["error"]
    assert hang[0]["reason"].startswith("timeout: ")
    assert run.summary["errors_by_kind"].get("timeout") == 1
    snapshots = run.ledger().signal_history("robots.txt", "http://hang.example/robots.txt")
    assert snapshots and "timeout" in (snapshots[-1]["error"] or "")


@pytest.mark.slow
def test_storm_loops_and_oversized_bodies_are_errors_in_the_summary(web: FixtureWeb, db: str) -> None:
    web.reset_log()
    run = run_crawl(web, ["http://storm.example/", "http://gates.example/"], db)
    assert run.returncode == 0, run.stderr[-2000:]
    kinds = run.summary["errors_by_kind"]
    assert kinds.get("oversized") == 2
    assert kinds.get("redirect-loop", 0) >= 2
    assert kinds.get("http-500", 0) >= 3 and kinds.get("http-503", 0) >= 3
    assert run.summary["errors"] == sum(kinds.values())
    # RETRY_TIMES = 1: a failing page is asked twice, never hammered.
    storm = Counter(r.path for r in web.requests_for("storm.example"))
    for path in web.site("storm.example").expected["error_paths"]:
        assert storm[path] == 2, (path, storm[path])
    # the crawl went on: the healthy pages are stored
    assert run.summary["stored"] >= len(web.site("storm.example").expected["stored_paths"])


@pytest.mark.slow
def test_xml_bomb_licence_is_survived_and_means_unlicensed(web: FixtureWeb, db: str) -> None:
    run = run_crawl(web, ["http://rsl-bomb.example/", "http://malformed-robots.example/"], db)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.seconds < 30
    rows = [r for r in run.ledger().fetch_log() if r["url"].startswith("http://rsl-bomb.example/")]
    assert rows and all(r["outcome"] == "refused" for r in rows)
    assert any("rsl" in r["reason"].lower() for r in rows)
    assert run.summary["stored"] >= 2  # malformed-robots.example: still crawled


@pytest.mark.slow
def test_402_is_not_paid_without_a_signing_key(web: FixtureWeb, db: str) -> None:
    """Pay Per Crawl accepts only a signed price: without a key nothing is offered (tests/identity pays)."""
    web.reset_log()
    run = run_crawl(web, ["http://pay.example/"], db, "--max-price", "USD 0.05")
    assert run.returncode == 0, run.stderr[-2000:]
    site = web.site("pay.example")
    for path in site.expected["charged_paths"]:
        sent = [r for r in web.requests_for("pay.example") if r.path == path]
        assert [r.status for r in sent] == [402]
        assert not {"crawler-max-price", "crawler-exact-price"} & set(sent[0].headers)
        rows = [r for r in run.ledger().fetch_log() if r["url"] == f"http://pay.example{path}"]
        assert [r["outcome"] for r in rows] == ["refused"] and "needs a signing key" in rows[0]["reason"]
    assert "spent" not in run.summary or not run.summary["spent"]


@pytest.mark.slow
def test_402_above_the_ceiling_is_refused(web: FixtureWeb, db: str) -> None:
    web.reset_log()
    run = run_crawl(web, ["http://pay.example/articles/comet-season"], db, "--max-price", "USD 0.001")
    assert run.returncode == 0
    sent = [r for r in web.requests_for("pay.example") if r.path == "/articles/comet-season"]
    assert len(sent) == 1  # quoted price above the ceiling: not re-requested
    assert run.ledger().page("http://pay.example/articles/comet-season") is None
    assert run.summary["refused_by_reason"]


@pytest.mark.slow
def test_scrapy_crawl_fair_runs_the_same_crawl(web: FixtureWeb, db: str) -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "scrapy"), "crawl", "fair", "-a", "seeds=http://open.example/",
         "-s", f"FAIRFETCH_DB={db}", "-s", "LOG_LEVEL=WARNING"],
        cwd=REPO / "crawler", env=crawl_env(web), capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    from crawler.ledger import Ledger

    counts = Ledger(db).counts()
    assert counts["pages"] == len(web.site("open.example").expected["stored_paths"])
    assert counts["stored"] == counts["pages"]


# --- RSL licence servers: the token travels with the request ---------------------------------


_SERVER_RSL = """<rsl xmlns="https://rslstandard.org/rsl">
  <content url="/" server="https://license.news.example/">
    <license><permits type="usage">ai-input search</permits></license>
  </content>
</rsl>"""


def _server_verdict(tokens: dict[str, str]) -> Verdict:
    from norms.evaluate import evaluate
    from norms.model import Grants, LicenseRef
    from norms.rsl import LicenseSource

    ref = LicenseRef(url="https://news.example/license.xml", via="robots", scope="global", line=1)
    source = LicenseSource.from_body(ref, _SERVER_RSL)
    return evaluate("https://news.example/story", purposes=["ai-input"], licenses=[source],
                    grants=Grants(license_tokens=tokens))


def test_licence_token_is_presented_for_a_licence_server() -> None:
    from crawler.middlewares.enforce import license_token_for

    tokens = {"https://license.news.example/": "tok-123"}
    verdict = _server_verdict(tokens)
    assert verdict.fetch.allowed
    assert license_token_for(verdict, tokens) == "tok-123"


def test_no_token_no_request_for_a_licence_server() -> None:
    from crawler.middlewares.enforce import license_token_for

    verdict = _server_verdict({})
    assert not verdict.fetch.allowed  # the gate: refused before the request
    assert license_token_for(verdict, {}) is None


@pytest.mark.slow
def test_max_pages_stops_the_crawl(web: FixtureWeb, db: str) -> None:
    run = run_crawl(web, ["http://open.example/"], db, "--max-pages", "2", "--concurrency", "1")
    assert run.returncode == 0, run.stderr[-2000:]
    assert 2 <= run.summary["stored"] <= 3  # at most one request was in flight
    assert run.summary["finish_reason"] == "max_pages"


# --- the crawler's own pure helpers ----------------------------------------------------------


def test_origin_of_drops_default_ports_and_case() -> None:
    from crawler.origin_cache import origin_of

    assert origin_of("HTTP://Example.ORG:80/a?b") == "http://example.org"
    assert origin_of("https://example.org:443/") == "https://example.org"
    assert origin_of("https://example.org:8443/x") == "https://example.org:8443"


def test_single_flight_fetches_once_for_concurrent_callers() -> None:
    import asyncio

    from crawler.origin_cache import SingleFlight

    calls: list[str] = []

    async def fetch(key: str) -> str:
        calls.append(key)
        await asyncio.sleep(0.01)
        return key.upper()

    async def scenario() -> list[str]:
        cache: SingleFlight[str, str] = SingleFlight(fetch, ttl=60)
        results = await asyncio.gather(*(cache.get("a") for _ in range(20)), cache.get("b"))
        results.append(await cache.get("a"))  # cached
        return list(results)

    results = asyncio.run(scenario())
    assert results == ["A"] * 20 + ["B", "A"]
    assert sorted(calls) == ["a", "b"]


def test_single_flight_refetches_after_the_ttl_and_shares_failures() -> None:
    import asyncio

    from crawler.origin_cache import SingleFlight

    now = [0.0]
    calls = [0]

    async def fetch(key: str) -> int:
        calls[0] += 1
        await asyncio.sleep(0)
        if key == "bad":
            raise RuntimeError("boom")
        return calls[0]

    async def scenario() -> None:
        cache: SingleFlight[str, int] = SingleFlight(fetch, ttl=10, clock=lambda: now[0])
        assert await cache.get("k") == 1
        now[0] = 9.9
        assert await cache.get("k") == 1
        now[0] = 10.0
        assert await cache.get("k") == 2  # 24 h in real life: robots.txt is not reused beyond it
        outcomes = await asyncio.gather(cache.get("bad"), cache.get("bad"), return_exceptions=True)
        assert all(isinstance(o, RuntimeError) for o in outcomes)

    asyncio.run(scenario())
    assert calls[0] == 3


def test_page_links_honours_nofollow_and_resolves_relative_links() -> None:
    from crawler.page_links import page_links

    html = (
        '<html><head></head><body><a href="/a#frag">a</a><a href="b">b</a>'
        '<a href="/c" rel="nofollow">c</a><a href="mailto:x@y">m</a><a href="/a">dup</a></body></html>'
    )
    assert page_links(html, "http://h.example/dir/page") == ["http://h.example/a", "http://h.example/dir/b"]
    nofollow = '<html><head><meta name="robots" content="noindex, nofollow"></head><body><a href="/a">a</a></body></html>'
    assert page_links(nofollow, "http://h.example/") == []


def test_extract_drops_excluded_parts_and_reads_metadata() -> None:
    from crawler.extract import extract

    html = (
        "<html><head><title>T</title><link rel=canonical href=/canon>"
        '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
        '<link rel="license" type="application/rsl+xml" href="/rsl.xml"></head>'
        "<body><article><p>Free words about the harbour and its boats for everyone.</p>"
        '<div class="walled"><p>Secret subscriber words that must never be stored.</p></div>'
        "</article></body></html>"
    )
    found = extract(html, "http://h.example/p", exclude_selectors=(".walled",))
    assert found.text and "harbour" in found.text and "Secret" not in found.text
    assert found.canonical_url == "http://h.example/canon"
    assert found.license_url == "https://creativecommons.org/licenses/by/4.0/"
    assert found.title == "T"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_price_ceiling_is_parsed_or_refused_in_plain_words(value: str) -> None:
    try:
        amount, currency = parse_max_price(value)
    except SignalError as exc:
        assert str(exc)
    else:
        assert currency.isalpha() and (amount is None or amount >= 0)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_extraction_and_links_never_raise_on_arbitrary_bytes(body: bytes) -> None:
    from crawler.extract import extract
    from crawler.page_links import page_links

    found = extract(body, "http://h.example/")
    assert found.text is None or isinstance(found.text, str)
    assert all(u.startswith("http") for u in page_links(body, "http://h.example/"))


def test_politeness_floor_is_the_larger_of_crawl_delay_and_request_rate() -> None:
    from crawler.middlewares.politeness import MAX_FLOOR, origin_floor, too_slow
    from norms.robots import parse_robots

    def floor(body: str) -> float:
        return origin_floor(parse_robots(body, source_url="http://h.example/robots.txt"), "fairfetch")

    assert floor("User-agent: *\nDisallow: /x/\n") == 0
    assert floor("User-agent: *\nCrawl-delay: 2\n") == 2
    assert floor("User-agent: *\nCrawl-delay: 1\nRequest-rate: 1/5\n") == 5
    # our group's delay, not the '*' group's
    assert floor("User-agent: fairfetch\nDisallow: /x/\nCrawl-delay: 3\n\nUser-agent: *\nCrawl-delay: 9\n") == 3
    # Never shortened: an origin asking for more than MAX_FLOOR is not crawled instead.
    assert floor("User-agent: *\nCrawl-delay: 86400\n") == 86400
    assert too_slow(86400) and not too_slow(MAX_FLOOR)
