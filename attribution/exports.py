"""A shaped answer's citations in the shapes AI platforms already return.

Offset units, per export:

* OpenAI Responses ``url_citation`` (``start_index``/``end_index``) and Chat
  Completions (the same fields nested under ``url_citation``): Python string
  indices, i.e. Unicode code points, end exclusive. OpenAI does not document
  the unit; code points are what its Python SDK's strings index by.
* Anthropic ``char_location`` (``start_char_index``/``end_char_index``):
  code points into the *source document*, end exclusive; ``document_index``
  counts only the documents actually passed on (sources whose ai-input is
  denied are never passed to a model), in the order given to ``shape``.
* Anthropic ``search_result_location``: ``search_result_index`` counts the
  passed-on sources; each source is one search result whose content blocks
  are its paragraphs (``search_results``), and the citation spans the blocks
  ``[start_block_index, end_block_index)`` its passage touches.
* Anthropic ``web_search_result_location``: the URL, title and passage;
  ``encrypted_index`` is Anthropic's own opaque value and is empty here.
* Gemini ``grounding_metadata``: ``segment.start_index``/``end_index`` are
  UTF-8 byte offsets into the answer text (so an emoji counts 4), end
  exclusive; ``grounding_chunk_indices`` index ``grounding_chunks``.

Every passage (``cited_text``) is already within the publisher's
``max-snippet`` and the class's quote limit (``attribution.result``).
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Any

from norms.domains import registrable_domain

if TYPE_CHECKING:
    from attribution.answer import Citation, ShapedAnswer
    from attribution.sources import Source


def openai_annotations(answer: ShapedAnswer) -> list[dict[str, Any]]:
    seen: set[tuple[int, int, str]] = set()
    out: list[dict[str, Any]] = []
    for c in answer.citations:
        key = (c.start, c.end, c.url)
        if key in seen:
            continue
        seen.add(key)
        out.append(
            {"type": "url_citation", "start_index": c.start, "end_index": c.end, "url": c.url, "title": c.title or c.url}
        )
    return out


def openai_chat_annotations(answer: ShapedAnswer) -> list[dict[str, Any]]:
    return [
        {"type": "url_citation", "url_citation": {k: v for k, v in a.items() if k != "type"}}
        for a in openai_annotations(answer)
    ]


def _document_index(answer: ShapedAnswer, source_index: int) -> int:
    passed = answer.passed_sources
    if passed is None:
        return source_index
    return passed.index(source_index)


def _located(answer: ShapedAnswer) -> list[Citation]:
    """Citations with a passage, one per (source, passage)."""
    seen: set[tuple[int, int, int]] = set()
    out = []
    for c in answer.citations:
        if c.source_start is None or c.source_end is None or not c.cited_text:
            continue
        key = (c.source_index, c.source_start, c.source_end)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _char_location(answer: ShapedAnswer, c: Citation) -> dict[str, Any]:
    return {
        "type": "char_location",
        "cited_text": c.cited_text,
        "document_index": _document_index(answer, c.source_index),
        "document_title": c.title,
        "start_char_index": c.source_start,
        "end_char_index": c.source_end,
    }


def anthropic_char_locations(answer: ShapedAnswer) -> list[dict[str, Any]]:
    return [_char_location(answer, c) for c in _located(answer)]


def anthropic_content(answer: ShapedAnswer) -> list[dict[str, Any]]:
    cuts = {0, len(answer.text)}
    for c in answer.citations:
        cuts.update((c.start, c.end))
    blocks: list[dict[str, Any]] = []
    for a, b in itertools.pairwise(sorted(cuts)):
        if a == b:
            continue
        block: dict[str, Any] = {"type": "text", "text": answer.text[a:b]}
        cites = [
            _char_location(answer, c)
            for c in answer.citations
            if c.start <= a and b <= c.end and c.cited_text
        ]
        if cites:
            block["citations"] = cites
        blocks.append(block)
    return blocks


_PARAGRAPHS = re.compile(r"\n\s*\n")


def paragraph_blocks(text: str) -> list[tuple[int, int]]:
    """Character spans of a source's paragraphs: its content blocks as a search result."""
    spans = []
    pos = 0
    for m in _PARAGRAPHS.finditer(text):
        if text[pos : m.start()].strip():
            spans.append((pos, m.start()))
        pos = m.end()
    if text[pos:].strip() or not spans:
        spans.append((pos, len(text)))
    return spans


def search_results(answer: ShapedAnswer, sources: list[Source]) -> list[dict[str, Any]]:
    """The ``search_result`` blocks to pass to Claude so that the citations below line up."""
    passed = answer.passed_sources if answer.passed_sources is not None else list(range(len(sources)))
    out = []
    for i in passed:
        src = sources[i]
        out.append(
            {
                "type": "search_result",
                "source": src.url,
                "title": src.title or src.url,
                "content": [{"type": "text", "text": src.text[a:b]} for a, b in paragraph_blocks(src.text)],
                "citations": {"enabled": True},
            }
        )
    return out


def anthropic_search_result_locations(answer: ShapedAnswer, sources: list[Source] | None = None) -> list[dict[str, Any]]:
    out = []
    for c in _located(answer):
        assert c.source_start is not None and c.source_end is not None
        text = sources[c.source_index].text if sources else None
        first, last = 0, 1
        if text is not None:
            blocks = paragraph_blocks(text)
            touched = [k for k, (a, b) in enumerate(blocks) if a < c.source_end and c.source_start < b]
            if touched:
                first, last = touched[0], touched[-1] + 1
        out.append(
            {
                "type": "search_result_location",
                "cited_text": c.cited_text,
                "search_result_index": _document_index(answer, c.source_index),
                "source": c.url,
                "title": c.title,
                "start_block_index": first,
                "end_block_index": last,
            }
        )
    return out


def anthropic_web_search_locations(answer: ShapedAnswer) -> list[dict[str, Any]]:
    return [
        {"type": "web_search_result_location", "url": c.url, "title": c.title, "encrypted_index": "", "cited_text": c.cited_text}
        for c in _located(answer)
    ]


def gemini_grounding(answer: ShapedAnswer) -> dict[str, Any]:
    chunks: list[dict[str, Any]] = []
    chunk_of: dict[int, int] = {}
    for c in sorted(answer.citations, key=lambda c: c.number):
        if c.number not in chunk_of:
            chunk_of[c.number] = len(chunks)
            web = {"uri": c.url, "title": c.title or c.url, "domain": registrable_domain(c.url) or None}
            chunks.append({"web": {k: v for k, v in web.items() if v is not None}})
    spans: dict[tuple[int, int], list[int]] = {}
    for c in answer.citations:
        group = spans.setdefault((c.start, c.end), [])
        if chunk_of[c.number] not in group:
            group.append(chunk_of[c.number])
    supports = []
    text = answer.text
    for (a, b), indices in sorted(spans.items()):
        start = len(text[:a].encode("utf-8"))
        end = start + len(text[a:b].encode("utf-8"))
        supports.append(
            {"segment": {"start_index": start, "end_index": end, "text": text[a:b]}, "grounding_chunk_indices": indices}
        )
    return {"grounding_chunks": chunks, "grounding_supports": supports}
