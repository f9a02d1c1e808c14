"""The ``fairfetch`` entry point builds only the chosen command, yet ``--help`` lists them all."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from crawler.cli import COMMANDS, build_parser, chosen_command
from tests.crawler.crawlrun import REPO


def _registered_help() -> dict[str, str | None]:
    parser = build_parser()  # every module imported and registered
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a.help for a in sub._choices_actions}


def test_static_table_matches_what_the_modules_register() -> None:
    assert _registered_help() == COMMANDS
    assert list(_registered_help()) == list(COMMANDS)  # same order in --help


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["crawl", "http://a.example/"], "crawl"),
        (["--version"], None),
        ([], None),
        (["-h"], None),
        (["ledger", "stats"], "ledger"),
        (["nonsense", "crawl"], None),
        (["--", "crawl"], None),
    ],
)
def test_chosen_command(argv: list[str], expected: str | None) -> None:
    assert chosen_command(argv) == expected


def _modules_after(argv: list[str]) -> dict[str, object]:
    code = (
        "import contextlib, io, json, sys\n"
        "from crawler.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps({'modules': sorted(m for m in sys.modules if m.startswith('crawler.cli.')),"
        " 'help': out.getvalue()}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=60, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_help_lists_every_command_without_importing_any() -> None:
    result = _modules_after(["--help"])
    assert result["modules"] == []
    text = str(result["help"])
    for name in COMMANDS:
        assert name in text


def test_a_command_imports_only_its_own_module() -> None:
    result = _modules_after(["evaluate", "--help"])
    commands = [m for m in result["modules"] if m.rsplit(".", 1)[1] in COMMANDS]  # type: ignore[attr-defined]
    assert commands == ["crawler.cli.evaluate"]
    assert "usage: fairfetch evaluate" in str(result["help"])


def test_an_unknown_command_is_refused() -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser(["nonsense"]).parse_args(["nonsense"])
    assert exc.value.code == 2
