"""A re-crawl of unchanged pages against the first crawl of the same pages: requests, bytes and time.

``recrawl.example`` (fixtures.web.mutable) serves ``PAGES`` generated pages
with ETag and Last-Modified, each linking to the next few. ``fairfetch crawl``
runs twice on the same ledger with nothing changed in between. Measured from
the fixture server's request log: requests per run, and body bytes sent
(a 200 sends the file, a 304 nothing). Asserted: the re-crawl sends the
same number of page requests (it still asks every page: page-level signals
can change without the text), every page answer is a 304, and the body
bytes drop to zero, and the re-crawl is not slower than the first crawl
(AutoThrottle lowers its delay on 304s as on 200s, ``OriginThrottle``; before
that it took 3x as long).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from fixtures.web import FixtureWeb
from fixtures.web.mutable import MUTABLE_HOST
from tests.crawler.crawlrun import run_crawl

PAGES = 150
LINKS = 4
PARAGRAPH = ("The harbour commission met on Tuesday to review the dredging budget, the state of the "
             "northern quay and the timetable for the new ferry service. ")


def _write_pages(root: Path) -> None:
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    for n in range(PAGES):
        links = "".join(f'<a href="/p{(n + k) % PAGES}.html">next {k}</a> ' for k in range(1, LINKS + 1))
        body = f"<p>Page {n}. {PARAGRAPH * 12}</p>"
        html = (f"<!doctype html><html lang=en><head><title>Harbour notes {n}</title></head>"
                f"<body><article><h1>Harbour notes {n}</h1>{body}</article><nav>{links}</nav></body></html>")
        name = "index.html" if n == 0 else f"p{n}.html"
        (root / name).write_text(html, encoding="utf-8")
    (root / "p0.html").write_text((root / "index.html").read_text(encoding="utf-8"), encoding="utf-8")


def _sizes(root: Path) -> dict[str, int]:
    out = {"/": (root / "index.html").stat().st_size}
    for path in root.iterdir():
        out[f"/{path.name}"] = path.stat().st_size
    return out


@pytest.mark.bench
def test_recrawl_of_unchanged_pages(tmp_path: Path, benchmark: BenchmarkFixture) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _write_pages(site)
    sizes = _sizes(site)
    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    options = ("--depth", "0", "--concurrency", "16")
    figures: dict[str, dict[str, float]] = {}
    with FixtureWeb(mutable_dir=site) as web:
        for name in ("first", "recrawl"):
            web.reset_log()
            started = time.monotonic()
            run = run_crawl(web, [f"http://{MUTABLE_HOST}/"], db, *options, timeout=600)
            seconds = time.monotonic() - started
            assert run.returncode == 0, run.stderr[-2000:]
            log = [r for r in web.requests() if r.host == MUTABLE_HOST]
            pages = [r for r in log if r.path.endswith(".html") or r.path == "/"]
            figures[name] = {
                "requests": len(log),
                "page_requests": len(pages),
                "page_200": sum(1 for r in pages if r.status == 200),
                "page_304": sum(1 for r in pages if r.status == 304),
                "body_bytes": sum(sizes.get(r.path, 0) for r in log if r.status == 200),
                "seconds": round(seconds, 2),
            }
    first, again = figures["first"], figures["recrawl"]
    assert first["page_requests"] == again["page_requests"] == PAGES + 1  # "/" and p0..p149
    assert again["page_304"] == again["page_requests"] and again["page_200"] == 0
    assert again["body_bytes"] < first["body_bytes"] / 100  # robots.txt only
    ratio = {
        "requests": again["requests"] / first["requests"],
        "body_bytes": again["body_bytes"] / first["body_bytes"],
        "seconds": again["seconds"] / first["seconds"],
    }
    assert ratio["seconds"] < 1.0, ratio
    benchmark.extra_info.update({"first": first, "recrawl": again, "ratio": ratio})
    print(f"\nre-crawl of {PAGES + 1} unchanged pages: first {first}\n  recrawl {again}\n  ratio {ratio}")
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
