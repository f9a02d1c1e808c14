"""Running ``fairfetch crawl`` as a subprocess against the fixture web, for the crawler's tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.ledger import Ledger
from fixtures.web import FixtureWeb

REPO = Path(__file__).resolve().parents[2]
FAIRFETCH = Path(sys.executable).parent / "fairfetch"  # the console script of the installed package


@dataclass
class CrawlRun:
    returncode: int
    summary: dict[str, Any]
    stdout: str
    stderr: str
    seconds: float
    db_url: str

    def ledger(self) -> Ledger:
        return Ledger(self.db_url)


def crawl_env(web: FixtureWeb) -> dict[str, str]:
    env = {**os.environ, **web.env()}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("FAIRFETCH_DB", None)
    return env


def crawl_command(seeds: Sequence[str], db_url: str, *options: str) -> list[str]:
    return [str(FAIRFETCH), "crawl", *seeds, "--db", db_url, "--json", *options]


def run_crawl(
    web: FixtureWeb, seeds: Sequence[str], db_url: str, *options: str, timeout: float = 120
) -> CrawlRun:
    started = time.monotonic()
    proc = subprocess.run(
        crawl_command(seeds, db_url, *options),
        env=crawl_env(web),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    seconds = time.monotonic() - started
    summary: dict[str, Any] = {}
    if proc.returncode == 0:
        summary = json.loads(proc.stdout)
    return CrawlRun(proc.returncode, summary, proc.stdout, proc.stderr, seconds, db_url)


def path_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
