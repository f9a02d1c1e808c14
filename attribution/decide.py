"""What happens to each unit: keep, attribute, or remove it whole - and why, in plain words.

Decisions are per unit (a sentence, or a code block), never inside one: a
verbatim copy over a limit removes its sentence and points to the source,
it is never cut short. The budgets (quotes and words kept per source,
sentences per stance on a contested topic, sentences from a long work) are
spent in answer order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from attribution.analysis import (
    SentenceMatches,
    is_common_knowledge,
    source_limits,
    supporting_domains,
)
from attribution.answer import Action
from attribution.kinds import QueryKind
from attribution.matching import Run
from attribution.naming import source_label
from attribution.policy import Limits, Policy
from attribution.sources import Source
from attribution.units import Unit


@dataclass(slots=True)
class Decision:
    remove: bool = False
    pointer: str | None = None  # "full" or "depth": the source is owed a pointer note
    attribute: bool = False  # name the primary source in the text (first mention)
    cite: bool = False  # cite the supporters on the unit
    quick: bool = False


@dataclass
class Budgets:
    """Verbatim text kept per source so far, and per-stance / long-form sentence counts."""

    quotes: dict[int, int] = field(default_factory=dict)
    quoted_words: dict[int, int] = field(default_factory=dict)
    kept: dict[int, list[tuple[int, int, int, int]]] = field(default_factory=dict)
    stance: dict[frozenset[int], int] = field(default_factory=dict)
    long_form: dict[int, int] = field(default_factory=dict)


def stances(sentences: list[SentenceMatches], n: int) -> list[frozenset[int]]:
    """Each sentence's stance: the set of sources that support what it claims.

    Sentences are grouped by what they claim, not by their first source: two
    sentences backed by the same sources share a stance, a sentence another
    source also backs (or contradicts) is a stance of its own.
    """
    return [frozenset(m.source for m in s.supporters) for s in sentences]


class Decider:
    def __init__(
        self,
        answer: str,
        sources: list[Source],
        policy: Policy,
        kind: QueryKind,
        starts: list[int],
        ends: list[int],
        actions: list[Action],
        stance_of: list[frozenset[int]],
    ) -> None:
        self.answer = answer
        self.sources = sources
        self.policy = policy
        self.kind = kind
        self.starts = starts
        self.ends = ends
        self.actions = actions
        self.stance_of = stance_of
        self.budgets = Budgets()
        self.pointer_needed: dict[int, str] = {}
        markers = tuple(m.lower() for m in policy.dispute_markers)
        self._markers = markers

    def _act(self, kind: str, detail: str, source: int | None, span: tuple[int, int] | None) -> None:
        url = self.sources[source].url if source is not None else None
        self.actions.append(Action(kind=kind, detail=detail, source_url=url, span=span))

    def states_dispute(self, unit: Unit) -> bool:
        low = self.answer[unit.start : unit.end].lower()
        return any(m in low for m in self._markers)

    def decide(self, k: int, unit: Unit, sent: SentenceMatches) -> Decision:
        span = (unit.start, unit.end)
        if not sent.supporters and sent.denied:
            urls = ", ".join(self.sources[m.source].url for m in sent.denied)
            first = sent.denied[0].source
            if self.policy.denied_sentences == "remove":
                self._act("remove_sentence", f"removed: it relies only on sources whose publisher denies ai-input ({urls})", first, span)
                return Decision(remove=True)
            self._act("flag_sentence", f"kept but flagged: it relies only on sources whose publisher denies ai-input ({urls})", first, span)
        primary = sent.supporters[0].source if sent.supporters else None
        if primary is not None and self.kind is QueryKind.CONTESTED and not self.states_dispute(unit):
            stance = self.stance_of[k]
            used = self.budgets.stance.get(stance, 0)
            if used >= self.policy.contested_max_sentences_per_side:
                self._act("summarise_contested", f"left out: contested topic, key points only ({used} already kept from this side)", primary, span)
                self.pointer_needed.setdefault(primary, "full")
                return Decision(remove=True)
            self.budgets.stance[stance] = used + 1
        if (
            primary is not None
            and self.kind is QueryKind.LONG_FORM
            and len(self.sources[primary].index) >= self.policy.long_form_min_words
        ):
            used = self.budgets.long_form.get(primary, 0)
            if used >= self.policy.long_form_max_sentences:
                self._act("limit_long_form", f"left out: basic information only from long-form work ({used} sentences kept)", primary, span)
                self.pointer_needed.setdefault(primary, "depth")
                return Decision(remove=True)
            self.budgets.long_form[primary] = used + 1
        over = self._over_limits(unit, sent)
        if over is not None:
            return over
        return self._attribution(unit, sent)

    # --- substitution limits ------------------------------------------------------

    def _over_limits(self, unit: Unit, sent: SentenceMatches) -> Decision | None:
        """Remove the unit if a verbatim run in it exceeds its source's limits; else spend the budgets."""
        accepted: list[tuple[int, Run]] = []
        # The sentence that states a dispute stays: only per-quote and publisher limits apply to it.
        dispute = self.kind is QueryKind.CONTESTED and self.states_dispute(unit)
        for m, run in sent.copies:
            src = self.sources[m.source]
            ok, why = self._within(m.source, src, source_limits(self.policy, src), run, budgets=not dispute)
            if ok:
                accepted.append((m.source, run))
                continue
            name = source_label(src)
            what = "code block" if unit.code else "sentence"
            detail = (
                f"removed a {what} that copies {run.words} words verbatim from {name}: {why}"
                if not unit.code
                else f"replaced a code block that copies {run.words} words verbatim from {name} with a link: {why}"
            )
            self._act("remove_quote", detail, m.source, (unit.start, unit.end))
            if not unit.code:  # a replaced code block's link line is its pointer
                self.pointer_needed.setdefault(m.source, "full")
            return Decision(remove=True, pointer="full")
        for i, run in accepted:
            b = self.budgets
            b.quotes[i] = b.quotes.get(i, 0) + 1
            b.quoted_words[i] = b.quoted_words.get(i, 0) + run.words
            chars = self.ends[run.a_last] - self.starts[run.a_first]
            b.kept.setdefault(i, []).append((run.words, chars, run.s_first, run.s_last))
        return None

    def _within(self, i: int, src: Source, limits: Limits, run: Run, *, budgets: bool = True) -> tuple[bool, str]:
        profile = src.source_class
        b = self.budgets
        if budgets and limits.max_quotes is not None and b.quotes.get(i, 0) >= limits.max_quotes:
            return False, f"already {b.quotes.get(i, 0)} quote(s) from this {profile} source (limit {limits.max_quotes})"
        if limits.max_quote_words is not None and run.words > limits.max_quote_words:
            return False, f"over {limits.max_quote_words} words per quote for {profile} sources"
        chars = self.ends[run.a_last] - self.starts[run.a_first]
        snippet = src.snippet_limit()
        if snippet is not None and chars > snippet:
            return False, f"over the publisher's snippet limit of {snippet} characters"
        if limits.max_quote_chars is not None and chars > limits.max_quote_chars:
            return False, f"over {limits.max_quote_chars} characters per quote for {profile} sources"
        used = b.quoted_words.get(i, 0)
        if not budgets:
            return True, "within limits"
        if limits.max_share is not None:
            # The share limit guards against substitution: below the floor nothing substitutes.
            allowed = max(int(limits.max_share * len(src.index)), self.policy.share_floor_words)
            if used + run.words > allowed:
                return False, f"the answer would reproduce more of the source than its share limit allows ({allowed} words)"
        if limits.max_words_per_answer is not None and used + run.words > limits.max_words_per_answer:
            return False, f"over {limits.max_words_per_answer} words from this source per answer"
        return True, "within limits"

    # --- attribution -------------------------------------------------------------

    def _attribution(self, unit: Unit, sent: SentenceMatches) -> Decision:
        span = (unit.start, unit.end)
        if not sent.supporters and sent.conflicts:
            urls = ", ".join(self.sources[m.source].url for m in sent.conflicts)
            self._act("flag_sentence", f"kept but flagged: the sources give different figures ({urls}); no source supports it", sent.conflicts[0].source, span)
            return Decision()
        if not sent.supporters:
            if not sent.denied:
                self._act("unsupported", "no source supports this sentence; left as written", None, span)
            return Decision()
        if self.kind in (QueryKind.COMMON_KNOWLEDGE, QueryKind.PRIMARY_SOURCE, QueryKind.LONG_FORM) and is_common_knowledge(sent, self.sources, self.policy):
            domains = supporting_domains(sent, self.sources)
            self._act("common_knowledge", f"stated without a link: {len(domains)} independent domains agree ({', '.join(domains)})", None, span)
            return Decision(cite=self.policy.link_common_knowledge)
        return Decision(attribute=True, cite=True, quick=self.kind is QueryKind.QUICK_FACT)
