"""A page read in the pool is stored exactly as a page read on the reactor.

``--extract-processes N`` moves each page's parse, signal reading, links,
classification and text extraction to worker processes, and the verdict is
decided on the reactor from the facts they send back (``norms.page_facts``).
Judged from the ledger's bytes: the same crawl of the whole fixture web (every
site's seed and every path with an expectation: paywalls, noai, TDMRep, RSL,
gates, redirects) with the pool and with ``--extract-processes 0`` stores the
same pages with the same decisions, evidence, obligations, text, links and
class, with text and with ``--no-extract``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fixtures.web import FixtureWeb
from tests.crawler.crawlrun import run_crawl
from tests.crawler.test_crawl_e2e import all_seeds

# What differs between two runs by construction: times, row ids, the crawl's own name.
VOLATILE = {"fetched_at", "crawl_id", "signal_ids", "id", "at", "first_seen", "last_seen", "updated_at",
            "seen_at", "classified_at", "first_seen_at", "last_seen_at", "fetched", "snapshot_id", "checked_at"}


def steady(value: Any) -> Any:
    """``value`` without the keys that differ between any two runs, at any depth."""
    if isinstance(value, dict):
        return {k: steady(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [steady(v) for v in value]
    return value


def stored(run: Any) -> dict[str, dict[str, Any]]:
    with run.ledger() as ledger:
        return {row["url"]: steady(row) for row in ledger.export()}


@pytest.mark.slow
@pytest.mark.parametrize("extract", [True, False], ids=["text", "no-extract"])
def test_the_pool_stores_what_the_reactor_stores(tmp_path: Path, extract: bool) -> None:
    options = ("--robots-timeout", "2", "--depth", "4", *(() if extract else ("--no-extract",)))
    ledgers = {}
    with FixtureWeb(hang_seconds=3) as web:
        seeds = all_seeds(web)
        for processes in ("2", "0"):
            db = f"sqlite:///{tmp_path / f'ledger-{processes}.sqlite'}"
            run = run_crawl(web, seeds, db, *options, "--extract-processes", processes, timeout=300)
            assert run.returncode == 0, run.stderr[-3000:]
            assert run.summary["extract_processes"] == int(processes)
            ledgers[processes] = stored(run)
    pooled, in_process = ledgers["2"], ledgers["0"]
    assert len(pooled) > 50
    assert sorted(pooled) == sorted(in_process)
    for url in pooled:
        assert pooled[url] == in_process[url], (url, {k: (v, in_process[url].get(k)) for k, v in pooled[url].items()
                                                      if v != in_process[url].get(k)})
    texts = [row for row in pooled.values() if row.get("text")]
    assert bool(texts) is extract
