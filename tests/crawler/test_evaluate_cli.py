"""`fairfetch evaluate`: offline decisions from signal files, for publishers checking their own site."""

from __future__ import annotations

import json
from pathlib import Path

from crawler.cli import main

ROBOTS = (
    "License: https://news.example/license.xml\n"
    "User-agent: *\nDisallow: /private/\nContent-Signal: search=yes, ai-train=no\n\n"
    "User-agent: GPTBot\nDisallow: /\n"
)
LICENSE = (
    '<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
    '<permits type="usage">search ai-input</permits><payment type="attribution"/>'
    "</license></content></rsl>"
)


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    robots = tmp_path / "robots.txt"
    robots.write_text(ROBOTS)
    lic = tmp_path / "license.xml"
    lic.write_text(LICENSE)
    headers = tmp_path / "headers.txt"
    headers.write_text("HTTP/1.1 200 OK\nX-Robots-Tag: max-snippet:120\n")
    return robots, lic, headers


def test_json_verdicts_per_agent(tmp_path, capsys):
    robots, lic, headers = _files(tmp_path)
    code = main(
        ["evaluate", "https://news.example/story", "--robots", str(robots), "--license", str(lic),
         "--headers", str(headers), "--agent", "fairfetch", "--agent", "GPTBot", "--json"]
    )
    assert code == 0
    verdicts = {v["user_agent"]: v for v in json.loads(capsys.readouterr().out)}
    ours = verdicts["fairfetch"]
    assert ours["fetch"]["allowed"] is True
    assert ours["usages"]["ai-input"]["effect"] == "allow"
    kinds = {o["kind"] for o in ours["usages"]["ai-input"]["obligations"]}
    assert kinds == {"attribution", "snippet-limit"}
    # The licence file is matched to robots.txt's License line, so evidence names the declared URL.
    assert ours["usages"]["ai-train"]["decided_by"]["source"] == "https://news.example/license.xml"
    gpt = verdicts["GPTBot"]
    assert gpt["fetch"]["allowed"] is False
    assert gpt["fetch"]["decided_by"]["line"] == 7


def test_table_names_the_deciding_signal(tmp_path, capsys):
    robots, _lic, _ = _files(tmp_path)
    assert main(["evaluate", "https://news.example/private/a", "--robots", str(robots)]) == 0
    out = capsys.readouterr().out
    assert "fairfetch" in out and "no" in out
    assert "Disallow: /private/" in out


def test_broken_tdmrep_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "tdmrep.json"
    bad.write_text("{not json")
    assert main(["evaluate", "https://a.example/", "--tdmrep", str(bad)]) == 2
    assert "error" in capsys.readouterr().err.lower()


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["evaluate", "https://a.example/", "--robots", str(tmp_path / "nope.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err
