"""``fairfetch check`` end to end: a subprocess against the fixture web (through its proxy)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from fixtures.web import FixtureWeb
from tests.crawler.crawlrun import FAIRFETCH, REPO, crawl_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb(bench_hosts=0, bench_pages_per_host=0, hang_seconds=10) as w:
        yield w


def run_check(web: FixtureWeb, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**crawl_env(web), "COLUMNS": "200"}
    return subprocess.run([str(FAIRFETCH), "check", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)


def report(web: FixtureWeb, url: str, *args: str) -> dict[str, Any]:
    done = run_check(web, url, "--json", *args)
    data: dict[str, Any] = json.loads(done.stdout)
    # Exit 1 exactly when a problem of severity error was found (a CI gate), else 0.
    assert done.returncode == (1 if data["counts"]["error"] else 0), done.stderr
    return data


def agent(data: dict[str, Any], token: str) -> dict[str, Any]:
    return next(a for a in data["agents"] if a["agent"] == token)


def ours(data: dict[str, Any], usage: str) -> dict[str, Any]:
    """fairfetch's decision for ``usage``: in the row of the purpose token that crawls for it."""
    token = {"search": "fairfetch-search", "ai-train": "fairfetch-train"}.get(usage, "fairfetch-ai")
    decision: dict[str, Any] = agent(data, token)["usages"][usage]
    return decision


def kinds(data: dict[str, Any]) -> set[str]:
    return {p["code"] for p in data["problems"]}


def test_json_has_the_documented_shape(web: FixtureWeb) -> None:
    data = report(web, "http://agents.example/")
    assert set(data) == {"schema_version", "mode", "url", "checked_at", "seconds", "usages", "agents",
                         "obligations", "documents", "problems", "counts"}
    assert data["schema_version"] == 3 and data["mode"] == "live"
    assert data["usages"] == ["search", "ai-index", "ai-input", "ai-train"]
    tokens = [a["agent"] for a in data["agents"]]
    assert tokens[:3] == ["fairfetch-search", "fairfetch-ai", "fairfetch-train"]
    assert "GPTBot" in tokens and "ClaudeBot" in tokens and len(tokens) == 15
    crawls_for = {"fairfetch-search": {"search"}, "fairfetch-ai": {"ai-index", "ai-input"},
                  "fairfetch-train": {"ai-train"}}
    for a in data["agents"]:
        assert set(a) == {"agent", "fetch", "usages", "base", "group"}
        assert set(a["usages"]) == set(data["usages"])
        applicable = {u for u, d in a["usages"].items() if d is not None}
        assert applicable == crawls_for.get(a["agent"], set(data["usages"]))
        assert (a["base"] == "fairfetch") == (a["agent"] in crawls_for) == (a["group"] is not None)
        for u in applicable:
            assert {"allowed", "conditional", "signal", "source", "line", "raw", "rule"} <= set(a["usages"][u])
    assert [d["kind"] for d in data["documents"]] == ["robots.txt", "tdmrep", "page"]


def test_gptbot_denied_by_robots_txt_with_its_line(web: FixtureWeb) -> None:
    data = report(web, "http://agents.example/", "--agent", "GPTBot", "--agent", "fairfetch")
    assert [a["agent"] for a in data["agents"]] == ["GPTBot", "fairfetch-search", "fairfetch-ai", "fairfetch-train"]
    gpt = agent(data, "GPTBot")
    assert gpt["fetch"]["allowed"] is False
    for d in gpt["usages"].values():
        assert d["allowed"] is False
        assert d["signal"] == "robots.txt"
        assert d["source"] == "http://agents.example/robots.txt"
        assert d["line"] == 10 and d["raw"] == "Disallow: /"
    assert ours(data, "ai-input")["allowed"] is True


def test_rsl_host_prohibition_and_insecure_licence(web: FixtureWeb) -> None:
    data = report(web, "http://rsl.example/premium/investigation")
    for a in data["agents"]:
        if a["usages"]["ai-input"] is None:  # fairfetch-search and fairfetch-train do not crawl for it
            continue
        assert a["usages"]["ai-input"]["allowed"] is False
        assert a["usages"]["ai-input"]["signal"] == "rsl"
        assert a["usages"]["ai-input"]["source"] == "http://rsl.example/license.xml"
    assert "rsl" in [d["kind"] for d in data["documents"]]
    assert "rsl-insecure" in kinds(data)  # the fixture web serves licences over plain http
    free = report(web, "http://rsl.example/news/quay-market")
    assert ours(free, "ai-input")["allowed"] is True
    assert ours(free, "ai-input")["signal"] == "rsl"


