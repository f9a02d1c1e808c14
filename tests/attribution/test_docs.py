"""docs/ai-teams.md: the complete example runs and prints what the guide shows; the TOML is valid."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from attribution import Policy

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "ai-teams.md"


def blocks(language: str) -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def test_the_complete_example_runs_and_prints_the_documented_output() -> None:
    (code,) = blocks("python")
    (expected,) = blocks("text")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(GUIDE), "exec"), {"__name__": "__main__"})
    assert out.getvalue() == expected


def test_the_policy_example_is_valid_and_spells_out_the_defaults() -> None:
    (toml,) = blocks("toml")
    assert Policy.from_toml(toml) == Policy()
