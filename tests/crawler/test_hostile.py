"""The crawler against the hostile web (fixtures/hostile): judged from the server's log and the ledger.

One crawl covers most classes at once (undecodable and bomb robots.txt,
broken responses, 429/503 pauses, Retry-After beyond the limit, link and URL
length limits, DNS and connection failures); separate runs measure memory
against a twin crawl and interrupt a crawl with SIGINT.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from crawler.ledger import Ledger
from fixtures.hostile.sites import BOMB_HOSTS, CATALOG, LONG_PATH, LONG_SITEMAP
from fixtures.web import FixtureWeb
from fixtures.web.model import RequestRecord
from norms.robots import ROBOTS_MAX_BYTES
from tests.crawler.crawlrun import REPO, CrawlRun, crawl_command, crawl_env, path_of

NX = "nx-host.invalid"  # .invalid never resolves (RFC 6761)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def direct_env(web: FixtureWeb) -> dict[str, str]:
    """The crawl's environment with the DNS-failure host and 127.0.0.1 outside the proxy, as on a real network."""
    env = crawl_env(web)
    env["no_proxy"] = env["NO_PROXY"] = f"{NX},127.0.0.1"
    return env


def crawl(web: FixtureWeb, seeds: list[str], db: str, *options: str, timeout: float = 150) -> CrawlRun:
    started = time.monotonic()
    proc = subprocess.run(crawl_command(seeds, db, *options), env=direct_env(web), cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)
    summary = json.loads(proc.stdout) if proc.returncode == 0 else {}
    return CrawlRun(proc.returncode, summary, proc.stdout, proc.stderr, time.monotonic() - started, db)


def fairfetch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "fairfetch"), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FixtureWeb, CrawlRun, int]]:
    db = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'ledger.sqlite'}"
    port = closed_port()
    hosts = ["gzip-corrupt.example", "gzip-truncated.example", "bomb-1.example", "faults.example",
             "slowdown.example", "retry-glacial.example", "limits.example"]
    with FixtureWeb(catalog=CATALOG) as web:
        seeds = [web.site(h).seed_url for h in hosts] + [f"http://{NX}/", f"http://127.0.0.1:{port}/"]
        run = crawl(web, seeds, db, "--max-links", "20", "--max-url-length", "300")
        yield web, run, port


def _log(web: FixtureWeb, host: str) -> list[RequestRecord]:
    return web.requests_for(host)


def _rows(run: CrawlRun, host: str) -> list[dict[str, Any]]:
    return [r for r in run.ledger().fetch_log() if r["url"].startswith(f"http://{host}/")]


@pytest.mark.slow
def test_the_crawl_survives_the_hostile_web_in_bounded_time(hostile: tuple[FixtureWeb, CrawlRun, int]) -> None:
    _web, run, _port = hostile
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    assert run.seconds < 90, run.seconds
    assert run.summary["errors"] == sum(run.summary["errors_by_kind"].values())
    assert "other" not in run.summary["errors_by_kind"], run.summary["errors_by_kind"]


@pytest.mark.slow
@pytest.mark.parametrize("host", ["gzip-corrupt.example", "gzip-truncated.example"])
def test_an_undecodable_robots_txt_disallows_everything(hostile: tuple[FixtureWeb, CrawlRun, int], host: str) -> None:
    web, run, _ = hostile
    # The readable prefix said "Allow: /public/": accepting it would have crawled the site.
    assert {r.path for r in _log(web, host)} == set(web.site(host).expected["only_requested_paths"])
    ledger = run.ledger()
    assert ledger.page(f"http://{host}/") is None
    rows = _rows(run, host)
    assert [r["outcome"] for r in rows] == ["refused"]
    assert "protocol: gzip body" in rows[0]["reason"]
    snapshot = ledger.signal_history("robots.txt", f"http://{host}/robots.txt")[-1]
    assert snapshot["error"].startswith("protocol: gzip body")
    assert snapshot["size"] is None  # no prefix kept as if it were the file
    # ledger show: the refusal, its reason and the evidence, for a URL that has no page row
    shown = fairfetch("ledger", "show", f"http://{host}/", "--db", run.db_url, "--json")
    assert shown.returncode == 0, shown.stderr
    history = json.loads(shown.stdout)
    assert history["stored"] is False
    [refusal] = history["refusals"]
    assert refusal["kind"] == "robots.txt" and "protocol" in refusal["reason"]
    assert refusal["evidence"][0]["source"] == f"http://{host}/robots.txt"
    assert refusal["signals"][0]["error"] == snapshot["error"]


