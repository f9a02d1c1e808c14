"""``shape``: apply the attribution norms to an AI answer after generation.

Pipeline (each step records its changes as ``Action`` entries):

1. Sources whose ``ai-input`` is denied are dropped; they are still compared
   with the answer so that sentences relying only on them can be removed.
2. The answer is split into sentences; each sentence is compared with every
   source through the sources' word-pair indexes (``attribution.matching``).
3. The query kind is taken from the caller or inferred (``infer_kind``).
4. The answer is rebuilt sentence by sentence: in-text attribution, links,
   "as of" dates, per-side summaries, quote trimming under the per-class
   substitution limits, and pointer notes to the full source. Offsets of
   every citation are computed while the text is assembled, so they are
   exact by construction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from attribution.analysis import (
    DEFAULT_POLICY,
    SentenceMatches,
    analyse,
    is_common_knowledge,
    source_limits,
    supporting_domains,
)
from attribution.answer import Action, Citation, DroppedSource, ShapedAnswer, SourceUsage
from attribution.inference import infer_kind
from attribution.kinds import QueryKind
from attribution.matching import Run
from attribution.naming import last_update, source_label, source_name
from attribution.policy import Limits, Policy
from attribution.sources import Source
from attribution.text import is_code_block, tokenize
from norms.model import Usage

# Sentence openers that are lowercased after an inserted "According to X, ".
_LOWER_OPENERS = frozenset(
    """
    the a an in on at this that these those it its there their his her after before during
    when while since although though as some many most several one two three both each
    however use call run add set hold try make open click select install see check
    """.split()  # noqa: SIM905 - a word list reads best as words
)


CiteRole = Literal["support", "quote", "pointer"]


@dataclass(slots=True)
class _Cite:
    """A citation while the text is assembled: output span, source index, role, source span."""

    start: int
    end: int
    source: int
    role: CiteRole
    source_span: tuple[int, int] | None


class _Text:
    """The output under construction; every added piece knows its offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.cites: list[_Cite] = []

    def add(self, text: str) -> tuple[int, int]:
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        return start, self.length

    def cite(
        self,
        span: tuple[int, int],
        source: int,
        role: CiteRole,
        source_span: tuple[int, int] | None,
    ) -> None:
        if span[1] > span[0]:
            self.cites.append(_Cite(span[0], span[1], source, role, source_span))

    def text(self) -> str:
        return "".join(self.parts)


def shape(
    answer: str,
    sources: Sequence[Source | dict[str, Any]],
    *,
    query: str | None = None,
    kind: QueryKind | str | None = None,
    policy: Policy | None = None,
) -> ShapedAnswer:
    """Apply the attribution norms to ``answer`` given the ``sources`` it was grounded on.

    ``sources`` may mix ``Source`` objects and plain dicts (``Source.from_dict``).
    ``kind`` overrides the inferred query kind. Returns the shaped text with
    exact citation offsets and a plain-words record of every change.
    """
    if not isinstance(answer, str):
        raise TypeError(f"answer must be a str, not {type(answer).__name__}")
    pol = policy or DEFAULT_POLICY
    srcs = [s if isinstance(s, Source) else Source.from_dict(s) for s in sources]
    chosen = QueryKind.parse(kind) if kind is not None else None
    return _Shaper(answer, srcs, query, chosen, pol).run()


