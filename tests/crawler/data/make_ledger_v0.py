"""Writes ``ledger_v0_rows.json``: every row of a small ledger written by fairfetch main@f4ad9a2.

Run once with that commit's code (``cd <checkout of f4ad9a2> && .venv/bin/python
<this file> OUT.json``); the upgrade test loads the rows into the old schema
(``ledger_v0_*.sql``) and checks that ``fairfetch ledger upgrade`` keeps all of them.
Texts in several languages and scripts, a signal body with bytes that are not UTF-8.
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from crawler.ledger import FetchRecord, Ledger, PageRecord

TEXTS = {
    "http://news.example/story": "A newly catalogued ledger suggests that William brought fourteen thousand men.",
    "http://zeitung.example/artikel": "Die Stadtverwaltung hat am Montag den Haushalt für 2027 beschlossen — mit Mehrheit.",
    "http://shinbun.example/kiji": "東京都は月曜日、二〇二七年度の予算案を発表した。",
    "http://akhbar.example/maqal": "أعلنت البلدية يوم الاثنين عن ميزانية العام المقبل.",
}


def main(out: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'old.sqlite'}"
        ledger = Ledger(db)
        at = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
        ledger.start_crawl("crawl-v0", user_agent="fairfetch/0.1 (+https://example.org/bot)",
                           purposes=["ai-input"], seeds=list(TEXTS), settings={"token": "fairfetch", "depth": 3})
        ids = []
        for url in TEXTS:
            origin = url.rsplit("/", 1)[0]
            ids.append(ledger.record_signal(crawl_id="crawl-v0", origin=origin, kind="robots.txt",
                                            url=f"{origin}/robots.txt", status=200,
                                            body=b"User-agent: *\nAllow: /\n# \xff not utf-8\n",
                                            error=None, fetched_at=at))
        ledger.record_signal(crawl_id="crawl-v0", origin="http://news.example", kind="tdmrep",
                             url="http://news.example/.well-known/tdmrep.json", status=None, body=None,
                             error="timeout: took longer than 10 s", fetched_at=at)
        pages = []
        for n, (url, text) in enumerate(TEXTS.items()):
            pages.append(PageRecord(
                url=url, crawl_id="crawl-v0", fetched_at=at, status=200, content_hash=f"{n:064x}",
                text=text, metadata={"title": text[:20], "links": list(TEXTS)},
                decisions={"ai-input": {"allowed": True, "reasons": ["robots.txt allows"], "obligations": []}},
                evidence=[{"signal": "robots.txt", "source": url, "raw": "Allow: /", "line": 2}],
                obligations=[], signal_ids=[ids[n]], source_class="canonical",
                user_agent="fairfetch/0.1 (+https://example.org/bot)", purposes=["ai-input"],
                fetch=FetchRecord(crawl_id="crawl-v0", url=url, at=at, outcome="fetched", reason="ok", status=200),
            ))
        ledger.record_pages(pages)
        ledger.record_fetch(FetchRecord(crawl_id="crawl-v0", url="http://news.example/private", at=at,
                                        outcome="refused", reason="robots.txt disallow", status=None))
        ledger.set_host_class("news.example", "canonical", None, [{"signal": "markup", "detail": "NewsArticle"}])
        ledger.finish_crawl("crawl-v0", {"fetched": 4, "stored": 4})
        rows = {}
        with ledger.engine.connect() as conn:
            meta = sa.MetaData()
            meta.reflect(conn)
            for name, table in meta.tables.items():
                found = []
                for row in conn.execute(sa.select(table)).mappings():
                    item = {}
                    for key, value in row.items():
                        if isinstance(value, bytes):
                            value = {"base64": base64.b64encode(value).decode()}
                        elif isinstance(value, datetime):
                            value = {"datetime": value.isoformat()}
                        item[key] = value
                    found.append(item)
                rows[name] = found
        ledger.close()
    Path(out).write_text(json.dumps(rows, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
