"""Which sources support, contradict or were copied by each sentence of an answer.

This is the measuring half of ``shape``: it changes nothing, it only finds
out. The method is described in ``attribution.matching`` and
docs/ai-teams.md.
"""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

from attribution.answer import SourceUsage
from attribution.index import SourceIndex
from attribution.matching import Match, Run, Sentence, match_found, match_sentence
from attribution.policy import Limits, Policy
from attribution.sources import Source
from attribution.text import tokenize
from norms.domains import registrable_domain

DEFAULT_POLICY = Policy()
_DISPUTE_WINDOW = 400  # characters around the matching region searched for dispute phrases
_HEAD_WINDOW = 600  # characters at the top of a source (where dispute banners sit)


@dataclass(slots=True)
class SentenceMatches:
    """One sentence of the answer (character span, word range) and how the sources relate to it.

    ``supporters`` are usable sources that support it (best first, at most
    ``Policy.max_supporters``); ``denied`` support it but may not be used;
    ``conflicts`` match its wording but give different figures; ``copies``
    are the verbatim runs, each stretch of the sentence charged to one source.
    """

    start: int
    end: int
    t0: int
    t1: int
    supporters: list[Match] = field(default_factory=list)
    denied: list[Match] = field(default_factory=list)
    conflicts: list[Match] = field(default_factory=list)
    copies: list[tuple[Match, Run]] = field(default_factory=list)
    disputed: bool = False


def source_limits(policy: Policy, src: Source) -> Limits:
    """The limits for a source: its class's, with community text lacking an open licence stricter."""
    profile: str = src.source_class
    if profile == "community" and not policy.is_open_licence(src.license or src.links.license):
        profile = "community-closed"
    return policy.limits_for(profile)


def analyse(
    spans: Sequence[tuple[int, int]],
    words: list[str],
    starts: list[int],
    sources: Sequence[Source],
    usable: Sequence[bool],
    policy: Policy,
) -> list[SentenceMatches]:
    """Compare every unit (``spans`` of the answer tokenized as ``words``/``starts``) with every source."""
    min_runs = [source_limits(policy, s).min_run_words for s in sources]
    indexes = [s.index for s in sources]
    sentences = []
    for start, end in spans:
        t0 = bisect_left(starts, start)
        t1 = bisect_left(starts, end)
        sentences.append(SentenceMatches(start, end, t0, t1))
    # Every pair of the answer is looked up once per source; each sentence
    # takes its slice (pairs that straddle two sentences are never used).
    pairs = list(itertools.pairwise(words))
    found_by_source: list[_Found] = []
    for index in indexes:
        get = index.bigrams.get
        found = [get(pair) for pair in pairs]
        # Pairs found up to each position: a sentence's hits in one subtraction.
        found_by_source.append((found, list(itertools.accumulate(map(bool, found), initial=0))))
    cap = policy.max_supporters
    # A sentence repeated word for word relates to the sources the same way:
    # it is compared once (repetitive answers stay linear).
    seen: dict[tuple[str, ...], SentenceMatches] = {}
    for sent in sentences:
        key = tuple(words[sent.t0 : sent.t1])
        first = seen.get(key)
        if first is not None:
            _copy_matches(first, sent)
            continue
        seen[key] = sent
        _compare(sent, Sentence(list(key), sent.t0), found_by_source, indexes, sources, usable, policy, min_runs)
        if len(sent.supporters) > 1:
            sent.supporters = heapq.nsmallest(
                cap, sent.supporters, key=lambda m: (-m.score, class_rank(sources[m.source]), m.source)
            )
        if len(sent.conflicts) > 1:
            sent.conflicts = heapq.nsmallest(cap, sent.conflicts, key=lambda m: (-m.score, m.source))
        if len(sent.denied) > 1:
            sent.denied = heapq.nsmallest(cap, sent.denied, key=lambda m: (-m.score, m.source))
        del sent.supporters[cap:], sent.conflicts[cap:], sent.denied[cap:]
        if len(sent.copies) > 1:
            sent.copies = non_overlapping(sent.copies)
        # Sources disagree (some support, some contradict) or one marks a dispute.
        sent.disputed = bool(sent.supporters) and (
            bool(sent.conflicts)
            or any(marks_dispute(sources[m.source], m, policy) for m in sent.supporters)
        )
    return sentences


def _copy_matches(first: SentenceMatches, sent: SentenceMatches) -> None:
    shift = sent.t0 - first.t0
    sent.supporters = list(first.supporters)
    sent.denied = list(first.denied)
    sent.conflicts = list(first.conflicts)
    sent.disputed = first.disputed
    sent.copies = [
        (m, Run(r.a_first + shift, r.a_last + shift, r.s_first, r.s_last)) for m, r in first.copies
    ]


# Per source: the positions of each answer pair (None: not in the source), and running hit counts.
_Found = tuple[list[list[int] | None], list[int]]


