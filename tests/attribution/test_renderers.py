"""Renderers and exports: Markdown, escaped HTML, JSON, OpenAI and Anthropic citation shapes."""

from __future__ import annotations

import json

from attribution import ShapedAnswer, Source, shape
from tests.attribution.cases import load_case

EVIL = Source(
    url="https://evil.example/<script>?a=1&b=2",
    title='<img src=x onerror="alert(1)"> & [link](javascript:alert(1))',
    text="Harold's army <b>formed</b> a shield wall on the ridge & held it until evening.",
    source_class="canonical",
    publisher="<Evil & Co>",
)
ANSWER = "Harold's army <b>formed</b> a shield wall on the ridge & held it until evening."


def shaped(case: str) -> ShapedAnswer:
    c = load_case(case)
    return shape(c["answer"], c["sources"], query=c.get("query"), kind=c.get("kind"), policy=c["policy"])


def test_html_escapes_every_piece_of_text_and_url() -> None:
    html = shape(ANSWER, [EVIL], kind="primary_source").to_html()
    assert "<script>" not in html and "<b>" not in html and "<img" not in html
    assert "&lt;b&gt;formed&lt;/b&gt;" in html and "&lt;Evil &amp; Co&gt;" in html
    assert 'href="https://evil.example/&lt;script&gt;?a=1&amp;b=2"' in html
    assert html.startswith('<div class="ff-answer"><p>') and html.endswith("</ol></div>")


def test_non_http_urls_are_never_made_into_links() -> None:
    src = Source(url="javascript:alert(1)", title="x", text=ANSWER, source_class="canonical", publisher="X")
    r = shape(ANSWER, [src], kind="primary_source")
    assert r.citations
    assert 'href="javascript' not in r.to_html()
    assert "](javascript" not in r.to_markdown()


def test_markdown_escapes_titles_and_lists_sources() -> None:
    md = shape(ANSWER, [EVIL], kind="primary_source").to_markdown()
    assert "\\[link\\]\\(javascript:alert\\(1\\)\\)" in md
    assert "\nSources:\n1. [" in md


def test_openai_annotations_have_the_url_citation_shape() -> None:
    r = shaped("hastings_primary_source")
    anns = r.to_openai_annotations()
    assert anns and all(set(a) == {"type", "start_index", "end_index", "url", "title"} for a in anns)
    assert all(a["type"] == "url_citation" for a in anns)
    for a in anns:
        assert r.text[a["start_index"] : a["end_index"]]
    assert len({(a["start_index"], a["end_index"], a["url"]) for a in anns}) == len(anns)


def test_anthropic_citations_have_the_char_location_shape() -> None:
    r = shaped("hastings_contested")
    cites = r.to_anthropic_citations()
    keys = {"type", "cited_text", "document_index", "document_title", "start_char_index", "end_char_index"}
    assert cites and all(set(c) == keys and c["type"] == "char_location" for c in cites)
    sources = load_case("hastings_contested")["sources"]
    for c in cites:
        text = sources[c["document_index"]].text
        assert text[c["start_char_index"] : c["end_char_index"]] == c["cited_text"]
    blocks = r.to_anthropic_content()
    assert "".join(b["text"] for b in blocks) == r.text
    assert any("citations" in b for b in blocks)


def test_json_round_trips() -> None:
    r = shaped("paywalled_source_dropped")
    again = ShapedAnswer.model_validate_json(r.to_json())
    assert again == r
    data = json.loads(r.to_json())
    assert data["dropped_sources"][0]["reasons"][0].startswith("paywall")


def test_usage_reports_verbatim_measures() -> None:
    r = shaped("github_snippet")
    (usage,) = r.usage
    assert usage.quotes == 1 and usage.longest_run_words >= 8
    assert 0 < usage.reproduced_share <= 0.25 and 0 < usage.copied_share < 1
