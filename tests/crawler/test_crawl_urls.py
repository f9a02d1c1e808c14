"""End to end: other spellings of a disallowed URL never get a request or a stored byte.

One ``fairfetch crawl`` of ``dotted.example`` (fixtures/web/sites_urls.py): a
site with ``Disallow: /private/`` that links, redirects and lists in a
sitemap index URLs its server resolves to ``/private/...`` (dot segments,
``%2E%2E``, an empty segment, an upper-case host with ``:80``). Judged from the
fixture server's own request log and the ledger file's bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.web import FixtureWeb
from fixtures.web.sites_urls import HOST, PRIVATE, SECRET, resolve
from norms.urls import normalize_url
from tests.crawler.crawlrun import CrawlRun, run_crawl

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FixtureWeb, CrawlRun, Path]]:
    db = Path(tmp_path_factory.mktemp("urls")) / "ledger.sqlite"
    with FixtureWeb(bench_hosts=0, bench_pages_per_host=0, hang_seconds=5) as web:
        # The seed itself is spelt oddly too: it is normalised before anything is decided.
        run = run_crawl(web, ["HTTP://Dotted.Example:80/public/../"], f"sqlite:///{db}", "--depth", "3")
        assert run.returncode == 0, run.stderr[-3000:]
        yield web, run, db


def test_no_spelling_of_a_private_path_is_requested(crawl: tuple[FixtureWeb, CrawlRun, Path]) -> None:
    web, _, _ = crawl
    requested = [r.path for r in web.requests_for(HOST)]
    assert "/robots.txt" in requested and "/" in requested
    # As the server resolves them (what it would have served): nothing under /private/.
    assert [p for p in requested if resolve(p.partition("?")[0]).startswith("/private/")] == []
    # And every request went out in normal form: no dot segment, no escaped dot, no doubled slash.
    for path in requested:
        assert normalize_url(f"http://{HOST}{path}") == f"http://{HOST}{path}", path
    # The redirect was answered, its target never requested; the sitemap index was read, its private child not.
    assert "/go/private" in requested
    assert "/sitemap.xml" in requested and "/private/sitemap.xml" not in requested


def test_permitted_pages_are_fetched_and_stored(crawl: tuple[FixtureWeb, CrawlRun, Path]) -> None:
    web, run, _ = crawl
    pages = _pages(run)
    for path in web.site(HOST).expected["stored_paths"]:
        page = pages.get(f"http://{HOST}{path}")
        assert page is not None and page["text"], path


def test_nothing_private_is_stored_and_every_refusal_is_logged(crawl: tuple[FixtureWeb, CrawlRun, Path]) -> None:
    _, run, db = crawl
    assert SECRET.encode() not in db.read_bytes()
    pages = _pages(run)
    assert not [u for u in pages if "/private/" in u]
    # Stored URLs and outlinks are in normal form.
    for url, page in pages.items():
        assert normalize_url(url) == url
        assert all(normalize_url(link) == link for link in page["metadata"]["links"])
    refused = {r["url"] for r in run.ledger().fetch_log(run.summary["crawl_id"]) if r["outcome"] == "refused"}
    # Each sneaky link and the redirect target are refused under their normal form, with robots.txt as the reason.
    for path in PRIVATE:
        if path != "/private/e":  # "//private/e" is refused as written (the collapsed form is what robots.txt denies)
            assert f"http://{HOST}{path}" in refused, path
    assert f"http://{HOST}//private/e" in refused
    assert run.summary["refused_by_reason"].get("robots.txt", 0) >= len(PRIVATE)


def _pages(run: CrawlRun) -> dict[str, dict[str, Any]]:
    return {p["url"]: p for p in run.ledger().export(crawl_id=run.summary["crawl_id"])}
