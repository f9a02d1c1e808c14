"""Extraction's fast path: trafilatura without its fallback extractors keeps the text of real pages.

``crawler.extract`` runs trafilatura with ``fast=True`` (a fifth of the time);
this is the evidence that the text does not change on the real-world corpus
pages and the fixture web's bench pages, and that handing in the crawler's
parsed page changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trafilatura
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crawler.extract import extract
from fixtures.web.bench import _page, bench_host, page_path
from norms.html import parse_html
from tests.norms.totality import FIXTURES, mutated, read, replace_attribute, replace_text

REPO = Path(__file__).resolve().parents[2]
CORPUS = sorted((REPO / "fixtures" / "corpus" / "html").glob("*.html"))
BENCH = [(f"http://{bench_host(h)}{page_path(p)}", _page(h, p, 20, 100).body) for h, p in [(0, 0), (3, 7), (19, 99)]]
PAGES = [(f"https://corpus.example/{f.name}", f.read_bytes()) for f in CORPUS] + BENCH


def _full_cascade_text(html: bytes, url: str) -> str | None:
    found = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, favor_precision=True, fast=False
    )
    text = getattr(found, "text", None)
    return None if text is None else str(text)


def test_the_corpus_is_there() -> None:
    assert len(CORPUS) >= 10


@pytest.mark.parametrize(("url", "html"), PAGES, ids=[u.rsplit("/", 1)[1] or u for u, _ in PAGES])
def test_fast_extraction_keeps_the_text(url: str, html: bytes) -> None:
    full = _full_cascade_text(html, url)
    got = extract(html, url).text
    if full is None:
        return  # trafilatura rejects the page either way; extract's own fallback answers
    expected = "\n\n".join(part.strip() for part in full.split("\n\n")).strip()
    assert got is not None
    assert " ".join(got.split()) == " ".join(expected.split())


@pytest.mark.parametrize(("url", "html"), PAGES[:4] + BENCH[:1])
def test_a_shared_parse_changes_nothing(url: str, html: bytes) -> None:
    assert extract(html, url, doc=parse_html(html)) == extract(html, url)


def test_fallback_text_survives_control_characters_next_to_dropped_scripts() -> None:
    """lxml parses U+001F in text but refuses to set it again: dropping a <script> beside it used to raise."""
    from crawler.extract import _fallback_text

    text = _fallback_text(parse_html("<html><body><p>Hi</p>\x1f<script>x</script>\x1fafter</body></html>"))
    assert text is not None and "Hi" in text and "after" in text and "x" not in text.replace("\ufffd", "")


PAGES_FOR_TOTALITY = [read(f"pages/{p.name}") for p in sorted((FIXTURES / "pages").glob("*.html"))]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html=mutated(PAGES_FOR_TOTALITY, replace_attribute) | mutated(PAGES_FOR_TOTALITY, replace_text),
       excluded=st.lists(st.sampled_from([".premium-body", ".paid", "div[class=", "", "::", "p"]), max_size=2))
@example(html='<html><head><link rel="canonical" href="http://a]/x"></head><body><p>t</p></body></html>',
         excluded=[])
def test_extract_is_total_on_near_valid_pages(html: str, excluded: list[str]) -> None:
    """The spider calls extract on every permitted page without a guard: it must always answer."""
    found = extract(html, "https://news.example/story", exclude_selectors=tuple(excluded))
    assert found.text is None or isinstance(found.text, str)