def test_rsl_missing_and_bomb_are_problems(web: FixtureWeb) -> None:
    missing = report(web, "http://rsl-missing.example/")
    assert "rsl-unreadable" in kinds(missing)
    assert agent(missing, "GPTBot")["usages"]["ai-train"]["allowed"] is False
    bomb = report(web, "http://rsl-bomb.example/")
    assert "rsl-unreadable" in kinds(bomb)


def test_rsl_link_header_is_found_on_the_page(web: FixtureWeb) -> None:
    data = report(web, "http://rsl-link.example/bulletin/saturn")
    train = ours(data, "ai-train")
    assert train["allowed"] is False and train["signal"] == "rsl"
    assert train["source"] == "http://rsl-link.example/terms/rsl.xml"


def test_noai_meta_denies_ai_usages_with_its_line(web: FixtureWeb) -> None:
    data = report(web, "http://noai.example/recipes/bread")
    for train, search in ((ours(data, "ai-train"), ours(data, "search")),
                          (agent(data, "GPTBot")["usages"]["ai-train"], agent(data, "GPTBot")["usages"]["search"])):
        assert train["allowed"] is False
        assert train["signal"] == "meta-robots"
        assert train["raw"] == "noai, noimageai"
        assert "line" in train["element"]
        assert search["allowed"] is True


def test_robots_5xx_is_an_error_and_nothing_else_is_fetched(web: FixtureWeb) -> None:
    web.reset_log()
    data = report(web, "http://robots5xx.example/")
    errors = [p for p in data["problems"] if p["code"] == "robots-unreachable"]
    assert errors and errors[0]["severity"] == "error" and "503" in errors[0]["message"]
    assert all(not a["fetch"]["allowed"] for a in data["agents"])
    assert [r.path for r in web.requests_for("robots5xx.example")] == ["/robots.txt"]


def test_huge_robots_is_cut_at_500_kib(web: FixtureWeb) -> None:
    data = report(web, "http://huge-robots.example/early/x")
    robots = data["documents"][0]
    assert robots["kind"] == "robots.txt" and robots["truncated"] is True and robots["bytes"] == 512_000
    assert "robots-too-large" in kinds(data)
    assert agent(data, "fairfetch-ai")["fetch"]["allowed"] is False  # /early/ is before the cut
    late = report(web, "http://huge-robots.example/late/winter-salads")
    assert agent(late, "fairfetch-ai")["fetch"]["allowed"] is True  # /late/ is past it


def test_malformed_robots_lines_are_reported_with_line_numbers(web: FixtureWeb) -> None:
    data = report(web, "http://malformed-robots.example/")
    lines = [p for p in data["problems"] if p["code"] == "robots-crawl-delay-invalid"]
    assert any("Crawl-delay" in p["message"] and p["line"] == 8 for p in lines)
    assert "robots-not-utf8" in kinds(data)


def test_tdmrep_shadowed_rule_and_paywall_without_markup(web: FixtureWeb) -> None:
    tdm = report(web, "http://tdm.example/reports/open-data")
    assert "tdmrep-shadowed" in kinds(tdm)
    assert ours(tdm, "ai-train")["signal"] == "tdmrep"
    pay = report(web, "http://paywall.example/news/ferry-deal")
    assert "paywall-unmarked" in kinds(pay)


def test_a_hanging_host_finishes_within_the_timeout(web: FixtureWeb) -> None:
    started = time.monotonic()
    data = report(web, "http://hang.example/", "--timeout", "3")
    elapsed = time.monotonic() - started
    assert elapsed < 3 + 2.5  # the check's deadline plus interpreter start-up
    assert data["seconds"] <= 3.2
    assert "robots-unreachable" in kinds(data)
    assert "timeout" in data["documents"][0]["error"]


def test_table_output_names_the_deciding_line(web: FixtureWeb) -> None:
    done = run_check(web, "http://agents.example/", "--agent", "GPTBot")
    assert done.returncode in (0, 1), done.stderr
    assert "deny (robots.txt:10)" in done.stdout
    assert "http://agents.example/robots.txt line 10" in done.stdout


def test_refused_and_invalid_targets_exit_2(web: FixtureWeb) -> None:
    for url in ("http://127.0.0.1/", "http://[::1]:8000/", "ftp://agents.example/", "http://u@agents.example/"):
        done = run_check(web, url)
        assert done.returncode == 2, (url, done.stdout)
        assert "refused" in done.stderr
    assert run_check(web).returncode == 2  # no URL
    assert run_check(web, "http://agents.example/", "--timeout", "0").returncode == 2
