"""The license_grants table on both databases: rows in order, fingerprints only, crawls kept apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.ledger import Ledger
from crawler.ledger.licences import fingerprint, license_grants, record_grant


def _exercise(db_url: str) -> None:
    at = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    with Ledger(db_url) as ledger:
        for crawl in ("c1", "c2"):
            ledger.start_crawl(crawl, user_agent="fairfetch", purposes=["ai-input"], seeds=[], settings={})
        common = {"server": "https://lic.example", "resource": "https://a.example/articles/*",
                  "license_url": "https://a.example/license.xml", "license_xml": "<license/>"}
        first = record_grant(ledger, crawl_id="c1", at=at, outcome="granted", token="secret-token-1",
                             expires_at=at + timedelta(hours=1), **common)
        second = record_grant(ledger, crawl_id="c1", at=at + timedelta(seconds=1), outcome="failed",
                              error="server-error", detail="licence server answered HTTP 500", **common)
        record_grant(ledger, crawl_id="c2", at=at, outcome="denied", error="invalid_client", **common)
        with pytest.raises(ValueError, match="unknown licence grant outcome"):
            record_grant(ledger, crawl_id="c1", at=at, outcome="maybe", **common)
        rows = list(license_grants(ledger, "c1"))
        assert [r["id"] for r in rows] == [first, second]
        assert rows[0]["token_fingerprint"] == fingerprint("secret-token-1") != "secret-token-1"
        assert rows[0]["expires_at"].replace(tzinfo=UTC) == at + timedelta(hours=1)
        assert (rows[1]["outcome"], rows[1]["error"], rows[1]["token_fingerprint"]) == ("failed", "server-error", None)
        assert len(list(license_grants(ledger))) == 3
        assert "secret-token-1" not in repr(list(license_grants(ledger)))


def test_license_grants_on_sqlite(tmp_path: Path) -> None:
    _exercise(f"sqlite:///{tmp_path / 'grants.sqlite'}")
    assert b"secret-token-1" not in (tmp_path / "grants.sqlite").read_bytes()


@pytest.mark.services
def test_license_grants_on_postgresql(pg_url: str) -> None:
    _exercise(pg_url)
