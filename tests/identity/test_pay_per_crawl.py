"""Pay Per Crawl done as the service specifies it, judged from the fixture server's log and the ledger.

pay.example behaves like Cloudflare: a 402 quotes ``crawler-price``; a price
header is honoured only when a Web Bot Auth signature covers it (400
``StrongAuthRequired`` otherwise); a paid 200 carries ``crawler-charged``.
"""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from fixtures.identity import TEST_KEY_ID, TEST_KEY_X
from fixtures.identity.verifier import public_key_from_jwk, verify
from fixtures.web import FixtureWeb
from tests.crawler.crawlrun import FAIRFETCH, CrawlRun, run_crawl

HOST = "pay.example"
ARTICLES = ["/articles/comet-season", "/articles/dark-skies"]
PRICES = ("crawler-max-price", "crawler-exact-price")




def paid_crawl(web: FixtureWeb, tmp_path: Path, key_file: str, *options: str) -> CrawlRun:
    web.reset_log()
    run = run_crawl(web, [f"http://{HOST}/"], f"sqlite:///{tmp_path / 'pay.sqlite'}", "--concurrency", "1",
                    "--signing-key", key_file, "--signature-agent", "https://bot.example", *options)
    assert run.returncode == 0, run.stderr[-2000:]
    keys = {TEST_KEY_ID: public_key_from_jwk({"x": TEST_KEY_X})}
    for record in web.requests_for(HOST):
        offered = [h for h in PRICES if h in record.headers]
        assert len(offered) <= 1, record  # never both
        if offered:
            verdict = verify({"method": record.method, "authority": record.host, "path": record.path,
                              "headers": record.headers}, keys)
            assert verdict.ok and f'"{offered[0]}"' in verdict.covered, verdict.reason
    return run


def sent(web: FixtureWeb, path: str) -> list[tuple[int, str | None]]:
    """(status, price header sent) of every request to ``path``, in order."""
    return [(r.status, next((f"{h}: {r.headers[h]}" for h in PRICES if h in r.headers), None))
            for r in sorted(web.requests_for(HOST), key=lambda r: r.time) if r.path == path]


@pytest.mark.slow
def test_402_then_a_signed_exact_price_then_the_ceiling_up_front(web: FixtureWeb, tmp_path: Path, key_file: str) -> None:
    run = paid_crawl(web, tmp_path, key_file, "--max-price", "USD 0.05")
    # One request at a time: the first article met is quoted, then re-requested with exactly the
    # quote (reactive); the origin has charged, so the other gets the ceiling up front (proactive).
    assert sorted(sent(web, path) for path in ARTICLES) == [
        [(200, "crawler-max-price: USD 0.05")],
        [(402, None), (200, "crawler-exact-price: USD 0.01")],
    ]
    ledger = run.ledger()
    for path in ARTICLES:
        page = ledger.page(f"http://{HOST}{path}")
        assert page is not None and page["text"]
        assert [o["amount"] for o in page["obligations"] if o["kind"] == "payment"] == ["0.01"]
    assert run.summary["spent"] == {"USD": "0.02"}
    assert run.summary["spent_by_origin"] == {f"http://{HOST}": "0.02"}
    members = [r for r in ledger.fetch_log() if r["url"].endswith("/members/archive")]
    assert [r["outcome"] for r in members] == ["refused"]
    assert "crawler-error CrawlerForbidden: the publisher does not admit this crawler" in members[0]["reason"]

    out = subprocess.run([str(FAIRFETCH), "ledger", "spend", "--db", run.db_url, "--json"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    spend = json.loads(out.stdout)
    assert spend["total"] == {"USD": "0.02"}
    (row,) = spend["rows"]
    assert row["origin"] == f"http://{HOST}" and row["charges"] == 2 and Decimal(row["amount"]) == Decimal("0.02")
    table = subprocess.run([str(FAIRFETCH), "ledger", "spend", "--db", run.db_url],
                           capture_output=True, text=True, timeout=60, check=False,
                           env={**os.environ, "COLUMNS": "200"})
    assert "USD 0.02" in table.stdout and f"http://{HOST}" in table.stdout


@pytest.mark.slow
def test_a_budget_stops_paying_and_says_so(web: FixtureWeb, tmp_path: Path, key_file: str) -> None:
    run = paid_crawl(web, tmp_path, key_file, "--max-price", "USD 0.05", "--budget", "USD 0.01")
    paid, unpaid = sorted(ARTICLES, key=lambda path: len(sent(web, path)), reverse=True)
    assert sent(web, paid) == [(402, None), (200, "crawler-exact-price: USD 0.01")]
    assert sent(web, unpaid) == [(402, None)]  # nothing offered: the budget is spent
    assert run.summary["spent"] == {"USD": "0.01"}
    assert run.summary["refused_by_reason"].get("budget") == 1
    (row,) = [r for r in run.ledger().fetch_log() if r["url"].endswith(unpaid)]
    assert row["outcome"] == "refused" and "budget USD 0.01" in row["reason"]


@pytest.mark.slow
def test_a_quote_above_the_ceiling_is_not_paid(web: FixtureWeb, tmp_path: Path, key_file: str) -> None:
    run = paid_crawl(web, tmp_path, key_file, "--max-price", "USD 0.001")
    for path in ARTICLES:
        assert sent(web, path) == [(402, None)]
    assert not run.summary.get("spent")
    reasons = [r["reason"] for r in run.ledger().fetch_log() if "/articles/" in r["url"]]
    assert reasons and all("above the ceiling USD 0.001" in r for r in reasons)
