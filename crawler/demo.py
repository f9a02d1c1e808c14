"""``make demo``: crawl the bundled fixture web and show, for a person, what was decided and why.

Starts the fixture web (every trap and signal the crawler knows about, on
127.0.0.1 behind one proxy), runs ``fairfetch crawl`` on every site's seed
with purpose ``ai-input`` into a fresh SQLite ledger (the same code path as
the command line), then prints the summary, one line of decisions per URL,
and how to look at one page's provenance. Takes about half a minute; the
ledger is kept so that it can be inspected afterwards.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from crawler.cli import main as cli_main
from crawler.cli.output import console, print_table
from crawler.ledger import Ledger
from fixtures.web import FixtureWeb

USAGES = ("search", "ai-index", "ai-input", "ai-train")
# The demo keeps hangs short: hang.example never answers, robots.txt is given 3 s.
ROBOTS_TIMEOUT = "3"
HANG_SECONDS = 10.0


def _short(reason: str, width: int = 70) -> str:
    reason = " ".join(reason.split())
    return reason if len(reason) <= width else reason[: width - 1] + "…"


def _mark(decision: dict[str, Any] | None) -> str:
    if decision is None:
        return "-"
    return "yes" if decision.get("allowed") else "no"


def decision_rows(ledger: Ledger) -> list[tuple[str, ...]]:
    """One row per URL the crawl touched: stored pages, refused requests, errors."""
    rows: dict[str, tuple[str, ...]] = {}
    for page in ledger.export():
        decisions = page["decisions"] or {}
        purpose = decisions.get("ai-input") or {}
        reasons = purpose.get("reasons") or []
        stored = "text" if page["text"] is not None else "metadata only"
        rows[page["url"]] = (
            _display(page["url"]),
            str(page["status"]),
            stored,
            *(_mark(decisions.get(u)) for u in USAGES),
            _short(reasons[0] if reasons else ""),
        )
    for entry in ledger.fetch_log():
        url = entry["url"]
        if url in rows or entry["outcome"] not in ("refused", "error"):
            continue
        label = "not requested" if entry["outcome"] == "refused" and entry["status"] is None else entry["outcome"]
        rows[url] = (_display(url), str(entry["status"] or "-"), label, "-", "-", "-", "-",
                     _short(entry["reason"]))
    return [rows[u] for u in sorted(rows)]


def _display(url: str) -> str:
    return url.removeprefix("http://")


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="fairfetch-demo-"))
    db = f"sqlite:///{workdir / 'ledger.sqlite'}"
    if not console.is_terminal:  # a log or a pipe: do not fold the tables to 80 columns
        console.width = 180
    with FixtureWeb(hang_seconds=HANG_SECONDS) as web:
        os.environ.update(web.env())
        console.rule("fairfetch demo: crawling the fixture web with purpose ai-input")
        console.print(f"{len(web.hosts)} sites, each demonstrating one signal or trap; ledger: {db}\n")
        code = cli_main(["crawl", *web.seeds(), "--purpose", "ai-input", "--db", db,
                         "--robots-timeout", ROBOTS_TIMEOUT])
        if code != 0:
            return code
        ledger = Ledger(db)
        print_table(
            "Decisions per URL (purpose ai-input)",
            ("url", "status", "stored?", *USAGES, "deciding reason (ai-input)"),
            decision_rows(ledger),
        )
        # A page kept without its text makes the most telling example.
        example = next((p["url"] for p in ledger.export() if p["text"] is None and p["status"] == 200), None)
    console.print("\nInspect the provenance of one page (decisions, evidence, signal snapshots, fetch log):")
    console.print(f"  fairfetch ledger show {example or 'URL'} --db {db}", soft_wrap=True)
    console.print(f"  fairfetch ledger export --db {db} > pages.jsonl", soft_wrap=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
