"""The result of shaping: text, citations with exact offsets, every change made, and renderers.

Offsets are Python string indices (Unicode code points) into ``text``, end
exclusive. The OpenAI and Anthropic exports use the same indices; converting
to UTF-8 bytes or UTF-16 units, when a consumer needs it, is the consumer's
last step.
"""

from __future__ import annotations

import html
import itertools
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

    # --- renderers -------------------------------------------------------

    def _sources(self) -> list[Citation]:
        """The first citation of each reference number, in number order."""
        first: dict[int, Citation] = {}
        for c in self.citations:
            first.setdefault(c.number, c)
        return [first[n] for n in sorted(first)]

    def _markers(self) -> dict[int, list[Citation]]:
        """Citations grouped by the offset where their marker goes, one marker per number."""
        at: dict[int, list[Citation]] = {}
        for c in self.citations:
            if c.role == "quote" and any(
                o.number == c.number and o.role != "quote" and o.start <= c.start and c.end <= o.end
                for o in self.citations
            ):
                continue  # the enclosing claim's marker already names this source
            group = at.setdefault(c.end, [])
            if all(g.number != c.number for g in group):
                group.append(c)
        return at

    def to_markdown(self) -> str:
        """Markdown with ``[n]`` links after each cited span and a numbered source list.

        The answer text passes through as written (models write Markdown);
        titles, credits and URLs added here are escaped, and only http(s)
        URLs become links.
        """
        out: list[str] = []
        pos = 0
        for offset, group in sorted(self._markers().items()):
            out.append(self.text[pos:offset])
            marks = "".join(f"[[{c.number}]]({_md_url(c.url)})" for c in group)
            # A marker glued to a closing code fence would break the fence.
            out.append(("\n" if self.text.endswith(("```", "~~~"), 0, offset) else "") + marks)
            pos = offset
        out.append(self.text[pos:])
        body = "".join(out)
        sources = self._sources()
        if not sources:
            return body
        lines = [body, "", "Sources:"]
        for c in sources:
            lines.append(f"{c.number}. " + " · ".join(_md_parts(c)))
        return "\n".join(lines)

    def to_html(self) -> str:
        """An HTML fragment; every piece of text and every URL is escaped, only http(s) links are made."""
        out: list[str] = []
        pos = 0
        for offset, group in sorted(self._markers().items()):
            out.append(html.escape(self.text[pos:offset]))
            for c in group:
                out.append(
                    f'<sup class="ff-cite">{_html_link(c.url, f"[{c.number}]", c.title)}</sup>'
                )
            pos = offset
        out.append(html.escape(self.text[pos:]))
        body = "".join(out)
        paragraphs = "".join(
            f"<p>{p.replace(chr(10), '<br>')}</p>" for p in body.split("\n\n") if p.strip()
        )
        parts = [f'<div class="ff-answer">{paragraphs}']
        sources = self._sources()
        if sources:
            parts.append('<ol class="ff-sources">')
            for c in sources:
                parts.append(f'<li value="{c.number}">' + " · ".join(_html_parts(c)) + "</li>")
            parts.append("</ol>")
        parts.append("</div>")
        return "".join(parts)

    def to_json(self) -> str:
        """The whole result as JSON (text, kind, citations, actions, dropped sources, usage)."""
        return self.model_dump_json(indent=2)

    # --- exports in the shapes AI platforms already use -------------------

    def to_openai_annotations(self) -> list[dict[str, Any]]:
        """OpenAI Responses API ``url_citation`` annotations (one per cited span and source).

        Chat Completions nests the same fields one level deeper
        (``{"type": "url_citation", "url_citation": {...}}``).
        """
        seen: set[tuple[int, int, str]] = set()
        out: list[dict[str, Any]] = []
        for c in self.citations:
            key = (c.start, c.end, c.url)
            if key in seen:
                continue
            seen.add(key)
            out.append(
                {
                    "type": "url_citation",
                    "start_index": c.start,
                    "end_index": c.end,
                    "url": c.url,
                    "title": c.title or c.url,
                }
            )
        return out

    def to_anthropic_citations(self) -> list[dict[str, Any]]:
        """Anthropic ``char_location`` citations (indices into the source document).

        ``document_index`` is the source's position in the list given to
        ``shape``; citations whose source region was not located are left out
        because ``char_location`` requires ``cited_text`` and indices.
        """
        out: list[dict[str, Any]] = []
        seen: set[tuple[int, int, int]] = set()
        for c in self.citations:
            if c.source_start is None or c.source_end is None or c.cited_text is None:
                continue
            key = (c.source_index, c.source_start, c.source_end)
            if key in seen:
                continue
            seen.add(key)
            out.append(_anthropic(c))
        return out

    def to_anthropic_content(self) -> list[dict[str, Any]]:
        """The answer as Anthropic ``text`` content blocks, each cited span its own block."""
        cuts = {0, len(self.text)}
        for c in self.citations:
            cuts.update((c.start, c.end))
        bounds = sorted(cuts)
        blocks: list[dict[str, Any]] = []
        for a, b in itertools.pairwise(bounds):
            if a == b:
                continue
            block: dict[str, Any] = {"type": "text", "text": self.text[a:b]}
            cites = [
                _anthropic(c)
                for c in self.citations
                if c.start <= a and b <= c.end and c.cited_text is not None
            ]
            if cites:
                block["citations"] = cites
            blocks.append(block)
        return blocks


def _anthropic(c: Citation) -> dict[str, Any]:
    return {
        "type": "char_location",
        "cited_text": c.cited_text,
        "document_index": c.source_index,
        "document_title": c.title,
        "start_char_index": c.source_start,
        "end_char_index": c.source_end,
    }


def _safe_url(url: str | None) -> str | None:
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def _md_url(url: str) -> str:
    safe = _safe_url(url) or ""
    return safe.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _md_text(text: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_[]()<>#|!" else ch for ch in text)


def _md_link(label: str, url: str | None) -> str:
    safe = _safe_url(url)
    return f"[{_md_text(label)}]({_md_url(safe)})" if safe else _md_text(label)


def _md_parts(c: Citation) -> list[str]:
    parts = [_md_link(c.title or c.url, c.url)]
    if c.platform:
        parts.append(_md_text(c.platform))
    if c.edit_history_url:
        parts.append(_md_link("view edit history", c.edit_history_url))
    if c.discussion_url:
        parts.append(_md_link("see the discussion", c.discussion_url))
    if c.last_updated:
        parts.append(f"last updated {c.last_updated}")
    if c.license:
        parts.append(_md_link(c.license, c.license_url))
    if c.attribution:
        parts.append(_md_text(c.attribution))
    return parts


def _html_link(url: str | None, label: str, title: str | None = None) -> str:
    safe = _safe_url(url)
    text = html.escape(label)
    if not safe:
        return text
    title_attr = f' title="{html.escape(title, quote=True)}"' if title else ""
    return f'<a href="{html.escape(safe, quote=True)}"{title_attr}>{text}</a>'


def _html_parts(c: Citation) -> list[str]:
    parts = [_html_link(c.url, c.title or c.url)]
    if c.platform:
        parts.append(html.escape(c.platform))
    if c.edit_history_url:
        parts.append(_html_link(c.edit_history_url, "view edit history"))
    if c.discussion_url:
        parts.append(_html_link(c.discussion_url, "see the discussion"))
    if c.last_updated:
        parts.append(html.escape(f"last updated {c.last_updated}"))
    if c.license:
        parts.append(_html_link(c.license_url, c.license))
    if c.attribution:
        parts.append(html.escape(c.attribution))
    return parts
