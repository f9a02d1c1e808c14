"""End to end: paywall markup that does not locate its walled parts keeps the paid text out of the ledger.

One ``fairfetch crawl`` of paywall.example (and of a page whose licence
discovery meets targets that are not URLs) (purpose ``ai-input``), judged from
outside: the fixture server's request log and the raw bytes of the SQLite
ledger. The site has four pages whose markup says "not free" while naming a
``hasPart`` selector that matches nothing, one that is not CSS, none at all,
and a microdata part that matches nothing; their paid paragraphs are in the
HTML. A control page (``/news/dredging-costs``) locates its part: its free
text must be in the same bytes, which shows the search could find stored text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.web import FixtureWeb
from fixtures.web.sites_licences import UNLOCATED_PAYWALLS, unlocated_paid_paragraphs
from tests.crawler.crawlrun import CrawlRun, run_crawl

pytestmark = pytest.mark.slow

HOST = "paywall.example"
BROKEN_LINKS = "http://rsl-link.example/bulletin/broken-links"
REASONS = {
    "/news/harbour-levy": "'.paywalled-body' matches nothing in the page",
    "/news/pier-repairs": "'div[class=' is not a valid CSS selector",
    "/news/lock-gates": "a walled hasPart names no cssSelector",
    "/news/tide-tables": "'.members-only' matches nothing in the page",
}


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FixtureWeb, CrawlRun, Path]]:
    db = Path(tmp_path_factory.mktemp("paywall")) / "ledger.sqlite"
    with FixtureWeb() as web:
        seeds = [f"http://{HOST}/", BROKEN_LINKS]
        run = run_crawl(web, seeds, f"sqlite:///{db}", "--purpose", "ai-input", "--depth", "1")
        assert run.returncode == 0, run.stderr[-3000:]
        yield web, run, db


def ledger_bytes(db: Path) -> bytes:
    """Every byte the ledger wrote: the database file and any write-ahead log beside it."""
    return b"".join(p.read_bytes() for p in sorted(db.parent.glob(db.name + "*")))


def pages(run: CrawlRun) -> dict[str, dict[str, Any]]:
    return {p["url"]: p for p in run.ledger().export(crawl_id=run.summary["crawl_id"])}


def test_unlocated_paid_text_never_reaches_the_ledger(crawl: tuple[FixtureWeb, CrawlRun, Path]) -> None:
    web, run, db = crawl
    requested = {r.path for r in web.requests_for(HOST)}
    data = ledger_bytes(db)
    stored = pages(run)
    for path in UNLOCATED_PAYWALLS:
        assert path in requested, path  # fetched (robots allows it): the decision is on the response
        for paragraph in unlocated_paid_paragraphs(path):
            assert paragraph.encode() not in data, (path, paragraph[:40])
        assert f"Subscriber briefing {path.rsplit('/', 1)[-1]}".encode() not in data
        page = stored[f"http://{HOST}{path}"]
        assert page["text"] is None
        assert page["decisions"]["ai-input"]["allowed"] is False
        rules = " ".join(e["rule"] for e in page["evidence"] if e["signal"] == "paywall")
        assert REASONS[path] in rules and "whole page is read as walled" in rules


def test_located_parts_still_leave_the_free_text_usable(crawl: tuple[FixtureWeb, CrawlRun, Path]) -> None:
    _, run, db = crawl
    page = pages(run)[f"http://{HOST}/news/dredging-costs"]
    assert page["text"] and page["decisions"]["ai-input"]["allowed"] is True
    first_line = page["text"].splitlines()[0]
    assert first_line.encode() in ledger_bytes(db)  # the byte search can see stored text


def test_unreadable_licence_targets_are_warnings_not_a_lost_page(crawl: tuple[FixtureWeb, CrawlRun, Path]) -> None:
    """A ``Link`` header and a ``<link href>`` pointing at ``http://a]/...`` are skipped and noted; the valid
    licence beside them still decides, and the page is stored."""
    web, run, _ = crawl
    page = pages(run)[BROKEN_LINKS]
    assert page["text"] and page["decisions"]["ai-input"]["allowed"] is True
    warnings = page["metadata"]["signal_warnings"]
    assert len(warnings) == 2 and all("is not a URL; skipped" in w for w in warnings)
    assert any("http://a]/l.xml" in w for w in warnings) and any("https://a]/rsl.xml" in w for w in warnings)
    assert any(e["signal"] == "rsl" for e in page["evidence"])  # the valid licence was read
    assert {r.path for r in web.requests_for("rsl-link.example")} >= {"/bulletin/broken-links", "/terms/rsl.xml"}
    assert run.summary["errors"] in ({}, 0) or not any(run.summary["errors"].values())
