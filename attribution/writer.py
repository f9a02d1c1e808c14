"""Turning decisions into edits: attribution phrases, removed blocks, code credits, closing notes.

Where attribution goes depends on the block, as a careful editor would put it:

* a paragraph: "According to X, ..." before the sentence (languages that put
  the verb second - German, Dutch - get "(laut X)" before the full stop);
* a list item or a block quote: "(according to X)" before the full stop,
  never a prefix in front of a step;
* a table cell: the citation marker only;
* a heading: nothing, ever;
* a code block: a line after the block naming the file and its licence; a
  code block over the limit is replaced whole by a line linking the source.

Languages without phrases get no prose at all: citation markers, and the
sources' names where a pointer is owed.
"""

from __future__ import annotations

from attribution.analysis import SentenceMatches
from attribution.answer import Action
from attribution.blocks import Document, Node, is_single_paragraph
from attribution.compose import (
    Assembled,
    Edit,
    Piece,
    effective_removals,
    paragraph_pieces,
    removal_edit,
    renumber_edits,
)
from attribution.decide import Decision
from attribution.kinds import QueryKind
from attribution.naming import source_name
from attribution.phrasing import date_in, escape_md, label_in, suffix_cut
from attribution.sources import Source
from attribution.templates import Phrases, fill
from attribution.units import Unit


