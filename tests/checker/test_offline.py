"""``fairfetch check`` offline: files with every problem the issue lists, through the real command.

tests/checker/files/ holds a robots.txt, two RSL licences, two tdmrep.json,
a page and its headers with one of every mistake; each expected problem is
asserted with its file, its line or element and a fix written for it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from crawler.checker.catalogue import CATALOGUE
from crawler.checker.offline import LocalFile, OfflineInputs, check_files
from crawler.cli import main
from tests.crawler.crawlrun import FAIRFETCH, REPO

pytestmark = pytest.mark.slow

FILES = Path(__file__).parent / "files"
URL = "https://news.example/news/harbour"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(FAIRFETCH), "check", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60, check=False, env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"})


def f(name: str) -> str:
    return str(FILES / name)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    done = run("--url", URL, "--robots", f("robots.txt"), "--rsl", f("news.xml"), "--rsl", f("old.xml"),
               "--tdmrep", f("tdmrep.json"), "--html", f("story.html"), "--headers", f("story.headers"), "--json")
    assert done.returncode == 1, done.stderr  # errors were found: a CI gate fails
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def problems(data: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [p for p in data["problems"] if p["code"] == code]


def one(data: dict[str, Any], code: str) -> dict[str, Any]:
    found = problems(data, code)
    assert found, f"{code} not reported; got {sorted({p['code'] for p in data['problems']})}"
    return found[0]


def test_schema_and_nothing_fetched(report: dict[str, Any]) -> None:
    assert report["schema_version"] == 3 and report["mode"] == "offline"
    assert report["url"] == URL and len(report["agents"]) == 15  # 3 purpose tokens + 12
    assert {d["kind"] for d in report["documents"]} == {"robots.txt", "rsl", "tdmrep", "page"}
    assert all(d["file"] for d in report["documents"])
    assert report["counts"]["error"] == sum(p["severity"] == "error" for p in report["problems"])
    for p in report["problems"]:
        assert p["code"] in CATALOGUE and p["severity"] == CATALOGUE[p["code"]].severity.value
        assert p["fix"] and "{suggestion}" not in p["fix"]


@pytest.mark.parametrize(
    ("code", "line", "severity", "in_fix"),
    [
        ("robots-rule-before-user-agent", 2, "error", "User-agent"),
        ("robots-unknown-misspelling", 13, "error", "Did you mean 'User-agent'?"),
        ("robots-misspelt-directive", 14, "warning", "Spell the record 'Disallow'"),
        ("robots-missing-colon", 15, "warning", "'Disallow: /tmp/'"),
        ("robots-crawl-delay-invalid", 16, "warning", "number of seconds"),
        ("robots-crawl-delay-too-long", 17, "warning", "no major crawler"),
        ("robots-unknown-directive", 18, "warning", "no crawler acts"),
        ("robots-no-colon", 19, "warning", "'Field: value'"),
        ("robots-path-no-slash", 20, "error", "'/archive/'"),
        ("robots-group-blocks-all", 11, "warning", "To block only CCBot"),
        ("content-signal-unknown-key", 21, "info", "ignored by design"),
        ("content-usage-unknown-label", 22, "info", "vocab-08"),
        ("content-usage-unknown-parameter", 22, "info", "ignored by design"),
        ("rsl-relative-url", 3, "warning", "'License: https://news.example/licenses/news.xml'"),
        ("rsl-disallowed", 3, "error", "Allow the licence URL"),
    ],
)
def test_robots_txt_problems_have_line_and_a_specific_fix(
    report: dict[str, Any], code: str, line: int, severity: str, in_fix: str
) -> None:
    lines = {p["line"]: p for p in problems(report, code)}
    assert line in lines, (code, sorted(lines, key=str))
    p = lines[line]
    assert p["severity"] == severity and in_fix in p["fix"]
    assert p["file"] == f("robots.txt")


def test_rsl_problems_name_the_element_at_fault(report: dict[str, Any]) -> None:
    attr = one(report, "rsl-unknown-attribute")
    assert attr["file"] == f("news.xml") and attr["element"] == "<rsl>" and "'colour'" in attr["message"]
    rule = one(report, "rsl-bad-rule-type")
    assert "<license> #1" in rule["element"] and "planet" in rule["message"] and rule["severity"] == "error"
    assert one(report, "rsl-bad-amount")["severity"] == "error"
    assert "<permits type='usage'>" in one(report, "rsl-comma-list")["element"]
    insecure = one(report, "rsl-insecure")
    assert insecure["severity"] == "error" and insecure["file"] == f("old.xml") and "line 4" in insecure["message"]


def test_tdmrep_problems(report: dict[str, Any]) -> None:
    assert one(report, "tdmrep-reservation-string")["element"] == "rule #1"
    assert one(report, "tdmrep-reservation-value")["element"] == "rule #2"
    assert one(report, "tdmrep-no-location")["element"] == "rule #3"
    assert one(report, "tdmrep-no-reservation")["element"] == "rule #4"
    assert one(report, "tdmrep-policy-invalid")["element"] == "rule #1"
    assert one(report, "tdmrep-shadowed")["file"] == f("tdmrep.json")


def test_page_and_paywall_problems(report: dict[str, Any]) -> None:
    bad = one(report, "paywall-selector-invalid")
    assert bad["severity"] == "error" and bad["line"] == 3 and "div[[" in bad["message"]
    unmatched = one(report, "paywall-selector-unmatched")
    assert unmatched["severity"] == "error" and ".premium-body" in unmatched["message"]
    assert "whole page" in unmatched["fix"]
    assert one(report, "meta-outside-head")["line"] == 11
    assert one(report, "robots-tag-value")["line"] == 8
    assert one(report, "tdm-header-invalid")["element"] == "header tdm-reservation"
    assert one(report, "content-signal-unknown-key")["severity"] == "info"


def test_contradictions(report: dict[str, Any]) -> None:
    gpt = one(report, "contradiction-robots-licence")
    assert gpt["line"] == 7 and "GPTBot" in gpt["message"] and "disallow GPTBot" in gpt["fix"]
    assert "noai" in one(report, "contradiction-noai-licence")["message"]
    assert one(report, "contradiction-tdmrep-licence")["element"] == "rule #1"


def test_invalid_tdmrep_json_has_its_line_and_a_clean_set_exits_0(tmp_path: Path) -> None:
    done = run("--url", URL, "--tdmrep", f("broken-tdmrep.json"), "--json")
    data = json.loads(done.stdout)
    assert done.returncode == 1
    p = one(data, "tdmrep-invalid-json")
    assert p["line"] == 3 and p["file"] == f("broken-tdmrep.json")
    robots = tmp_path / "robots.txt"
    robots.write_text("User-agent: *\nDisallow: /private/\nContent-Signal: search=yes, ai-train=no\n")
    clean = run("--url", URL, "--robots", str(robots))
    assert clean.returncode == 0, clean.stdout
    assert "no problems found" in clean.stdout and "offline check of" in clean.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--url", "ftp://x.example/", "--robots", f("robots.txt")],
        ["--url", URL, "--robots", "/nonexistent/[red]robots.txt"],
        ["--url", URL, "--robots", f("robots.txt"), "--status", "999"],
        ["--robots", f("robots.txt")],  # no URL
        ["https://a.example/", "--url", "https://b.example/", "--robots", f("robots.txt")],
        ["--serve", "--robots", f("robots.txt")],
    ],
)
def test_unusable_arguments_exit_2_with_one_line(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1, err


def _files(**named: str | bytes) -> dict[str, LocalFile]:
    return {k: LocalFile(k, v.encode() if isinstance(v, str) else v) for k, v in named.items()}


PERMIT_ALL = ('<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
              '<permits type="usage">ai-train ai-input search</permits></license></content></rsl>')


def test_content_signal_contradicts_a_licence_that_permits_training() -> None:
    files = _files(robots="License: https://news.example/license.xml\nUser-agent: *\nAllow: /\n"
                          "Content-Signal: ai-train=no\n")
    report = check_files(OfflineInputs(url=URL, robots=files["robots"],
                                       rsl=[LocalFile("license.xml", PERMIT_ALL.encode())]))
    p = next(p for p in report.problems if p.code == "contradiction-signal-licence")
    assert p.line == 4 and p.file == "robots" and "ai-train=no" in p.message
    gpt = next(a for a in report.agents if a.agent == "GPTBot")
    assert gpt.usages["ai-train"].allowed is False  # the restriction wins


def test_paywall_without_parts_and_parts_covering_the_article() -> None:
    whole = ('<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
             '"isAccessibleForFree": false}</script></head><body><article>text</article></body></html>')
    report = check_files(OfflineInputs(url=URL, html=LocalFile("whole.html", whole.encode())))
    assert [p.code for p in report.problems] == ["paywall-no-parts"] and report.problems[0].severity.value == "info"
    covered = ('<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
               '"isAccessibleForFree": false, "hasPart": {"@type": "WebPageElement", '
               '"isAccessibleForFree": false, "cssSelector": ".body"}}</script></head><body><article>'
               '<h1>T</h1><div class="body">' + "All of the story is walled here. " * 20 + "</div></article></body></html>")
    report = check_files(OfflineInputs(url=URL, html=LocalFile("covered.html", covered.encode())))
    assert "paywall-parts-cover-article" in {p.code for p in report.problems}
    obligations = {(o.usage, o.kind) for o in report.obligations}
    assert ("ai-input", "exclude-parts") in obligations


def test_undeclared_and_missing_licences() -> None:
    report = check_files(OfflineInputs(
        url=URL, robots=LocalFile("robots.txt", b"License: https://news.example/a.xml\n"
                                                b"License: https://news.example/b.xml\nUser-agent: *\nAllow: /\n"),
        rsl=[LocalFile("a.xml", PERMIT_ALL.encode()), LocalFile("c.xml", PERMIT_ALL.encode())]))
    codes = {p.code: p for p in report.problems}
    assert codes["rsl-not-supplied"].where == "https://news.example/b.xml"
    assert codes["rsl-not-declared"].file == "c.xml" and "c.xml" in codes["rsl-not-declared"].fix


def test_terminal_output_escapes_control_characters(tmp_path: Path) -> None:
    robots = tmp_path / "robots.txt"
    robots.write_bytes(b"User-agent: *\nContent-Signal: ai-train=no, \x1b]0;pwned\x07=y\n")
    done = run("--url", URL, "--robots", str(robots), "--agent", "GPTBot")
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "\\x1b]0;pwned\\x07" in done.stdout  # the deciding line, quoted as written, made visible


def test_a_robots_txt_over_500_kib_is_reported() -> None:
    big = b"User-agent: *\n" + b"Disallow: /private/page-0000000000\n" * 16_000 + b"Disallow: /late/\n"
    report = check_files(OfflineInputs(url=URL, robots=LocalFile("robots.txt", big)))
    p = next(p for p in report.problems if p.code == "robots-too-large")
    assert p.file == "robots.txt" and "500 KiB" in p.fix
    ours = next(a for a in report.agents if a.agent == "fairfetch-ai")
    assert ours.fetch.allowed  # /late/ is past the limit, and this URL is not under /private/


def test_fairfetch_rows_follow_their_purpose_token_groups() -> None:
    robots = b"User-agent: fairfetch-train\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    report = check_files(OfflineInputs(url=URL, robots=LocalFile("robots.txt", robots)))
    rows = {a.agent: a for a in report.agents if a.base == "fairfetch"}
    search, train = rows["fairfetch-search"], rows["fairfetch-train"]
    assert search.fetch.allowed and search.usages["search"] is not None and search.usages["search"].allowed
    assert search.group is not None and (search.group.chosen, search.group.line) == ("*", 4)
    decision = train.usages["ai-train"]
    assert decision is not None and not decision.allowed and decision.signal == "robots.txt" and decision.line == 2
    assert not train.fetch.allowed  # a crawl only for training never requests it
    assert train.group is not None and (train.group.chosen, train.group.line, train.group.file) == (
        "purpose", 1, "robots.txt")