class _Shaper:
    """One shaping run: the answer, the sources, and the budgets spent so far.

    ``quotes``/``quoted_words``/``kept`` track verbatim text kept per source
    (the substitution limits are per answer); ``pointer_needed`` collects the
    sources owed a "read the full text" note because something was cut.
    """

    def __init__(
        self,
        answer: str,
        sources: list[Source],
        query: str | None,
        kind: QueryKind | None,
        policy: Policy,
    ) -> None:
        self.answer = answer
        self.sources = sources
        self.query = query
        self.kind = kind
        self.policy = policy
        self.actions: list[Action] = []
        self.usable = [s.allowed(Usage.AI_INPUT) for s in sources]
        self.words, self.starts, self.ends = tokenize(answer)
        self.quotes: dict[int, int] = {}
        self.quoted_words: dict[int, int] = {}
        # Verbatim runs kept in the output, per source: (words, characters, first, last source word).
        self.kept: dict[int, list[tuple[int, int, int, int]]] = {}
        self.pointer_needed: dict[int, str] = {}

    # --- analysis ----------------------------------------------------------

    def run(self) -> ShapedAnswer:
        dropped = self._drop_denied()
        sentences = analyse(
            self.answer, self.words, self.starts, self.sources, self.usable, self.policy
        )
        kind, reason = (
            (self.kind, "given by the caller")
            if self.kind is not None
            else infer_kind(sentences, self.sources, self.query, self.policy)
        )
        self.actions.append(Action(kind="query_kind", detail=f"treated as {kind.value}: {reason}"))
        out = self._compose(sentences, kind)
        text = out.text()
        citations = self._citations(out, text)
        return ShapedAnswer(
            text=text,
            kind=kind,
            kind_reason=reason,
            citations=citations,
            actions=self.actions,
            dropped_sources=dropped,
            usage=self._usage(text, citations),
        )

    def _drop_denied(self) -> list[DroppedSource]:
        dropped = []
        for i, s in enumerate(self.sources):
            if self.usable[i]:
                continue
            reasons = s.denial_reasons(Usage.AI_INPUT)
            why = "; ".join(reasons) if reasons else "the publisher's signals deny ai-input"
            dropped.append(DroppedSource(url=s.url, title=s.title, reasons=reasons))
            self.actions.append(
                Action(kind="drop_source", detail=f"not used: {why}", source_url=s.url)
            )
        return dropped

    # --- composition ------------------------------------------------------------

    def _compose(self, sentences: list[SentenceMatches], kind: QueryKind) -> _Text:
        out = _Text()
        named: set[int] = set()
        per_side: dict[int, int] = {}
        long_form_kept: dict[int, int] = {}
        cited_order: list[int] = []
        prev_end = 0
        for sent in sentences:
            # The answer's own whitespace before this sentence (a removed
            # sentence takes its text with it, never its neighbour's).
            gap = self.answer[prev_end : sent.start]
            prev_end = sent.end
            span = (sent.start, sent.end)
            if not sent.supporters and sent.denied:
                denied_urls = ", ".join(self.sources[m.source].url for m in sent.denied)
                if self.policy.denied_sentences == "remove":
                    self.actions.append(
                        Action(
                            kind="remove_sentence",
                            detail=f"removed: it relies only on sources whose publisher denies ai-input ({denied_urls})",
                            source_url=self.sources[sent.denied[0].source].url,
                            span=span,
                        )
                    )
                    continue
                self.actions.append(
                    Action(
                        kind="flag_sentence",
                        detail=f"kept but flagged: it relies only on sources whose publisher denies ai-input ({denied_urls})",
                        source_url=self.sources[sent.denied[0].source].url,
                        span=span,
                    )
                )
            if kind is QueryKind.CONTESTED and len(sent.supporters) > 1:
                # Attribute each side: prefer the supporter with the fewest points kept so far.
                sent.supporters.sort(key=lambda m: per_side.get(m.source, 0))
            primary = sent.supporters[0].source if sent.supporters else None
            if (
                kind is QueryKind.CONTESTED
                and primary is not None
                and not self._within_quota(
                    per_side, primary, self.policy.contested_max_sentences_per_side, span,
                    kind="summarise_contested", pointer="full",
                    detail="left out: contested topic, key points only ({n} already kept from this side)",
                )
            ):
                continue
            if (
                kind is QueryKind.LONG_FORM
                and primary is not None
                and self._is_long(primary)
                and not self._within_quota(
                    long_form_kept, primary, self.policy.long_form_max_sentences, span,
                    kind="limit_long_form", pointer="depth",
                    detail="left out: basic information only from long-form work ({n} sentences kept)",
                )
            ):
                continue
            body = self._body(sent)
            if body is None:
                continue
            if out.length:
                out.add(gap or " ")
            self._emit(out, sent, body, kind, named, cited_order)
        self._notes(out, kind, cited_order)
        return out

    def _is_long(self, i: int) -> bool:
        return len(self.sources[i].index) >= self.policy.long_form_min_words

    def _within_quota(
        self, counts: dict[int, int], source: int, limit: int, span: tuple[int, int],
        *, kind: str, pointer: str, detail: str,
    ) -> bool:
        """Count one more sentence from ``source``; past ``limit``, record why it is left out."""
        used = counts.get(source, 0)
        if used >= limit:
            self.actions.append(
                Action(kind=kind, detail=detail.format(n=used), source_url=self.sources[source].url, span=span)
            )
            self.pointer_needed.setdefault(source, pointer)
            return False
        counts[source] = used + 1
        return True

    def _body(self, sent: SentenceMatches) -> list[tuple[str, _Cite | None]] | None:
        """The sentence's text as pieces, with verbatim runs trimmed to the limits; None to drop it."""
        pieces: list[tuple[str, _Cite | None]] = []
        pos = sent.start
        sentence_words = max(1, sent.t1 - sent.t0)
        for m, run in sent.copies:
            src = self.sources[m.source]
            limits = source_limits(self.policy, src)
            keep, why = self._quota(m.source, src, limits, run)
            a = self.starts[run.a_first]
            b = self.ends[run.a_last]
            run_text = self.answer[a:b]
            if keep == run.words:
                self.quotes[m.source] = self.quotes.get(m.source, 0) + 1
                self.quoted_words[m.source] = self.quoted_words.get(m.source, 0) + keep
                self.kept.setdefault(m.source, []).append((keep, b - a, run.s_first, run.s_last))
                continue
            name = source_label(self.sources[m.source])
            if keep <= 0:
                if run.words >= 0.8 * sentence_words:
                    self.actions.append(
                        Action(
                            kind="remove_quote",
                            detail=f"removed a verbatim copy of {run.words} words ({len(run_text)} characters) from {name}: {why}",
                            source_url=src.url,
                            span=(sent.start, sent.end),
                        )
                    )
                    self.pointer_needed.setdefault(m.source, "full")
                    return None
                pieces.append((self.answer[pos:a], None))
                pieces.append(("…", None))
                pos = b
                self.actions.append(
                    Action(
                        kind="remove_quote",
                        detail=f"replaced a verbatim run of {run.words} words from {name} with an ellipsis: {why}",
                        source_url=src.url,
                        span=(a, b),
                    )
                )
                self.pointer_needed.setdefault(m.source, "full")
                continue
            kept_end = self.ends[run.a_first + keep - 1]
            kept_text = self.answer[a:kept_end]
            s_span = src.index.char_span(run.s_first, run.s_first + keep - 1)
            code = is_code_block(self.answer[sent.start : sent.end])
            pieces.append((self.answer[pos:a], None))
            # Quote marks would break code; a cut code block just ends in an ellipsis.
            pieces.append(("" if code else "“", None))
            pieces.append((kept_text, _Cite(0, 0, m.source, "quote", s_span)))
            pieces.append(("…" if code else "…”", None))
            pos = b
            self.quotes[m.source] = self.quotes.get(m.source, 0) + 1
            self.quoted_words[m.source] = self.quoted_words.get(m.source, 0) + keep
            self.kept.setdefault(m.source, []).append(
                (keep, kept_end - a, run.s_first, run.s_first + keep - 1)
            )
            self.pointer_needed.setdefault(m.source, "full")
            self.actions.append(
                Action(
                    kind="trim_quote",
                    detail=(
                        f"trimmed a verbatim run of {run.words} words ({len(run_text)} characters) from {name} "
                        f"to a quote of {keep} words with a link: {why}"
                    ),
                    source_url=src.url,
                    span=(a, b),
                )
            )
        pieces.append((self.answer[pos : sent.end], None))
        return [p for p in pieces if p[0]]

    def _quota(self, i: int, src: Source, limits: Limits, run: Run) -> tuple[int, str]:
        """How many words of ``run`` may stay verbatim, and why the rest may not."""
        keep = run.words
        why: list[str] = []
        profile = src.source_class
        if limits.max_quotes is not None and self.quotes.get(i, 0) >= limits.max_quotes:
            return (
                0,
                f"already {self.quotes.get(i, 0)} quote(s) from this {profile} source (limit {limits.max_quotes})",
            )
        if limits.max_quote_words is not None and keep > limits.max_quote_words:
            keep = limits.max_quote_words
            why.append(f"over {limits.max_quote_words} words per quote for {profile} sources")
        max_chars = limits.max_quote_chars
        snippet = src.snippet_limit()
        if snippet is not None:
            max_chars = snippet if max_chars is None else min(max_chars, snippet)
        if max_chars is not None:
            a = self.starts[run.a_first]
            while keep > 0 and self.ends[run.a_first + keep - 1] - a > max_chars:
                keep -= 1
            if keep < run.words and (snippet is None or snippet != max_chars):
                why.append(f"over {max_chars} characters per quote for {profile} sources")
            elif keep < run.words:
                why.append(f"over the publisher's snippet limit of {snippet} characters")
        used = self.quoted_words.get(i, 0)
        budget: int | None = None
        if limits.max_share is not None:
            share = int(limits.max_share * len(src.index))
            if not self.quotes.get(i):
                # A first quote within the per-quote limits is always allowed as
                # long as it is less than half of the work (UrhDaG §9), so short
                # sources can still be quoted briefly.
                first = limits.max_quote_words or run.words
                share = max(share, min(first, (len(src.index) - 1) // 2))
            budget = share - used
        if limits.max_words_per_answer is not None:
            rest = limits.max_words_per_answer - used
            budget = rest if budget is None else min(budget, rest)
        if budget is not None and keep > budget:
            keep = max(0, budget)
            why.append("the answer would reproduce more of the source than its share limit allows")
        return keep, "; ".join(dict.fromkeys(why)) or "within limits"

    def _emit(
        self,
        out: _Text,
        sent: SentenceMatches,
        body: list[tuple[str, _Cite | None]],
        kind: QueryKind,
        named: set[int],
        cited_order: list[int],
    ) -> None:
        text = "".join(t for t, _ in body)
        if not sent.supporters and sent.conflicts:
            urls = ", ".join(self.sources[m.source].url for m in sent.conflicts)
            self.actions.append(
                Action(
                    kind="flag_sentence",
                    detail=f"kept but flagged: the sources give different figures ({urls}); no source supports it",
                    source_url=self.sources[sent.conflicts[0].source].url,
                    span=(sent.start, sent.end),
                )
            )
            self._add_body(out, body)
            return
        if not sent.supporters:
            if not sent.denied:
                self.actions.append(
                    Action(
                        kind="unsupported",
                        detail="no source supports this sentence; left as written",
                        span=(sent.start, sent.end),
                    )
                )
            self._add_body(out, body)
            return
        common = kind in (
            QueryKind.COMMON_KNOWLEDGE,
            QueryKind.PRIMARY_SOURCE,
            QueryKind.LONG_FORM,
        ) and is_common_knowledge(sent, self.sources, self.policy)
        if common:
            domains = supporting_domains(sent, self.sources)
            self.actions.append(
                Action(
                    kind="common_knowledge",
                    detail=f"stated without a link: {len(domains)} independent domains agree ({', '.join(domains)})",
                    span=(sent.start, sent.end),
                )
            )
            self._add_body(out, body)
            return
        cited = [m for m in sent.supporters[:3]]
        primary = cited[0].source
        for m in cited:
            if m.source not in cited_order:
                cited_order.append(m.source)
        label = source_label(self.sources[primary])
        prefix = ""
        suffix = ""
        already_named = (
            label.casefold() in text.casefold()
            or source_name(self.sources[primary]).casefold() in text.casefold()
        )
        if primary not in named and not already_named and kind is not QueryKind.QUICK_FACT:
            code = is_code_block(text)
            if kind is QueryKind.RAPIDLY_EVOLVING:
                when = last_update(self.sources[primary])
                prefix = (
                    f"As of {when}, according to {label}, " if when else f"According to {label}, "
                )
            elif code:
                prefix = f"From {label}:\n"
            else:
                prefix = f"According to {label}, "
            if code and kind is QueryKind.RAPIDLY_EVOLVING:
                prefix = prefix.rstrip(", ") + ":\n"
            named.add(primary)
            self.actions.append(
                Action(
                    kind="attribute",
                    detail=f"added in-text attribution to {label} with a link",
                    source_url=self.sources[primary].url,
                    span=(sent.start, sent.end),
                )
            )
        elif kind is QueryKind.QUICK_FACT and not already_named:
            suffix = f" (according to {label})"
            self.actions.append(
                Action(
                    kind="attribute",
                    detail=f"quick fact answered directly with attribution to {label}",
                    source_url=self.sources[primary].url,
                    span=(sent.start, sent.end),
                )
            )
        if prefix:
            out.add(prefix)
            first, cite = body[0]
            if not first.startswith(("“", "`", "~")) and self._lowercase_opener(first, sent):
                first = first[0].lower() + first[1:]
            body = [(first, cite), *body[1:]]
        span = self._add_body(out, body, suffix=suffix)
        for m in cited:
            src = self.sources[m.source]
            s_span = src.index.char_span(*m.region) if m.region is not None else None
            out.cite(span, m.source, "support", s_span)

    def _lowercase_opener(self, first: str, sent: SentenceMatches) -> bool:
        """Lowercase the first word after an inserted "According to X, "?

        Yes for common openers ("The", "In") and for words the supporting
        sources also write in lower case (so "Contemporary" becomes
        "contemporary" but "Harold" stays).
        """
        word = re.match(r"\w+", first)
        if (
            not word
            or not word.group()[:1].isupper()
            or (len(word.group()) > 1 and word.group().isupper())
        ):
            return False
        w = word.group()
        if w.lower() in _LOWER_OPENERS:
            return True
        needle = f" {w.lower()} "
        return any(needle in self.sources[m.source].text for m in sent.supporters)

    def _add_body(
        self, out: _Text, body: list[tuple[str, _Cite | None]], *, suffix: str = ""
    ) -> tuple[int, int]:
        """Append the pieces (citing quotes); returns the span of the claim.

        ``suffix`` (a quick fact's "(according to X)") goes before the
        sentence's closing punctuation and is not part of the claim's span.
        """
        tail = ""
        if suffix and body and body[-1][1] is None:
            last = body[-1][0]
            stripped = last.rstrip(".!?…")
            tail = last[len(stripped) :]
            body = [*body[:-1], (stripped, None)] if stripped else body[:-1]
        start = out.length
        for piece, cite in body:
            span = out.add(piece)
            if cite is not None:
                out.cite(span, cite.source, cite.role, cite.source_span)
        claim_end = out.length
        out.add(suffix)
        out.add(tail)
        return start, claim_end

    def _notes(self, out: _Text, kind: QueryKind, cited_order: list[int]) -> None:
        notes: list[tuple[str, str, int]] = []  # (before, label, source) + after text
        tails: list[str] = []
        if kind is QueryKind.CONTESTED and cited_order:
            target = next(
                (i for i in cited_order if self.sources[i].links.discussion_url), cited_order[0]
            )
            label = source_label(self.sources[target])
            notes.append(
                (
                    "This topic is contested; read the full article and its sources and discussion at ",
                    label,
                    target,
                )
            )
            tails.append(".")
            self.actions.append(
                Action(
                    kind="point_to_source",
                    detail=f"contested topic: pointed to the full article, its sources and discussion at {label}",
                    source_url=self.sources[target].url,
                )
            )
            self.pointer_needed.pop(target, None)
        if kind is QueryKind.RAPIDLY_EVOLVING:
            for i in cited_order:
                label = source_label(self.sources[i])
                when = last_update(self.sources[i])
                if when:
                    notes.append(("", label, i))
                    tails.append(f" was last updated on {when}; see it for current information.")
                else:
                    notes.append(("", label, i))
                    tails.append(" gives no last-update date; see it for current information.")
                self.actions.append(
                    Action(
                        kind="note_last_update",
                        detail=f"noted the last update of {label} ({when or 'unknown'}) and linked it for current information",
                        source_url=self.sources[i].url,
                    )
                )
        for i, why in self.pointer_needed.items():
            label = source_label(self.sources[i])
            title = self.sources[i].title
            if why == "depth":
                notes.append(("There is more depth at ", label, i))
                tails.append(f"{f' in “{title}”' if title else ''}.")
                detail = f"long-form work: pointed to the depth available at {label}"
            else:
                notes.append(("Read the full text at ", label, i))
                tails.append(".")
                detail = f"pointed to the full text at {label} instead of reproducing more of it"
            self.actions.append(
                Action(kind="point_to_source", detail=detail, source_url=self.sources[i].url)
            )
        if not notes:
            return
        out.add("\n\n" if out.length else "")
        for n, ((before, label, i), tail) in enumerate(zip(notes, tails, strict=True)):
            if n:
                out.add(" ")
            if not before and label[:1].islower():
                label = label[0].upper() + label[1:]
            out.add(before)
            span = out.add(label)
            out.cite(span, i, "pointer", None)
            out.add(tail)
            if i not in cited_order:
                cited_order.append(i)

    # --- result -----------------------------------------------------------------

    def _citations(self, out: _Text, text: str) -> list[Citation]:
        numbers: dict[int, int] = {}
        for c in sorted(out.cites, key=lambda c: (c.start, c.end)):
            numbers.setdefault(c.source, len(numbers) + 1)
        result = []
        for c in sorted(out.cites, key=lambda c: (c.start, -c.end, numbers[c.source])):
            src = self.sources[c.source]
            links = src.links
            s_start, s_end = c.source_span if c.source_span else (None, None)
            result.append(
                Citation(
                    number=numbers[c.source],
                    url=src.url,
                    title=src.title,
                    source_class=src.source_class,
                    platform=links.platform_name or src.platform,
                    source_index=c.source,
                    role=c.role,
                    start=c.start,
                    end=c.end,
                    text=text[c.start : c.end],
                    source_start=s_start,
                    source_end=s_end,
                    cited_text=src.text[s_start:s_end] if s_start is not None else None,
                    permalink=links.permalink,
                    edit_history_url=links.edit_history_url,
                    discussion_url=links.discussion_url,
                    last_updated=src.last_modified.date().isoformat()
                    if src.last_modified
                    else links.last_modified,
                    license=links.license,
                    license_url=links.license_url,
                    attribution=links.attribution,
                )
            )
        return result

    def _usage(self, text: str, citations: list[Citation]) -> list[SourceUsage]:
        """Verbatim measures of the output, from the runs the shaper kept (see ``SourceUsage``).

        Runs are counted when their sentence is composed; a sentence left out
        afterwards can only make the true figures smaller.
        """
        answer_words = max(1, len(tokenize(text)[0]))
        result = []
        for i in sorted({c.source_index for c in citations} | set(self.kept)):
            src = self.sources[i]
            kept = self.kept.get(i, [])
            size = len(src.index)
            covered: set[int] = set()
            for _, _, first, last in kept:
                covered.update(range(first, last + 1))
            longest = max(((w, c) for w, c, _, _ in kept), default=(0, 0))
            result.append(
                SourceUsage(
                    url=src.url,
                    source_words=size,
                    longest_run_words=longest[0],
                    longest_run_chars=longest[1],
                    quotes=len(kept),
                    copied_share=round(sum(w for w, _, _, _ in kept) / answer_words, 4),
                    reproduced_share=round(len(covered) / size, 4) if size else 0.0,
                )
            )
        return result