@pytest.mark.slow
def test_a_gzip_bomb_robots_txt_is_read_up_to_the_cap(hostile: tuple[FixtureWeb, CrawlRun, int]) -> None:
    web, run, _ = hostile
    host = "bomb-1.example"
    expected = web.site(host).expected
    paths = {r.path for r in _log(web, host)}
    assert not any(p.startswith("/private/") for p in paths), paths
    ledger = run.ledger()
    for path in expected["stored_paths"]:
        page = ledger.page(f"http://{host}{path}")
        assert page is not None and page["text"], path
    snapshot = ledger.signal_history("robots.txt", f"http://{host}/robots.txt")[-1]
    assert snapshot["truncated"] is True
    assert snapshot["size"] == ROBOTS_MAX_BYTES  # inflated to the cap, not a byte further


@pytest.mark.slow
def test_broken_responses_are_named_errors(hostile: tuple[FixtureWeb, CrawlRun, int]) -> None:
    web, run, _ = hostile
    kinds: dict[str, str] = web.site("faults.example").expected["error_kinds"]
    rows = {path_of(r["url"]): r for r in _rows(run, "faults.example") if r["outcome"] == "error"}
    for path, kind in kinds.items():
        assert rows[path]["reason"].startswith(f"{kind}: "), rows[path]["reason"]
        assert "Failure" not in rows[path]["reason"] and "twisted" not in rows[path]["reason"]
    for kind in set(kinds.values()):
        assert run.summary["errors_by_kind"].get(kind, 0) >= 1, (kind, run.summary["errors_by_kind"])
    assert run.ledger().page("http://faults.example/ok") is not None


def _pauses_hold(log: list[RequestRecord], pauses: dict[str, float]) -> None:
    """After each slow-down answer at ``t`` for a path, nothing reaches the host before ``t + pause``."""
    assert all(p in {r.path for r in log if r.status in (429, 503)} for p in pauses), [(r.path, r.status) for r in log]
    for i, answer in enumerate(log):
        if answer.status not in (429, 503) or answer.path not in pauses:
            continue
        later = log[i + 1 :]
        assert later, f"{answer.path} never asked again"
        gap = later[0].time - answer.time
        assert gap >= pauses[answer.path], (answer.path, round(gap, 3))


@pytest.mark.slow
def test_429_and_503_pause_the_origin(hostile: tuple[FixtureWeb, CrawlRun, int]) -> None:
    web, run, _ = hostile
    site = web.site("slowdown.example")
    log = sorted(_log(web, "slowdown.example"), key=lambda r: r.time)
    _pauses_hold(log, site.expected["pauses"])
    ledger = run.ledger()
    for path in site.expected["stored_paths"]:
        assert ledger.page(f"http://slowdown.example{path}") is not None, path


@pytest.mark.slow
def test_a_pause_beyond_the_limit_gives_the_urls_up(hostile: tuple[FixtureWeb, CrawlRun, int]) -> None:
    web, run, _ = hostile
    site = web.site("retry-glacial.example")
    pages = [r for r in _log(web, "retry-glacial.example") if r.path not in ("/robots.txt", "/", "/.well-known/tdmrep.json")]
    assert len(pages) == site.expected["max_requests_after_home"], [(r.path, r.status) for r in pages]
    rows = {path_of(r["url"]): r for r in _rows(run, "retry-glacial.example") if r["outcome"] == "error"}
    assert set(rows) == set(site.expected["refused_paths"])
    assert all(r["reason"].startswith("retry-after: ") and "86400" in r["reason"] for r in rows.values())


@pytest.mark.slow
def test_limits_drop_and_record_every_url_they_keep_out(hostile: tuple[FixtureWeb, CrawlRun, int]) -> None:
    web, run, _ = hostile
    requested = {r.path for r in _log(web, "limits.example")}
    assert not any(p.startswith("/long/") for p in requested)  # neither as a link nor as a redirect target
    assert "/to-long" in requested
    dropped = [r for r in _rows(run, "limits.example") if r["outcome"] == "dropped"]
    too_long = {path_of(r["url"]) for r in dropped if r["reason"].startswith("url-too-long")}
    assert too_long == {LONG_PATH, LONG_PATH + "?from=redirect", LONG_SITEMAP}
    assert "/sitemap.xml" in requested and not any(p.startswith("/sitemaps/") for p in requested)
    beyond = {path_of(r["url"]) for r in dropped if r["reason"].startswith("too-many-links")}
    followed = {p for p in requested if p.startswith("/p/")}
    # The brand link "/", the long link and the redirect come first: 17 pages fit in the 20 links.
    assert len(followed) == 17 and not followed & beyond
    assert followed | beyond == {f"/p/{n}" for n in range(web.site("limits.example").expected["links"])}
    assert run.summary["dropped_by_reason"] == {"too-many-links": 13, "url-too-long": 3}