class Writer:
    def __init__(
        self,
        doc: Document,
        sources: list[Source],
        phrases: Phrases | None,
        kind: QueryKind,
        pointer_needed: dict[int, str],
        actions: list[Action],
    ) -> None:
        self.doc = doc
        self.sources = sources
        self.phrases = phrases
        self.kind = kind
        self.pointer_needed = dict(pointer_needed)
        self.actions = actions
        self.actions_before = len(actions)
        self.edits: list[Edit] = []
        self.named: set[int] = set()
        self.cited_order: list[int] = []
        self.unit_cites: list[tuple[int, int, int, str, tuple[int, int] | None]] = []
        self.after: dict[int, int] = {}  # top node first-token index -> paragraphs inserted after it
        self.replaced: set[int] = set()  # first-token index of code blocks replaced by a paragraph
        self.notes = False
        self.expected: list[tuple[str, int]] = []
        self.supporters: dict[int, tuple[int, ...]] = {}

    # --- names ------------------------------------------------------------------

    def label(self, i: int) -> str:
        return label_in(self.sources[i], self.phrases)

    def _date(self, i: int) -> str | None:
        return date_in(self.sources[i], self.phrases)

    def _sentence(self, template: str, i: int, role: str = "pointer", **values: str) -> list[Piece]:
        label = self.label(i)
        if template.startswith("{source}") and label[:1].islower():
            label = label[0].upper() + label[1:]
        text, at = fill(template, source=label, **values)
        return [Piece(text, None, [(at[0], at[1], i, role, None)] if at else [])]

    def _act(self, kind: str, detail: str, i: int | None, span: tuple[int, int] | None = None) -> None:
        url = self.sources[i].url if i is not None else None
        self.actions.append(Action(kind=kind, detail=detail, source_url=url, span=span))

    def _cited(self, i: int) -> None:
        if i not in self.cited_order:
            self.cited_order.append(i)

    # --- the run -------------------------------------------------------------------

    def write(
        self,
        units: list[Unit],
        sentences: list[SentenceMatches],
        decisions: list[Decision],
        *,
        in_place: bool,
    ) -> Assembled:
        groups: dict[int, list[tuple[Unit, SentenceMatches, Decision]]] = {}
        nodes: dict[int, Node] = {}
        self.supporters = {id(u): tuple(m.source for m in s.supporters) for u, s in zip(units, sentences, strict=True)}
        for u, s, d in zip(units, sentences, decisions, strict=True):
            groups.setdefault(id(u.node), []).append((u, s, d))
            nodes[id(u.node)] = u.node
        for key, items in sorted(groups.items(), key=lambda kv: kv[1][0][0].start):
            node = nodes[key]
            if items[0][0].code:
                self._code(node, *items[0])
            else:
                self._prose(node, items, in_place)
        for node in effective_removals(self.doc.roots):
            self.edits.append(removal_edit(self.doc, node))
        for lst in self._ordered_lists(self.doc.roots):
            self.edits.extend(renumber_edits(self.doc, lst))
        self._notes()
        out = Assembled(self.doc.text, self.edits)
        for a, b, i, role, s_span in self.unit_cites:
            out.cite_answer_span(a, b, i, role, s_span)
        self.expected = self._expected()
        return out

    def _ordered_lists(self, roots: list[Node]) -> list[Node]:
        found: list[Node] = []
        stack = list(roots)
        while stack:
            n = stack.pop()
            if n.removed:
                continue
            if n.type == "ordered_list":
                found.append(n)
            stack.extend(n.children)
        return found

    # --- prose -----------------------------------------------------------------------

    def _prose(self, node: Node, items: list[tuple[Unit, SentenceMatches, Decision]], in_place: bool) -> None:
        mappable = node.pieces is not None
        inline = mappable and node.type == "paragraph" and self.phrases is not None
        built: list[tuple[Unit, Decision, list[Piece], list[Piece], int]] = []
        changed = False
        for u, s, d in items:
            prefix: list[Piece] = []
            suffix: list[Piece] = []
            cut = u.ce
            if d.remove:
                changed = True
                built.append((u, d, prefix, suffix, cut))
                continue
            if d.attribute and inline:
                prefix, suffix, cut = self._phrase(node, u, s)
                changed = changed or bool(prefix or suffix)
            if d.cite:
                end = node.to_answer(cut - 1) + 1 if mappable and cut > u.cs else u.end
                for m in s.supporters[:3]:
                    src = self.sources[m.source]
                    span = src.index.char_span(*m.region) if m.region is not None else None
                    self.unit_cites.append((u.start, end, m.source, "support", span))
                    self._cited(m.source)
            built.append((u, d, prefix, suffix, cut))
        if not changed:
            return
        if not mappable:
            if all(d.remove for _, d, *_ in built):
                node.removed = True
            return
        pointed = in_place and self.phrases is not None and any(d.pointer for _, d, *_ in built)
        if all(d.remove for _, d, *_ in built) and node.type == "paragraph" and not pointed:
            node.removed = True
            return
        self._rebuild(node, built, in_place)

    def _phrase(self, node: Node, u: Unit, s: SentenceMatches) -> tuple[list[Piece], list[Piece], int]:
        """Prefix or suffix naming the primary supporter, on its first mention."""
        assert self.phrases is not None
        primary = s.supporters[0].source
        text = self.doc.text[u.start : u.end].casefold()
        src = self.sources[primary]
        if primary in self.named or source_name(src).casefold() in text:
            return [], [], u.ce
        self.named.add(primary)
        ph = self.phrases
        when = self._date(primary) if self.kind is QueryKind.RAPIDLY_EVOLVING else None
        use_suffix = (
            self.kind is QueryKind.QUICK_FACT
            or node.in_container("list_item", "blockquote")
            or not (ph.as_of_prefix if when else ph.according_prefix)
        )
        label = self.label(primary)
        detail = f"added in-text attribution to {source_name(src)} with a link"
        if self.kind is QueryKind.QUICK_FACT:
            detail = f"quick fact answered directly with attribution to {source_name(src)}"
        self._act("attribute", detail, primary, (u.start, u.end))
        if use_suffix:
            tpl = ph.as_of_suffix if when else ph.according_suffix
            cut = suffix_cut(node.content, u.cs, u.ce)
            return [], [Piece(fill(tpl, source=label, date=when or "")[0])], cut
        tpl = ph.as_of_prefix if when else ph.according_prefix
        return [Piece(fill(tpl, source=label, date=when or "")[0])], [], u.ce

    def _rebuild(self, node: Node, built: list[tuple[Unit, Decision, list[Piece], list[Piece], int]], in_place: bool) -> None:
        content = node.content
        pieces: list[Piece] = []
        prev_end: int | None = None
        supporters = self.supporters
        for u, d, prefix, suffix, cut in built:
            if d.remove:
                prev_end = None
                if in_place and d.pointer and self.phrases is not None:
                    i = self._pointer_source(u)
                    if i is not None:
                        if pieces:
                            pieces.append(Piece(" "))
                        pieces.extend(self._sentence(self.phrases.read_full, i))
                        self.pointer_needed.pop(i, None)
                        self._cited(i)
                continue
            if pieces:
                gap = content[prev_end : u.cs] if prev_end is not None else "\n"
                pieces.append(Piece(gap, node.to_answer(prev_end)) if prev_end is not None and "\n" not in gap else Piece(" "))
            pieces.extend(prefix)
            body = self._segments(node, u.cs, cut)
            if prefix and body and body[0].origin is not None and self._lower_ok(body[0].text, u, supporters.get(id(u), ())):
                body[0] = Piece(body[0].text[0].lower() + body[0].text[1:], body[0].origin)
            pieces.extend(body)
            if suffix:
                pieces.extend(suffix)
                pieces.extend(self._segments(node, cut, u.ce))
            prev_end = u.ce
        if node.type == "paragraph" and pieces and not in_place and not is_single_paragraph("".join(p.text for p in pieces)):
            node.removed = True  # what is left would not read as one paragraph: drop it whole
            return
        a = node.to_answer(0)
        b = node.to_answer(len(content) - 1) + 1
        self.edits.append(Edit(a, b, pieces))

    def _segments(self, node: Node, cs: int, ce: int) -> list[Piece]:
        out: list[Piece] = []
        for a, b in node.segments(cs, ce):
            if out:
                out.append(Piece(" "))
            out.append(Piece(self.doc.text[a:b], a))
        return out

    def _lower_ok(self, first: str, u: Unit, cited: tuple[int, ...]) -> bool:
        """Lowercase the first word after an inserted prefix ("The" -> "the"; names stay).

        Yes for the language's common openers, and for words the supporting
        sources also write in lower case ("Despite" -> "despite", "Harold" stays).
        """
        word = first.split(maxsplit=1)[0] if first.split() else ""
        w = "".join(ch for ch in word if ch.isalnum())
        if not w or not w[0].isupper() or (len(w) > 1 and w.isupper()) or len(w[0].lower()) != 1:
            return False
        if not first[:1].isalpha():
            return False
        assert self.phrases is not None
        if w.lower() in self.phrases.lower_openers:
            return True
        needle = f" {w.lower()} "
        return any(needle in self.sources[i].text for i in cited)

    def _pointer_source(self, u: Unit) -> int | None:
        for i, why in self.pointer_needed.items():
            if why:
                return i
        return None

    # --- code ------------------------------------------------------------------------

    def _code(self, node: Node, u: Unit, s: SentenceMatches, d: Decision) -> None:
        top = node.top
        if d.remove:
            copied = s.copies[0][0].source if s.copies else None
            if copied is None or d.pointer is None:
                node.removed = True
                return
            body = self._sentence(self.phrases.code_removed, copied) if self.phrases else self._label_only(copied)
            self._cited(copied)
            if node.parent is None:
                a, b = self.doc.span(node)
                first, end = node.lines or (0, 0)
                lead = "\n" if first > 0 and not self.doc.line_blank(first - 1) else ""
                if b >= len(self.doc.text):
                    trail = "\n" if self.doc.text.endswith(("\n", "\r")) else ""
                else:
                    trail = "\n" if self.doc.line_blank(end) else "\n\n"
                self.edits.append(Edit(a, b, [Piece(lead), *body, Piece(trail)]))
                self.replaced.add(node.first)
            else:
                node.removed = True
                self._insert_after(top, body)
            return
        if not d.attribute or not s.supporters:
            return
        m = s.supporters[0]
        i = m.source
        src = self.sources[i]
        span = src.index.char_span(*m.region) if m.region is not None else None
        if self.phrases is not None:
            text, at = fill(self.phrases.code_credit, source=self.label(i))
            licence = src.license or src.links.license
            if licence:
                text += fill(self.phrases.code_licence, license=escape_md(licence))[0]
            body = [Piece(text, None, [(at[0], at[1], i, "support", span)] if at else [])]
        else:
            label = self.label(i)
            body = [Piece(label, None, [(0, len(label), i, "support", span)])]
        self._insert_after(top, body)
        self._act("attribute", f"credited the code block to {source_name(src)} in a line after it", i, (u.start, u.end))
        self._cited(i)

    def _label_only(self, i: int) -> list[Piece]:
        label = self.label(i)
        return [Piece(label, None, [(0, len(label), i, "pointer", None)])]

    def _insert_after(self, top: Node, body: list[Piece]) -> None:
        assert top.lines is not None
        at = self.doc.line_start(top.lines[1])
        self.edits.append(Edit(at, at, paragraph_pieces(self.doc, at, body)))
        self.after[top.first] = self.after.get(top.first, 0) + 1

    # --- closing notes ------------------------------------------------------------------

    def _notes(self) -> None:
        sentences: list[list[Piece]] = []
        ph = self.phrases
        if self.kind is QueryKind.CONTESTED and self.cited_order:
            target = next((i for i in self.cited_order if self.sources[i].links.discussion_url), self.cited_order[0])
            if ph is not None:
                sentences.append(self._sentence(ph.contested, target))
            self._act("point_to_source", f"contested topic: pointed to the full article, its sources and discussion at {source_name(self.sources[target])}", target)
            self.pointer_needed.pop(target, None)
            if ph is None:
                sentences.append(self._label_only(target))
        if self.kind is QueryKind.RAPIDLY_EVOLVING and ph is not None:
            for i in list(self.cited_order):
                when = self._date(i)
                sentences.append(self._sentence(ph.last_updated if when else ph.no_date, i, date=when or ""))
                self._act("note_last_update", f"noted the last update of {source_name(self.sources[i])} ({when or 'unknown'}) and linked it for current information", i)
        for i, why in self.pointer_needed.items():
            if ph is None:
                sentences.append(self._label_only(i))
            elif why == "depth":
                sentences.append(self._sentence(ph.more_depth, i))
            else:
                sentences.append(self._sentence(ph.read_full, i))
            detail = (
                f"long-form work: pointed to the depth available at {source_name(self.sources[i])}"
                if why == "depth"
                else f"pointed to the full text at {source_name(self.sources[i])} instead of reproducing more of it"
            )
            self._act("point_to_source", detail, i)
            self._cited(i)
        if not sentences:
            return
        body: list[Piece] = []
        for k, s in enumerate(sentences):
            if k:
                body.append(Piece(" · " if ph is None else " "))
            body.extend(s)
        at = len(self.doc.text)
        self.edits.append(Edit(at, at, paragraph_pieces(self.doc, at, body)))
        self.notes = True

    # --- the structure the output must have ----------------------------------------------

    def _expected(self) -> list[tuple[str, int]]:
        tokens = self.doc.tokens
        skip: dict[int, int] = {}
        stack = list(self.doc.roots)
        while stack:
            n = stack.pop()
            if n.removed:
                skip[n.first] = n.last
                continue
            stack.extend(n.children)
        tops = {n.last: n.first for n in self.doc.roots}
        out: list[tuple[str, int]] = []
        i = 0
        while i < len(tokens):
            if i in skip:
                first = i
                i = skip[i] + 1
                if first in tops.values():
                    out.extend([("paragraph", 0)] * self.after.get(first, 0))
                continue
            t = tokens[i]
            if i in self.replaced:
                out.append(("paragraph", t.level))
            elif t.nesting == 1 or (t.nesting == 0 and t.type != "inline"):
                out.append((t.type.removesuffix("_open"), t.level))
            if i in tops:
                out.extend([("paragraph", 0)] * self.after.get(tops[i], 0))
            i += 1
        if self.notes:
            out.append(("paragraph", 0))
        return out
