"""From the assembled text to ``Citation`` and ``SourceUsage`` objects.

``cited_text`` (the passage of the source a citation points at, exported
to Anthropic as ``cited_text``) obeys the same limits as the answer: the
publisher's ``max-snippet`` (``nosnippet`` = 0: no passage at all) and the
class's per-quote character limit. A longer region is shortened at a word
boundary and ``source_end`` moves with it, so the offsets stay exact.
"""

from __future__ import annotations

from attribution.analysis import source_limits
from attribution.answer import Citation, SourceUsage
from attribution.compose import Assembled
from attribution.policy import Policy
from attribution.sources import Source


def passage_limit(src: Source, policy: Policy) -> int | None:
    """The most characters of ``src`` any export may carry (None: no limit)."""
    limits = [x for x in (src.snippet_limit(), source_limits(policy, src).max_quote_chars) if x is not None]
    return min(limits) if limits else None


def _bounded(src: Source, span: tuple[int, int], limit: int | None) -> tuple[int, int] | None:
    a, b = span
    if limit is None or b - a <= limit:
        return span
    if limit <= 0:
        return None
    cut = src.text.rfind(" ", a, a + limit + 1)
    end = cut if cut > a else a + limit
    end = len(src.text[a:end].rstrip()) + a
    return (a, end) if end > a else None


def build_citations(out: Assembled, sources: list[Source], policy: Policy) -> list[Citation]:
    text = out.text
    numbers: dict[int, int] = {}
    for c in sorted(out.cites, key=lambda c: (c.start, c.end)):
        numbers.setdefault(c.source, len(numbers) + 1)
    result = []
    limits: dict[int, int | None] = {}
    for c in sorted(out.cites, key=lambda c: (c.start, -c.end, numbers[c.source])):
        src = sources[c.source]
        links = src.links
        span = None
        if c.source_span:
            if c.source not in limits:
                limits[c.source] = passage_limit(src, policy)
            span = _bounded(src, c.source_span, limits[c.source])
        s_start, s_end = span if span else (None, None)
        # Validated although every value was computed here: pydantic's validation
        # (in Rust, role included) costs less than half of model_construct.
        fields = {
            "number": numbers[c.source],
            "url": src.url,
            "title": src.title,
            "source_class": src.source_class,
            "platform": links.platform_name or src.platform,
            "source_index": c.source,
            "role": c.role,
            "start": c.start,
            "end": c.end,
            "text": text[c.start : c.end],
            "source_start": s_start,
            "source_end": s_end,
            "cited_text": src.text[s_start:s_end] if s_start is not None else None,
            "permalink": links.permalink,
            "edit_history_url": links.edit_history_url,
            "discussion_url": links.discussion_url,
            "last_updated": src.last_modified.date().isoformat() if src.last_modified else links.last_modified,
            "license": links.license,
            "license_url": links.license_url,
            "attribution": links.attribution,
        }
        result.append(Citation.model_validate(fields))
    return result


def build_usage(
    answer_words: int,
    citations: list[Citation],
    sources: list[Source],
    kept: dict[int, list[tuple[int, int, int, int]]],
) -> list[SourceUsage]:
    """Verbatim measures, from the runs the shaper kept (see ``SourceUsage``).

    ``copied_share`` is relative to the answer's words as written (what was
    kept of it can only make the share smaller).
    """
    answer_words = max(1, answer_words)
    result = []
    for i in sorted({c.source_index for c in citations} | set(kept)):
        src = sources[i]
        runs = kept.get(i, [])
        size = len(src.index)
        covered: set[int] = set()
        for _, _, first, last in runs:
            covered.update(range(first, last + 1))
        longest = max(((w, c) for w, c, _, _ in runs), default=(0, 0))
        result.append(
            SourceUsage(
                url=src.url,
                source_words=size,
                longest_run_words=longest[0],
                longest_run_chars=longest[1],
                quotes=len(runs),
                copied_share=round(sum(w for w, _, _, _ in runs) / answer_words, 4),
                reproduced_share=round(len(covered) / size, 4) if size else 0.0,
            )
        )
    return result