@pytest.mark.slow
def test_unresolvable_and_unreachable_seeds_are_errors_not_refusals(hostile: tuple[FixtureWeb, CrawlRun, int]) -> None:
    _web, run, port = hostile
    kinds = run.summary["errors_by_kind"]
    assert kinds.get("dns") == 1 and kinds.get("connection", 0) >= 2  # + faults.example's cut headers
    log = run.ledger().fetch_log()
    dns = [r for r in log if r["url"] == f"http://{NX}/"]
    refused = [r for r in log if r["url"] == f"http://127.0.0.1:{port}/"]
    assert [r["outcome"] for r in dns] == ["error"] and dns[0]["reason"].startswith("dns: ")
    assert [r["outcome"] for r in refused] == ["error"] and refused[0]["reason"].startswith("connection: ")
    shown = json.loads(fairfetch("ledger", "show", f"http://{NX}/", "--db", run.db_url, "--json").stdout)
    assert shown["refusals"][0]["kind"] == "dns"


@pytest.mark.slow
def test_ledger_export_refusals_writes_json_lines(hostile: tuple[FixtureWeb, CrawlRun, int]) -> None:
    _web, run, _ = hostile
    out = fairfetch("ledger", "export", "--refusals", "--db", run.db_url)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert lines and all(r["outcome"] == "refused" for r in lines)
    private = [r for r in lines if r["url"] == "http://bomb-1.example/private/ledger"]
    assert private and private[0]["kind"] == "robots.txt"
    decided = private[0]["evidence"][0]
    assert decided["line"] == 2 and decided["raw"] == "Disallow: /private/"
    assert private[0]["signals"][0]["truncated"] is True
    counts = run.ledger().counts()
    assert len(lines) == counts["outcomes"]["refused"]


# --- memory: eight gzip bombs cost no more than eight plain robots.txt ------------------------


def _peak_rss_kib(web: FixtureWeb, seeds: list[str], db: str) -> int:
    """Peak RSS of one crawl subprocess, measured by a fresh parent that waits for nothing else.

    ``--extract-processes 0``: pages are extracted in the crawl process, where robots.txt is
    decoded too, so no pool process (trafilatura and dateparser's tables) can be the largest child
    and hide the crawl process's growth; and the crawl skips the pool's start-up (the forkserver,
    then each process compiling dateparser's locales on its first page: seconds of CPU each).
    """
    code = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    command = crawl_command(seeds, db, "--extract-processes", "0")
    out = subprocess.run([sys.executable, "-c", code, *command], env=crawl_env(web), cwd=REPO,
                         capture_output=True, text=True, timeout=150, check=True)
    returncode, rss = out.stdout.split()
    assert returncode == "0"
    return int(rss)


@pytest.mark.slow
def test_eight_gzip_bombs_cost_no_more_memory_than_eight_plain_robots(tmp_path: Path) -> None:
    with FixtureWeb(catalog=CATALOG) as web:
        bombs = [web.site(f"bomb-{n}.example").seed_url for n in range(1, BOMB_HOSTS + 1)]
        plain = [web.site(f"plain-{n}.example").seed_url for n in range(1, BOMB_HOSTS + 1)]
        baseline = _peak_rss_kib(web, plain, f"sqlite:///{tmp_path / 'plain.sqlite'}")
        bombed = _peak_rss_kib(web, bombs, f"sqlite:///{tmp_path / 'bombs.sqlite'}")
        private = [r for r in web.requests() if r.path.startswith("/private/")]
    ratio = bombed / baseline
    print(f"peak RSS: plain {baseline} KiB, bombs {bombed} KiB, ratio {ratio:.3f}")
    assert ratio <= 1.2, (baseline, bombed)
    assert not private
    for db in ("plain", "bombs"):
        counts = Ledger(f"sqlite:///{tmp_path / f'{db}.sqlite'}").counts()
        assert counts["stored"] == 3 * BOMB_HOSTS, (db, counts)


