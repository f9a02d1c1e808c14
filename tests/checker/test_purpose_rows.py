"""The checker's matrix shows fairfetch as its purpose tokens, each with the robots.txt group it obeys.

Through the public entry points: ``fairfetch check URL [--json]`` live against
tokens.example of the fixture web (one robots.txt group per purpose token),
offline from files, and the page served by ``fairfetch check --serve``. The
rows must decide as the crawler does (norms.purposes): the purpose token's
own group if robots.txt names it, else the base token's, else ``*``.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.web import FixtureWeb
from fixtures.web.sites_identity import TOKENS_HOST
from tests.checker.service import served_cli
from tests.crawler.crawlrun import FAIRFETCH, REPO, crawl_env

pytestmark = pytest.mark.slow

OURS = ["fairfetch-search", "fairfetch-ai", "fairfetch-train"]
ROBOTS_URL = f"http://{TOKENS_HOST}/robots.txt"


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb(bench_hosts=0, bench_pages_per_host=0) as w:
        yield w


def run_check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(FAIRFETCH), "check", *args], env={**env, "COLUMNS": "250"}, cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False)


def rows(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    return {a["agent"]: a for a in data["agents"]}


def test_live_json_rows_per_purpose_token_with_the_deciding_group(web: FixtureWeb) -> None:
    env = crawl_env(web)
    got = rows(run_check(env, f"http://{TOKENS_HOST}/guide", "--json"))
    assert list(got)[:3] == OURS and "GPTBot" in got
    search, ai, train = (got[t] for t in OURS)
    # each row only in the usage columns its token crawls for
    assert [u for u, d in search["usages"].items() if d is not None] == ["search"]
    assert [u for u, d in ai["usages"].items() if d is not None] == ["ai-index", "ai-input"]
    assert [u for u, d in train["usages"].items() if d is not None] == ["ai-train"]
    assert got["GPTBot"]["group"] is None and None not in got["GPTBot"]["usages"].values()
    # fairfetch-search and fairfetch-train have groups of their own, fairfetch-ai falls back to fairfetch's
    assert search["group"] == {"chosen": "purpose", "user_agent": "fairfetch-search", "source": ROBOTS_URL,
                               "file": None, "line": 5}
    assert ai["group"] == {"chosen": "base", "user_agent": "fairfetch", "source": ROBOTS_URL, "file": None,
                           "line": 8}
    assert train["group"] == {"chosen": "purpose", "user_agent": "fairfetch-train", "source": ROBOTS_URL,
                              "file": None, "line": 2}
    assert all(got[t]["base"] == "fairfetch" for t in OURS)
    # the decisions are the crawler's: training is kept out by its own group, whatever the base group says
    assert search["fetch"]["allowed"] and search["usages"]["search"]["allowed"]
    assert ai["usages"]["ai-input"]["allowed"] and ai["usages"]["ai-index"]["allowed"]
    denied = train["usages"]["ai-train"]
    assert not train["fetch"]["allowed"] and not denied["allowed"]
    assert (denied["signal"], denied["line"], denied["raw"]) == ("robots.txt", 3, "Disallow: /")
    assert "group 'fairfetch-train'" in denied["rule"]

    drafts = rows(run_check(env, f"http://{TOKENS_HOST}/drafts/plan", "--json"))
    assert drafts["fairfetch-search"]["fetch"]["allowed"]  # its own group allows everything
    blocked = drafts["fairfetch-ai"]["fetch"]
    assert not blocked["allowed"] and (blocked["line"], blocked["raw"]) == (9, "Disallow: /drafts/")


def test_live_text_names_the_group_and_marks_what_a_token_does_not_crawl_for(web: FixtureWeb) -> None:
    done = run_check(crawl_env(web), f"http://{TOKENS_HOST}/guide")
    assert done.returncode in (0, 1), done.stderr
    out = done.stdout
    for line in ("group 'fairfetch-search' (its own), robots.txt line 5",
                 "group 'fairfetch' (the base token's), robots.txt line 8",
                 "group 'fairfetch-train' (its own), robots.txt line 2"):
        assert line in out, out
    train = next(line for line in out.splitlines() if line.startswith("│ fairfetch-train"))
    cells = [c.strip() for c in train.strip("│ ").split("│")]
    assert cells == ["fairfetch-train", "deny (robots.txt:3)", "n/a", "n/a", "n/a", "deny (robots.txt:3)"]


def test_the_base_token_follows_user_agent(web: FixtureWeb) -> None:
    got = rows(run_check(crawl_env(web), f"http://{TOKENS_HOST}/guide", "--json", "--user-agent", "harbourbot"))
    assert list(got)[:3] == ["harbourbot-search", "harbourbot-ai", "harbourbot-train"]
    for token in ("harbourbot-search", "harbourbot-ai", "harbourbot-train"):
        row = got[token]
        assert row["base"] == "harbourbot"
        assert (row["group"]["chosen"], row["group"]["user_agent"], row["group"]["line"]) == ("*", "*", 12)
        assert not row["fetch"]["allowed"] and row["fetch"]["line"] == 13
    bad = run_check(crawl_env(web), f"http://{TOKENS_HOST}/", "--user-agent", "harbour bot")
    assert bad.returncode == 2 and "product token" in bad.stderr and "Traceback" not in bad.stderr


def test_offline_a_group_no_crawl_of_ours_obeys_is_a_warning(tmp_path: Path) -> None:
    robots = tmp_path / "robots.txt"
    robots.write_text("User-agent: fairfetch-ai-train\nDisallow: /\n\nUser-agent: fairfetch-search\nAllow: /\n\n"
                      "User-agent: *\nDisallow: /\n")
    env = {"PATH": "/usr/bin:/bin"}
    done = run_check(env, "--url", "https://museum.example/", "--robots", str(robots), "--json")
    data = json.loads(done.stdout)
    assert done.returncode == 0, done.stderr  # a warning does not fail a CI gate
    stray = [p for p in data["problems"] if p["code"] == "robots-unknown-purpose-token"]
    assert len(stray) == 1 and stray[0]["line"] == 1 and stray[0]["file"] == str(robots)
    assert "'fairfetch-train' is the closest" in stray[0]["fix"]
    got = {a["agent"]: a for a in data["agents"]}
    assert got["fairfetch-train"]["group"]["chosen"] == "*"  # the stray group is not fairfetch-train's
    assert got["fairfetch-train"]["group"]["file"] == str(robots)
    assert not got["fairfetch-train"]["usages"]["ai-train"]["allowed"]
    assert got["fairfetch-search"]["group"]["chosen"] == "purpose" and got["fairfetch-search"]["fetch"]["allowed"]
    text = run_check(env, "--url", "https://museum.example/", "--robots", str(robots)).stdout
    assert "robots-unknown-purpose-token" in text and f"group '*' (no group names fairfetch-ai), {robots} line 7" in text


@pytest.fixture(scope="module")
def served(web: FixtureWeb) -> Iterator[str]:
    with served_cli(web) as base:
        yield base


def _row(page: str, agent: str) -> str:
    match = re.search(rf'<tr data-agent="{re.escape(agent)}">(.*?)</tr>', page)
    assert match, agent
    return match.group(1)


def test_the_served_page_shows_the_tokens_and_escapes_what_the_publisher_sent(served: str) -> None:
    with httpx.Client(trust_env=False, timeout=30) as client:
        page = client.get(served + "/check", params={"url": f"http://{TOKENS_HOST}/guide"}).text
        train = _row(page, "fairfetch-train")
        assert train.startswith("<th scope=row>fairfetch-train<span class=sig")
        assert f'title="{ROBOTS_URL} line 2"' in train
        assert unescape("group &#x27;fairfetch-train&#x27; (its own), robots.txt line 2") in unescape(train)
        assert train.count("not applicable") == 3 and "robots.txt:3" in train
        assert _row(page, "fairfetch-ai").count("not applicable") == 2
        assert "the base token&#x27;s" in _row(page, "fairfetch-ai")
        assert "not applicable" not in _row(page, "GPTBot")

        # offline: an uploaded file's name is the publisher's text, shown escaped
        name = "<img src=x onerror=alert(1)>robots.txt"
        robots = b"User-agent: fairfetch-train\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
        r = client.post(served + "/check", data={"url": "https://museum.example/"},
                        files={"robots_file": (name, robots)})
    assert r.status_code == 200
    assert "<img" not in r.text
    row = _row(r.text, "fairfetch-train")
    assert "&lt;img src=x onerror=alert(1)&gt;robots.txt line 1" in row
