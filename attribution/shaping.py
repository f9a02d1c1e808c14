"""``shape``: apply the attribution norms to an AI answer after generation.

Pipeline (each step records its changes as ``Action`` entries):

1. Sources whose ``ai-input`` is denied are dropped; they are still compared
   with the answer so that sentences relying only on them can be removed.
2. The answer is parsed as CommonMark (``attribution.blocks``); its language
   is detected (``attribution.language``); paragraphs, list items, quotes and
   table cells are split into sentences (``attribution.segment``); each code
   block is one unit. Headings are never edited.
3. Each unit is compared with every source (``attribution.analysis``; short
   facts also by ``attribution.facts``) and the query kind is inferred.
4. Each unit is kept, attributed or removed whole (``attribution.decide``),
   and the text is assembled from the answer and the edits
   (``attribution.compose``) with phrases in the answer's language
   (``attribution.templates``). The result is parsed again: if its block
   structure is not the input's minus the removed blocks plus the added
   paragraphs, it is assembled once more with every removal made in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attribution.analysis import DEFAULT_POLICY, SentenceMatches, analyse
from attribution.answer import Action, DroppedSource, ShapedAnswer
from attribution.blocks import Document, block_signature, parse
from attribution.decide import Decider, Decision, stances
from attribution.facts import fact_match, fact_of
from attribution.inference import infer_kind
from attribution.kinds import QueryKind
from attribution.language import detect_language
from attribution.policy import Policy
from attribution.result import build_citations, build_usage
from attribution.sources import Source
from attribution.text import tokenize
from attribution.units import Unit, build_units
from attribution.writer import Writer
from norms.model import Usage


def shape(
    answer: str,
    sources: Sequence[Source | dict[str, Any]],
    *,
    query: str | None = None,
    kind: QueryKind | str | None = None,
    policy: Policy | None = None,
    language: str | None = None,
) -> ShapedAnswer:
    """Apply the attribution norms to ``answer`` given the ``sources`` it was grounded on.

    ``sources`` may mix ``Source`` objects and plain dicts (``Source.from_dict``).
    ``kind`` overrides the inferred query kind, ``language`` (ISO 639-1) the
    detected language. Returns the shaped text with exact citation offsets
    and a plain-words record of every change.
    """
    if not isinstance(answer, str):
        raise TypeError(f"answer must be a str, not {type(answer).__name__}")
    pol = policy or DEFAULT_POLICY
    srcs = [s if isinstance(s, Source) else Source.from_dict(s) for s in sources]
    chosen = QueryKind.parse(kind) if kind is not None else None
    return _run(answer, srcs, query, chosen, pol, language)


def _run(
    answer: str,
    sources: list[Source],
    query: str | None,
    chosen: QueryKind | None,
    policy: Policy,
    language: str | None,
) -> ShapedAnswer:
    actions: list[Action] = []
    usable = [s.allowed(Usage.AI_INPUT) for s in sources]
    dropped = _drop_denied(sources, usable, actions)
    doc = Document(answer)
    phrases = policy.all_phrases()
    lang = language or detect_language(_prose_sample(doc), known=frozenset(phrases), query=query)
    units = build_units(doc, lang)
    words, starts, ends = tokenize(answer)
    sentences = analyse([(u.start, u.end) for u in units], words, starts, sources, usable, policy)
    _match_facts(answer, units, sentences, sources, usable, query, policy)
    kind, reason = (
        (chosen, "given by the caller")
        if chosen is not None
        else infer_kind(sentences, sources, query, policy)
    )
    actions.append(Action(kind="query_kind", detail=f"treated as {kind.value}: {reason}"))
    decider = Decider(answer, sources, policy, kind, starts, ends, actions, stances(sentences, len(sources)))
    decisions = [decider.decide(k, u, s) for k, (u, s) in enumerate(zip(units, sentences, strict=True))]
    writer = Writer(doc, sources, phrases.get(lang), kind, decider.pointer_needed, actions)
    out = writer.write(units, sentences, decisions, in_place=False)
    if block_signature(parse(out.text)) != writer.expected:
        # Removing whole blocks would have changed the structure (merged two
        # lists, say): make every removal in place instead.
        actions[:] = actions[: writer.actions_before]
        writer = Writer(doc, sources, phrases.get(lang), kind, decider.pointer_needed, actions)
        out = writer.write(units, sentences, decisions, in_place=True)
    citations = build_citations(out, sources, policy)
    actions.sort(key=_reading_order)
    return ShapedAnswer(
        text=out.text,
        kind=kind,
        kind_reason=reason,
        language=lang,
        citations=citations,
        actions=actions,
        dropped_sources=dropped,
        usage=build_usage(len(words), citations, sources, decider.budgets.kept),
        inserted=out.inserted,
        passed_sources=[i for i, ok in enumerate(usable) if ok],
    )


_FIRST = ("drop_source", "query_kind")
_LAST = ("point_to_source", "note_last_update")


def _reading_order(a: Action) -> tuple[int, int]:
    """Actions in the order a reader meets them: answer-wide first, then by position, then notes."""
    if a.kind in _FIRST:
        return (0, 0)
    if a.span is not None:
        return (1, a.span[0])
    return (2, 0) if a.kind in _LAST else (1, 1 << 62)


def _drop_denied(sources: list[Source], usable: list[bool], actions: list[Action]) -> list[DroppedSource]:
    dropped = []
    for i, s in enumerate(sources):
        if usable[i]:
            continue
        reasons = s.denial_reasons(Usage.AI_INPUT)
        why = "; ".join(reasons) if reasons else "the publisher's signals deny ai-input"
        dropped.append(DroppedSource(url=s.url, title=s.title, reasons=reasons))
        actions.append(Action(kind="drop_source", detail=f"not used: {why}", source_url=s.url))
    return dropped


def _prose_sample(doc: Document) -> str:
    """The start of the answer's prose (paragraphs, cells, headings), code left out."""
    parts: list[str] = list(doc.headings[:3])
    size = sum(map(len, parts))
    for node in doc.prose:
        parts.append(node.content)
        size += len(node.content)
        if size > 600:
            break
    return " ".join(parts)


def _match_facts(
    answer: str,
    units: list[Unit],
    sentences: list[SentenceMatches],
    sources: list[Source],
    usable: list[bool],
    query: str | None,
    policy: Policy,
) -> None:
    """Short sentences are also matched by the fact they state (numbers near the right names).

    A source that states the fact in other words supports the sentence too,
    unless it already supports, contradicts or was denied for it.
    """
    for unit, sent in zip(units, sentences, strict=True):
        if unit.code or sent.conflicts:
            continue
        fact = fact_of(answer[unit.start : unit.end], query)
        if fact is None:
            continue
        taken = {m.source for m in (*sent.supporters, *sent.denied)}
        for i, src in enumerate(sources):
            if i in taken:
                continue
            m = fact_match(fact, src.index, i)
            if m is None:
                continue
            (sent.supporters if usable[i] else sent.denied).append(m)
        del sent.supporters[policy.max_supporters :]


__all__ = ["Decision", "shape"]
