"""Inferring the query kind when the caller does not give it: the documented heuristic.

First match wins (docs/ai-teams.md, "Query kind inference"):
contested, rapidly evolving, quick fact, long form, common knowledge, and
primary source otherwise. Every answer records which rule applied, so a
wrong guess is visible and the caller can pass ``kind=`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from attribution.analysis import SentenceMatches, is_common_knowledge
from attribution.kinds import QueryKind
from attribution.policy import Policy
from attribution.sources import Source
from attribution.text import words_of


def infer_kind(
    sentences: Sequence[SentenceMatches],
    sources: Sequence[Source],
    query: str | None,
    policy: Policy,
) -> tuple[QueryKind, str]:
    """The query kind and, in plain words, why."""
    supported = [s for s in sentences if s.supporters]
    used = sorted({m.source for s in supported for m in s.supporters})
    if any(s.disputed for s in supported):
        return QueryKind.CONTESTED, "sources disagree or a source marks the topic as disputed"
    qwords = " " + " ".join(words_of(query or "")) + " "
    volatile = [w for w in policy.volatile_query_words if f" {w} " in qwords]
    if volatile:
        return (
            QueryKind.RAPIDLY_EVOLVING,
            f"the query asks about something volatile ({volatile[0]!r})",
        )
    for i in used:
        src = sources[i]
        if src.last_modified is not None:
            ref = src.retrieved_at or datetime.now(src.last_modified.tzinfo)
            age = (ref - src.last_modified).days
            if 0 <= age <= policy.evolving_days:
                return (
                    QueryKind.RAPIDLY_EVOLVING,
                    f"{src.url} changed {age} day(s) before it was retrieved",
                )
    quick = [w for w in policy.quick_fact_query_words if f" {w} " in qwords]
    canonical = [i for i in used if sources[i].source_class == "canonical"]
    if quick and canonical and len(sentences) <= 3:
        return (
            QueryKind.QUICK_FACT,
            f"a quick-fact query ({quick[0]!r}) answered from a canonical source",
        )
    asks_depth = any(f" {w} " in qwords for w in policy.long_form_query_words)
    carried: dict[int, int] = {}
    for s in supported:
        carried[s.supporters[0].source] = carried.get(s.supporters[0].source, 0) + 1
    for i in used:
        n = len(sources[i].index)
        if n >= policy.long_form_min_words and (
            asks_depth or carried.get(i, 0) > policy.long_form_max_sentences
        ):
            return (
                QueryKind.LONG_FORM,
                f"the answer draws on long-form work ({n} words at {sources[i].url})",
            )
    if supported and all(is_common_knowledge(s, sources, policy) for s in supported):
        return (
            QueryKind.COMMON_KNOWLEDGE,
            f"every supported claim is backed by at least {policy.common_knowledge_min_domains} independent domains",
        )
    if not supported:
        return (
            QueryKind.PRIMARY_SOURCE,
            "no sentence is supported by a source; nothing to attribute",
        )
    return QueryKind.PRIMARY_SOURCE, "claims rest on specific sources"
