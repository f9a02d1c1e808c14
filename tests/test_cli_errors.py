"""Every CLI error is one line of plain text, whatever the input it quotes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FAIRFETCH = Path(sys.executable).parent / "fairfetch"


@pytest.mark.parametrize("seed", ["ftp://x/[/]", "ftp://x/[bold]loud", "ftp://x/\x1b]0;owned\x07",
                                  "ftp://" + "long-name." * 30 + "example/"])
def test_an_error_quoting_hostile_input_is_one_plain_line(seed: str) -> None:
    out = subprocess.run([str(FAIRFETCH), "crawl", seed], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: seed"), out.stderr
    assert "\x1b" not in out.stderr and "Traceback" not in out.stderr
    assert seed.replace("\x1b", "\\x1b").replace("\x07", "\\x07") in lines[0]
