"""The MCP server's ledger writes: the same rows a crawl writes, under one crawl per initiator.

A server run registers two ledger crawls, ``mcp-<id>-auto`` for fetches the
model made on its own and ``mcp-<id>-user`` for fetches the user asked for
(the ``fetch`` prompt), each on first use. So the fetch log, the signal
snapshots and the pages say who initiated them, as the User-Agent did.
"""

from __future__ import annotations

import threading
from typing import Any

from crawler import __version__
from crawler.ledger import DEFAULT_DB_URL, FetchRecord, Ledger, PageRecord
from crawler.ledger.records import Outcome, utc_now
from crawler.mcp.config import INITIATED_LABEL, Initiated, ServerConfig
from crawler.session import new_crawl_id


class Recorder:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.ledger = Ledger(config.db_url or DEFAULT_DB_URL)
        run = new_crawl_id()
        self.crawl_ids: dict[str, str] = {"agent": f"mcp-{run}-auto", "user": f"mcp-{run}-user"}
        self._started: set[str] = set()
        self._lock = threading.Lock()  # writes come from worker threads (see crawler.mcp.pipeline)

    def close(self) -> None:
        self.ledger.close()

    def crawl_id(self, initiated: Initiated) -> str:
        crawl_id = self.crawl_ids[initiated]
        with self._lock:
            if crawl_id not in self._started:
                self._start(initiated, crawl_id)
        return crawl_id

    def _start(self, initiated: Initiated, crawl_id: str) -> None:
        c = self.config
        g = c.grants
        self.ledger.start_crawl(
            crawl_id,
            user_agent=c.user_agent(initiated),
            purposes=[c.purpose.value],
            seeds=[],
            settings={
                "mode": "mcp",
                "initiated": INITIATED_LABEL[initiated],
                "version": __version__,
                "token": c.token,
                "max_price": None if g.max_price is None else f"{g.currency} {g.max_price}",
                "license_servers": sorted(g.license_tokens),  # never the tokens themselves
                "allow_private": c.allow_private,
            },
        )
        self._started.add(crawl_id)

    def signal(
        self, initiated: Initiated, *, origin: str, kind: str, url: str,
        status: int | None, body: bytes | None, error: str | None,
    ) -> int:
        return self.ledger.record_signal(
            crawl_id=self.crawl_id(initiated), origin=origin, kind=kind, url=url,
            status=status, body=body, error=error, fetched_at=utc_now(),
        )

    def fetch(self, initiated: Initiated, url: str, outcome: Outcome, reason: str, status: int | None) -> None:
        self.ledger.record_fetch(
            FetchRecord(crawl_id=self.crawl_id(initiated), url=url, at=utc_now(), outcome=outcome,
                        reason=reason[:500], status=status)
        )

    def page(self, record: PageRecord) -> None:
        self.ledger.record_page(record)

    def page_row(self, url: str) -> dict[str, Any] | None:
        return self.ledger.page(url)
