"""``instructions``: the same norms phrased as guidance for a model's prompt.

Teams shape before generation (tell the model what it may use and how to
attribute) and enforce after it (``shape``). The guidance is derived from the
same ``Policy`` and the same source data, so both halves agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attribution.analysis import source_limits
from attribution.policy import Limits, Policy
from attribution.sources import Source
from norms.domains import registrable_domain
from norms.model import Usage


def _limit_words(limits: Limits, snippet: int | None) -> str:
    parts = []
    if limits.max_quote_words is not None:
        parts.append(f"{limits.max_quote_words} words")
    chars = limits.max_quote_chars
    if snippet is not None:
        chars = snippet if chars is None else min(chars, snippet)
    if chars is not None:
        parts.append(f"{chars} characters")
    quote = (
        f"quote at most {' / '.join(parts)} verbatim per quote"
        if parts
        else "quote freely under its licence"
    )
    if limits.max_quotes is not None:
        quote += f", at most {limits.max_quotes} quote(s)"
    if limits.max_share is not None:
        quote += f", never more than {round(limits.max_share * 100)}% of it"
    return quote


def instructions(
    sources: Sequence[Source | dict[str, Any]],
    *,
    query: str | None = None,
    policy: Policy | None = None,
) -> str:
    """Prompt text that asks a model to follow the attribution norms for these sources."""
    pol = policy or Policy()
    srcs = [s if isinstance(s, Source) else Source.from_dict(s) for s in sources]
    lines = [
        "Answer using the numbered sources below and follow these attribution rules.",
    ]
    if query:
        lines.append(f"Question: {query}")
    lines += [
        "",
        "Rules:",
        f"- A fact that at least {pol.common_knowledge_min_domains} sources on different websites agree on and "
        "that nobody disputes may be stated directly, without a link.",
        '- A claim that rests on one source: attribute it in the text ("According to <source>, ...") and link it.',
        "- If sources disagree or a source marks the topic as disputed: give only the key points of each side "
        f"(at most {pol.contested_max_sentences_per_side} sentences each), attribute each side, and point to the "
        "full article with its sources and discussion.",
        '- If a source changed recently or the topic changes quickly: say "as of <date of the source\'s last update>" '
        'and link the source for current information. Avoid "currently" or "now".',
        "- Quick facts (hours, fees, specifications) from an official source: answer directly and name the source.",
        "- Long works: give the basic information and say there is more depth at the source, with the link.",
        "- For community platforms give the licence credit they require; for aggregators link the item itself "
        "(the video, the repository file, the review page), not the platform's home page.",
        "- Prefer your own words; keep verbatim quotes short and within the limits listed per source.",
        "- Never use a source marked DO NOT USE, and never type a URL that is not listed here.",
        "",
        "Sources:",
    ]
    usable = 0
    for n, src in enumerate(srcs, 1):
        head = f"[{n}] {src.title or src.url} - {src.url}"
        if not src.allowed(Usage.AI_INPUT):
            reasons = (
                "; ".join(src.denial_reasons(Usage.AI_INPUT))
                or "the publisher's signals deny ai-input"
            )
            lines.append(f"{head}\n    DO NOT USE: {reasons}.")
            continue
        usable += 1
        links = src.links
        details = [
            f"{src.source_class} source on {registrable_domain(src.url) or src.url}"
            + (f" ({links.platform_name})" if links.platform_name else ""),
            _limit_words(source_limits(pol, src), src.snippet_limit()),
        ]
        if src.last_modified is not None:
            details.append(f"last updated {src.last_modified.date().isoformat()}")
        if links.license:
            details.append(f"licence {links.license}")
        if links.attribution:
            details.append(f"credit: {links.attribution}")
        if links.edit_history_url:
            details.append(f"edit history: {links.edit_history_url}")
        if links.discussion_url:
            details.append(f"discussion: {links.discussion_url}")
        lines.append(head + "\n    " + "\n    ".join(details))
    if not usable:
        lines.append(
            "(No source may be used: say that you cannot answer from the permitted sources.)"
        )
    return "\n".join(lines)
