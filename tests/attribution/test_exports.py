"""Every export validated by the platform's own SDK types (openai, anthropic, google-genai).

The answer mixes a paywalled source (first in the list, so a wrong
``document_index`` would show), a Wikipedia article, a canonical page under
``max-snippet:60`` and emoji outside the Basic Multilingual Plane, so the
offset unit of each export is tested where it matters.
"""

from __future__ import annotations

from typing import Any

import pytest
from anthropic.types import (
    CitationCharLocation,
    CitationsSearchResultLocation,
    CitationsWebSearchResultLocation,
    TextBlock,
)
from google.genai.types import GroundingMetadata
from openai.types.chat import ChatCompletionMessage
from openai.types.responses import ResponseOutputText
from pydantic import TypeAdapter

from attribution import ShapedAnswer, Source, shape
from attribution.exports import search_results
from norms.model import Obligation, ObligationKind

PAD = " ".join(["Notes on opening times, tickets and access for visitors."] * 30)
SOURCES = [
    Source(url="https://paper.example/exclusive", text="The harbour bridge will close for repairs all next summer. " + PAD,
           source_class="canonical", decisions={"ai-input": False}),
    Source(url="https://en.wikipedia.org/wiki/Harbour_Bridge", title="Harbour Bridge 🌉", source_class="community",
           platform="wikipedia", text=PAD + "\n\nThe harbour bridge opened to traffic in 1932 after eight years of construction work.\n\n" + PAD),
    Source(url="https://www.city.example/bridge", title="Bridge tolls", source_class="canonical", publisher="City of Example",
           obligations=(Obligation(kind=ObligationKind.SNIPPET_LIMIT, limit=60),),
           text="Tolls. A crossing by car costs 4 dollars and bicycles cross for free at any time of day or night. " + PAD),
]  # fmt: skip
ANSWER = (
    "## The bridge 🌉\n\n"
    "The harbour bridge opened to traffic in 1932 after eight years of construction work 🚗.\n\n"
    "- A crossing by car costs 4 dollars and bicycles cross for free.\n"
    "- The harbour bridge will close for repairs all next summer.\n"
)


@pytest.fixture(scope="module")
def shaped() -> ShapedAnswer:
    r = shape(ANSWER, SOURCES, kind="primary_source")
    assert r.citations and r.dropped_sources
    return r


def test_openai_responses_url_citations_validate_and_index_code_points(shaped: ShapedAnswer) -> None:
    anns = shaped.to_openai_annotations()
    out = ResponseOutputText.model_validate({"type": "output_text", "text": shaped.text, "annotations": anns})
    for a in out.annotations:
        assert a.type == "url_citation"
        c = next(c for c in shaped.citations if (c.start, c.end, c.url) == (a.start_index, a.end_index, a.url))
        assert shaped.text[a.start_index : a.end_index] == c.text  # code points: the emoji counts 1


def test_openai_chat_completions_nest_url_citation(shaped: ShapedAnswer) -> None:
    anns = shaped.to_openai_chat_annotations()
    msg = ChatCompletionMessage.model_validate({"role": "assistant", "content": shaped.text, "annotations": anns})
    assert msg.annotations and all(a.type == "url_citation" for a in msg.annotations)
    for a in msg.annotations:
        assert shaped.text[a.url_citation.start_index : a.url_citation.end_index]


def test_anthropic_char_location_counts_only_documents_passed_on(shaped: ShapedAnswer) -> None:
    cites = shaped.to_anthropic_citations()
    assert cites
    passed = [s for s in SOURCES if s.allowed("ai-input")]
    assert shaped.passed_sources == [1, 2]
    for raw in cites:
        c = CitationCharLocation.model_validate(raw)
        doc = passed[c.document_index]  # the paywalled first source is not counted
        assert doc.text[c.start_char_index : c.end_char_index] == c.cited_text
        if doc.snippet_limit() is not None:
            assert len(c.cited_text) <= 60  # max-snippet holds for the export too
    blocks = [TextBlock.model_validate(b) for b in shaped.to_anthropic_content()]
    assert "".join(b.text for b in blocks) == shaped.text


def test_anthropic_search_result_location_points_at_paragraph_blocks(shaped: ShapedAnswer) -> None:
    results = search_results(shaped, SOURCES)
    assert [r["source"] for r in results] == [SOURCES[1].url, SOURCES[2].url]
    cites = shaped.to_anthropic_search_result_citations(SOURCES)
    assert cites
    for raw in cites:
        c = CitationsSearchResultLocation.model_validate(raw)
        content = results[c.search_result_index]["content"]
        cited = "".join(b["text"] for b in content[c.start_block_index : c.end_block_index])
        assert c.cited_text in cited


def test_anthropic_web_search_result_location(shaped: ShapedAnswer) -> None:
    cites = shaped.to_anthropic_web_search_citations()
    assert cites
    for raw in cites:
        c = CitationsWebSearchResultLocation.model_validate(raw)
        assert c.url in {s.url for s in SOURCES[1:]} and c.cited_text


def test_gemini_grounding_metadata_uses_utf8_byte_offsets(shaped: ShapedAnswer) -> None:
    raw: dict[str, Any] = shaped.to_gemini_grounding()
    meta = GroundingMetadata.model_validate(raw)
    assert meta.grounding_chunks and meta.grounding_supports
    data = shaped.text.encode("utf-8")
    for support in meta.grounding_supports:
        seg = support.segment
        assert seg is not None and seg.start_index is not None and seg.end_index is not None
        assert data[seg.start_index : seg.end_index].decode("utf-8") == seg.text
        for i in support.grounding_chunk_indices or []:
            web = meta.grounding_chunks[i].web
            assert web is not None and web.uri in {s.url for s in SOURCES[1:]}
    # The emoji before the first citation makes bytes and code points differ: the test means something.
    first = min(c.start for c in shaped.citations)
    assert len(shaped.text[:first].encode("utf-8")) > first


def test_exports_validate_as_lists_of_sdk_types(shaped: ShapedAnswer) -> None:
    TypeAdapter(list[CitationCharLocation]).validate_python(shaped.to_anthropic_citations())
    TypeAdapter(list[CitationsWebSearchResultLocation]).validate_python(shaped.to_anthropic_web_search_citations())