def _compare(
    sent: SentenceMatches,
    prepared: Sentence,
    found_by_source: list[_Found],
    indexes: list[SourceIndex],
    sources: Sequence[Source],
    usable: Sequence[bool],
    policy: Policy,
    min_runs: list[int],
) -> None:
    threshold = policy.support_threshold
    if prepared.n < 2:
        return
    t0, t1 = sent.t0, sent.t1 - 1
    informative = prepared.informative
    for i, index in enumerate(indexes):
        positions, hits_before = found_by_source[i]
        hits = hits_before[t1] - hits_before[t0]
        # The test match_found starts with, without slicing: most sources share
        # no pair, or a few common ones, with a given sentence.
        if not hits or (
            hits < min_runs[i] - 1 and (hits / informative if informative else 0.0) < threshold
        ):
            continue
        found = positions[t0:t1]
        m = match_found(prepared, found, index, i, min_run_words=min_runs[i], threshold=threshold)
        if m is None:
            continue
        if not usable[i]:
            if m.score >= threshold and not m.conflict:
                sent.denied.append(m)
            continue
        if m.conflict and m.score >= threshold:
            sent.conflicts.append(m)
        elif m.score >= threshold:
            sent.supporters.append(m)
        sent.copies.extend((m, r) for r in m.runs)


def marks_dispute(src: Source, m: Match, policy: Policy) -> bool:
    """Does the source flag a dispute at its top (banners) or in the paragraph it supports from?"""
    if src.disputed:
        return True
    positions = src.marker_positions(policy.dispute_markers)
    if not positions:
        return False
    if positions[0] < _HEAD_WINDOW:
        return True
    if m.region is None:
        return False
    # The paragraph around the matching region (at most _DISPUTE_WINDOW either side).
    text = src.text
    a, b = src.index.char_span(*m.region)
    lo = max(0, a - _DISPUTE_WINDOW)
    hi = b + _DISPUTE_WINDOW
    lo = max(lo, text.rfind("\n\n", lo, a) + 1)
    cut = text.find("\n\n", b, hi)
    hi = cut if cut != -1 else hi
    k = bisect_left(positions, lo)
    return k < len(positions) and positions[k] < hi


def supporting_domains(sent: SentenceMatches, sources: Sequence[Source]) -> list[str]:
    """Distinct registrable domains among the sentence's supporters, best supporter first."""
    seen: dict[str, None] = {}
    for m in sent.supporters:
        seen.setdefault(registrable_domain(sources[m.source].url))
    return list(seen)


def is_common_knowledge(sent: SentenceMatches, sources: Sequence[Source], policy: Policy) -> bool:
    """Supported by at least N independent domains and not contested."""
    return (
        not sent.disputed
        and len(supporting_domains(sent, sources)) >= policy.common_knowledge_min_domains
    )


def class_rank(s: Source) -> int:
    return {"canonical": 0, "community": 1, "aggregator": 2}.get(s.source_class, 3)


def non_overlapping(copies: list[tuple[Match, Run]]) -> list[tuple[Match, Run]]:
    """Longest verbatim runs first; a stretch of the answer is charged to one source only."""
    kept: list[tuple[Match, Run]] = []
    # Ties go to a source that supports the sentence rather than one that contradicts it.
    for m, r in sorted(
        copies,
        key=lambda mr: (-mr[1].words, mr[0].conflict, -mr[0].score, mr[1].a_first, mr[0].source),
    ):
        if all(r.a_last < k.a_first or r.a_first > k.a_last for _, k in kept):
            kept.append((m, r))
    return sorted(kept, key=lambda mr: mr[1].a_first)


def measure_usage(
    text: str,
    sources: Sequence[Source],
    policy: Policy | None = None,
    *,
    only: Sequence[int] | None = None,
) -> list[SourceUsage]:
    """Verbatim-copy measures of ``text`` against each source (see ``SourceUsage``)."""
    pol = policy or DEFAULT_POLICY
    words, starts, ends = tokenize(text)
    whole = Sentence(words, 0)
    result = []
    indices = range(len(sources)) if only is None else only
    for i in indices:
        src = sources[i]
        min_run = source_limits(pol, src).min_run_words
        # A threshold above 1 skips support scoring: only verbatim runs are measured.
        m = match_sentence(
            whole, src.index, i, min_run_words=min_run, threshold=2.0, check_numbers=False
        )
        runs = m.runs if m else []
        covered: set[int] = set()
        answer_words = 0
        longest = (0, 0)
        for r in runs:
            covered.update(range(r.s_first, r.s_last + 1))
            answer_words += r.words
            longest = max(longest, (r.words, ends[r.a_last] - starts[r.a_first]))
        result.append(
            SourceUsage(
                url=src.url,
                source_words=len(src.index),
                longest_run_words=longest[0],
                longest_run_chars=longest[1],
                quotes=len(runs),
                copied_share=round(answer_words / len(words), 4) if words else 0.0,
                reproduced_share=round(len(covered) / len(src.index), 4) if len(src.index) else 0.0,
            )
        )
    return result
