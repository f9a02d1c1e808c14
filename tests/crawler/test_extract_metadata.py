"""The ledger's metadata fields, read by ``crawler.extract_metadata`` instead of ``bare_extraction(with_metadata=True)``.

Evidence that nothing the ledger keeps changed on real pages (the corpus news
pages and the fixture pages), that dates come from the markup and no longer
from free text, and that the crawler's tree is read, not changed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from trafilatura.metadata import extract_metadata
from trafilatura.settings import set_date_params

from crawler.extract import extract
from crawler.extract_metadata import page_metadata
from fixtures.web.bench import _page, bench_host, page_path
from norms.html import parse_html

REPO = Path(__file__).resolve().parents[2]
REAL = sorted((REPO / "fixtures" / "corpus" / "html").glob("*.html")) + sorted((REPO / "fixtures" / "pages").glob("*.html"))


def test_there_are_real_pages() -> None:
    assert len(REAL) >= 15


@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_fields_are_trafilaturas_on_real_pages(path: Path) -> None:
    """Same title, author, date, site name and description as trafilatura's own metadata step
    (with its date search limited to the markup), read from the crawler's parse instead of trafilatura's."""
    html = path.read_text(encoding="utf-8", errors="replace")
    url = f"https://corpus.example/{path.name}"
    reference = extract_metadata(html, url, date_config=set_date_params(False))
    got = page_metadata(parse_html(html).root, url)
    assert (got.title, got.author, got.date, got.site_name, got.description) == (
        reference.title or None, reference.author or None, reference.date or None,
        reference.sitename or None, reference.description or None)


def test_news_pages_keep_their_dates_authors_and_titles() -> None:
    """The corpus's news pages date themselves in their markup: every one still has a date and a title."""
    news = [p for p in REAL if p.parent.name == "html"]
    found = [extract(p.read_bytes(), f"https://corpus.example/{p.name}") for p in news]
    assert all(f.date and f.date.startswith(("2018-", "2019-")) for f in found), [f.date for f in found]
    assert all(f.title for f in found)
    assert sum(1 for f in found if f.author) >= len(found) // 2


DATED = [
    '<meta property="article:published_time" content="2025-03-04T10:00:00Z">',
    '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2025-03-04"}</script>',
]


@pytest.mark.parametrize("head", DATED)
def test_a_date_in_the_markup_is_read(head: str) -> None:
    html = (f"<html><head><title>Story</title>{head}</head><body><article><p>"
            + "Words of a story. " * 40 + "</p></article><footer>&copy; 2026 Example</footer></body></html>")
    assert extract(html, "https://news.example/story").date == "2025-03-04"


def test_a_time_element_dates_the_page() -> None:
    html = ('<html><head><title>Story</title></head><body><article><time datetime="2025-03-04">4 March</time><p>'
            + "Words of a story. " * 40 + "</p></article></body></html>")
    assert extract(html, "https://news.example/story").date == "2025-03-04"


def test_a_copyright_year_is_no_publication_date() -> None:
    """The extensive free-text search dated every bench page 2026-01-01 from its ``© 2026`` footer."""
    url = f"http://{bench_host(3)}{page_path(7)}"
    found = extract(_page(3, 7, 20, 100).body, url)
    assert b"&copy; 2026" in _page(3, 7, 20, 100).body
    assert found.date is None
    assert found.title and found.text


def test_the_crawlers_tree_is_not_changed() -> None:
    """The same tree goes on to classification (crawler.extract_pool.page_work): metadata must only read it."""
    html = (REAL[0]).read_text(encoding="utf-8", errors="replace")
    doc = parse_html(html)
    before = etree.tostring(doc.root)
    page_metadata(doc.root, "https://corpus.example/a")
    assert etree.tostring(doc.root) == before


def test_metadata_of_a_page_trafilatura_rejects() -> None:
    """A page too short for a main text still has its title and date (bare_extraction returned nothing at all)."""
    html = ('<html><head><title>Opening hours | Town Hall</title>'
            '<meta property="article:published_time" content="2025-01-02"></head>'
            "<body><p>Open 9-5.</p></body></html>")
    found = extract(html, "https://town.example/hours")
    assert found.text == "Open 9-5."
    assert found.date == "2025-01-02"
    assert found.title
