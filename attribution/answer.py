"""The result of shaping: text, citations with exact offsets, every change made, and renderers.

Offsets are Python string indices (Unicode code points) into ``text``, end
exclusive. Each export documents its own unit (``attribution.exports``):
Gemini's are UTF-8 bytes, the others code points.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from attribution.kinds import QueryKind

ActionKind = Literal[
    "drop_source",
    "remove_sentence",
    "flag_sentence",
    "trim_quote",
    "remove_quote",
    "attribute",
    "common_knowledge",
    "note_last_update",
    "point_to_source",
    "summarise_contested",
    "limit_long_form",
    "unsupported",
    "query_kind",
]


class Citation(BaseModel):
    """One span of the shaped answer and the source that supports it.

    ``text`` is ``ShapedAnswer.text[start:end]``; ``cited_text`` is
    ``source.text[source_start:source_end]`` (the matching region of the
    source) when the support was located. ``role`` says why the span is
    cited: ``support`` (a claim backed by the source), ``quote`` (verbatim
    words kept within the limits) or ``pointer`` (a "read more at" reference
    the shaper added). ``number`` is the source's reference number in this
    answer (1-based, by first appearance).
    """

    model_config = ConfigDict(frozen=True)

    number: int
    url: str
    title: str | None = None
    source_class: str = "unknown"
    platform: str | None = None
    source_index: int
    role: Literal["support", "quote", "pointer"] = "support"
    start: int
    end: int
    text: str
    source_start: int | None = None
    source_end: int | None = None
    cited_text: str | None = None
    permalink: str | None = None
    edit_history_url: str | None = None
    discussion_url: str | None = None
    last_updated: str | None = None
    license: str | None = None
    license_url: str | None = None
    attribution: str | None = None


class Action(BaseModel):
    """One change the shaper made (or deliberately did not make), in plain words.

    ``span`` is the affected character span in the *input* answer (removed
    text no longer exists in the output), or ``None`` for answer-wide actions.
    """

    model_config = ConfigDict(frozen=True)

    kind: ActionKind
    detail: str
    source_url: str | None = None
    span: tuple[int, int] | None = None


class DroppedSource(BaseModel):
    """A source that was not used at all, and the publisher's reasons."""

    model_config = ConfigDict(frozen=True)

    url: str
    title: str | None = None
    reasons: tuple[str, ...] = ()


class SourceUsage(BaseModel):
    """How much of one source the shaped answer reproduces verbatim.

    ``longest_run_words``/``longest_run_chars`` is the longest verbatim run
    (normalised words); ``copied_share`` the share of the answer's words that
    sit in verbatim runs from this source; ``reproduced_share`` the share of
    the source's words the answer gives away. Runs shorter than the class's
    ``min_run_words`` are ordinary phrasing and not counted.
    """

    model_config = ConfigDict(frozen=True)

    url: str
    source_words: int
    longest_run_words: int
    longest_run_chars: int
    quotes: int
    copied_share: float
    reproduced_share: float


class ShapedAnswer(BaseModel):
    """An answer after the norms were applied."""

    model_config = ConfigDict(frozen=True)

    text: str
    kind: QueryKind
    kind_reason: str
    citations: list[Citation] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    dropped_sources: list[DroppedSource] = Field(default_factory=list)
    usage: list[SourceUsage] = Field(default_factory=list)

    language: str = "en"
    inserted: list[tuple[int, int]] = Field(default_factory=list)
    passed_sources: list[int] | None = None

    # --- renderers (attribution.render) and exports (attribution.exports) -----------

    def to_markdown(self) -> str:
        """Markdown with ``[n]`` links after each cited span and a numbered source list.

        The answer text passes through as written (models write Markdown);
        titles, credits and URLs added here are escaped, and only http(s)
        URLs become links. The list's words are in the answer's language.
        """
        from attribution.render import to_markdown

        return to_markdown(self)

    def to_html(self) -> str:
        """An HTML fragment; every piece of text and every URL is escaped, only http(s) links are made."""
        from attribution.render import to_html

        return to_html(self)

    def to_json(self) -> str:
        """The whole result as JSON (text, kind, citations, actions, dropped sources, usage)."""
        return self.model_dump_json(indent=2)

    def to_openai_annotations(self) -> list[dict[str, Any]]:
        """OpenAI Responses ``url_citation`` annotations; offsets in code points (see ``attribution.exports``)."""
        from attribution.exports import openai_annotations

        return openai_annotations(self)

    def to_openai_chat_annotations(self) -> list[dict[str, Any]]:
        """OpenAI Chat Completions annotations: ``url_citation`` nested one level deeper."""
        from attribution.exports import openai_chat_annotations

        return openai_chat_annotations(self)

    def to_anthropic_citations(self) -> list[dict[str, Any]]:
        """Anthropic ``char_location`` citations over the documents actually passed on.

        ``document_index`` counts only the sources that were used (denied
        sources are not passed to a model), in the order given to ``shape``:
        ``passed_sources[document_index]`` is the index in your list.
        """
        from attribution.exports import anthropic_char_locations

        return anthropic_char_locations(self)

    def to_anthropic_content(self) -> list[dict[str, Any]]:
        """The answer as Anthropic ``text`` content blocks, each cited span its own block."""
        from attribution.exports import anthropic_content

        return anthropic_content(self)

    def to_anthropic_search_result_citations(self, sources: list[Any] | None = None) -> list[dict[str, Any]]:
        """Anthropic ``search_result_location`` citations (see ``attribution.exports``).

        With the ``sources`` given to ``shape``, block indices point at the
        paragraphs of each source as ``attribution.exports.search_results``
        passes them; without, each source counts as one block.
        """
        from attribution.exports import anthropic_search_result_locations

        return anthropic_search_result_locations(self, sources)

    def to_anthropic_web_search_citations(self) -> list[dict[str, Any]]:
        """Anthropic ``web_search_result_location`` citations (see ``attribution.exports``)."""
        from attribution.exports import anthropic_web_search_locations

        return anthropic_web_search_locations(self)

    def to_gemini_grounding(self) -> dict[str, Any]:
        """Gemini ``grounding_metadata``: chunks and supports with UTF-8 byte offsets."""
        from attribution.exports import gemini_grounding

        return gemini_grounding(self)