# --- SIGINT: exit 130 after writing what it has ------------------------------------------------


@pytest.mark.slow
def test_an_interrupted_crawl_exits_130_after_writing_what_it_has(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with FixtureWeb(catalog=CATALOG) as web:
        proc = subprocess.Popen(crawl_command([web.site("slow.example").seed_url], db), env=crawl_env(web),
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while len([r for r in web.requests_for("slow.example") if r.path.startswith("/s/")]) < 3:
                assert time.monotonic() < deadline and proc.poll() is None, "the crawl did not get going"
                time.sleep(0.1)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
        requested = {r.path for r in web.requests_for("slow.example")}
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    summary = json.loads(out)
    assert summary["finish_reason"] == "shutdown"
    ledger = Ledger(db)
    counts = ledger.counts()
    assert 3 <= counts["stored"] < 41 and counts["stored"] == summary["stored"]
    assert len(requested) < 42  # stopped early: robots.txt + 41 pages would be the whole site
    crawl_row = ledger.crawl(summary["crawl_id"])
    assert crawl_row is not None and crawl_row["finished_at"] and crawl_row["stats"]["finish_reason"] == "shutdown"


# --- the CLI: a ledger that cannot be used, a seed that is no URL --------------------------------


@pytest.mark.parametrize(
    ("db", "words"),
    [
        ("garbage", "file is not a database"),
        ("notaurl", "not a database URL"),
        ("mysql://crawler@localhost/ledger", "no database driver"),
    ],
)
def test_an_unusable_ledger_is_one_line_and_exit_2(
    db: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if db == "garbage":
        garbage = tmp_path / "garbage.db"
        garbage.write_bytes(os.urandom(4096))
        db = f"sqlite:///{garbage}"
    assert main(["crawl", "http://open.example/", "--db", db]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    ("seed", "words"),
    [
        ("http://open.example/a page", "space"),
        ("http://exa mple.org/", "space"),
        ("http://open.example:99999/", "not a valid URL"),
        ("http://<script>/", "invalid host name"),
        ("http://[::1/", "not a valid URL"),
    ],
)
def test_an_invalid_seed_is_a_usage_error(seed: str, words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crawl", seed]) == 2
    assert words in capsys.readouterr().err


def test_limits_must_not_be_negative(capsys: pytest.CaptureFixture[str]) -> None:
    for option in ("--max-links", "--max-url-length"):
        assert main(["crawl", "http://open.example/", option, "-1"]) == 2
        assert option in capsys.readouterr().err





# --- scaled out: one worker is told to slow down, every worker waits ------------------------------


@pytest.mark.services
@pytest.mark.slow
def test_a_pause_holds_across_workers(redis_url: str, redis_prefix: str, pg_url: str) -> None:
    from tests.crawler.test_scaleout import two_workers

    with FixtureWeb(catalog=CATALOG) as web:
        site = web.site("slowdown.example")
        a, b = two_workers(web, redis_url, redis_prefix, "pause", pg_url, [site.seed_url], "--concurrency", "1",
                           "--no-extract")
        log = sorted(web.requests_for("slowdown.example"), key=lambda r: r.time)
    assert a["fetched"] + b["fetched"] == len(site.expected["stored_paths"]), (a, b)
    # Whichever worker got the 429/503, neither sent anything to the origin before the pause ended.
    _pauses_hold(log, site.expected["pauses"])


@pytest.mark.slow
def test_scrapy_crawl_fair_counts_an_invalid_seed_as_an_error(tmp_path: Path) -> None:
    """``scrapy crawl fair -a seeds=...`` has no usage errors: an invalid seed is an error row and counted."""
    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with FixtureWeb(catalog=CATALOG) as web:
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "scrapy"), "crawl", "fair", "-a",
             "seeds=http://faults.example:99999/,http://<bad>/", "-s", f"FAIRFETCH_DB={db}", "-s", "LOG_LEVEL=ERROR"],
            cwd=REPO / "crawler", env=crawl_env(web), capture_output=True, text=True, timeout=60, check=False)
        assert not web.requests()
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = Ledger(db).fetch_log()
    assert [r["outcome"] for r in rows] == ["error", "error"]
    assert all(r["reason"].startswith("invalid-url: seed ") for r in rows)
