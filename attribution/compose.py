"""Assembling the shaped text from the answer and a set of edits, with exact offsets.

An edit replaces a range of the answer with pieces. A piece is either copied
from the answer (it knows its answer offset, and has the same length - a
lowercased first letter or a line break turned into a space keep the
length) or inserted (a template sentence, a source name). Citations on
copied text are given in answer coordinates and translated after assembly;
citations on inserted text (the source name in "Read the full text at X")
are given relative to their piece. So every offset is exact by
construction, and the inserted spans are known: everything else in the
output came from the answer.

Block-level edits (``remove_node``, ``insert_paragraph``, ``renumber``) keep
the Markdown valid: a removed list item takes its lines, a removed
top-level paragraph one blank line with it, ordered lists are renumbered,
and an inserted paragraph is separated by blank lines.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from attribution.blocks import Document, Node

Role = str


@dataclass(slots=True)
class Piece:
    text: str
    origin: int | None = None  # answer offset of text[0] when copied from the answer
    # Citations inside an inserted piece: (start, end, source, role, source span), relative to the piece.
    cites: list[tuple[int, int, int, Role, tuple[int, int] | None]] = field(default_factory=list)


@dataclass(slots=True)
class Edit:
    start: int
    end: int
    pieces: list[Piece]


@dataclass(slots=True)
class Cite:
    """A citation in output coordinates."""

    start: int
    end: int
    source: int
    role: Role
    source_span: tuple[int, int] | None


class Assembled:
    """The output text, its citations and the spans that were inserted."""

    def __init__(self, answer: str, edits: list[Edit]) -> None:
        pieces: list[Piece] = []
        pos = 0
        for e in sorted(edits, key=lambda e: (e.start, e.end)):
            if e.start < pos and e.end > e.start:  # inside an earlier edit (a removed block): skip
                continue
            if e.start > pos:
                pieces.append(Piece(answer[pos : e.start], pos))
            pieces.extend(p for p in e.pieces if p.text)
            pos = max(pos, e.end)
        if pos < len(answer):
            pieces.append(Piece(answer[pos:], pos))
        out: list[str] = []
        length = 0
        self.cites: list[Cite] = []
        self.inserted: list[tuple[int, int]] = []
        self._origins: list[int] = []
        self._outs: list[int] = []
        self._lens: list[int] = []
        for p in pieces:
            if p.origin is not None:
                self._origins.append(p.origin)
                self._outs.append(length)
                self._lens.append(len(p.text))
            elif p.text.strip():
                self.inserted.append((length, length + len(p.text)))
            for a, b, source, role, s_span in p.cites:
                self.cites.append(Cite(length + a, length + b, source, role, s_span))
            out.append(p.text)
            length += len(p.text)
        self.text = "".join(out)
        order = sorted(range(len(self._origins)), key=lambda i: self._origins[i])
        self._origins = [self._origins[i] for i in order]
        self._outs = [self._outs[i] for i in order]
        self._lens = [self._lens[i] for i in order]

    def locate(self, answer_offset: int) -> int | None:
        """Output offset of an answer character that was copied, else None."""
        k = bisect_right(self._origins, answer_offset) - 1
        if k < 0 or answer_offset >= self._origins[k] + self._lens[k]:
            return None
        return self._outs[k] + answer_offset - self._origins[k]

    def cite_answer_span(
        self, start: int, end: int, source: int, role: Role, source_span: tuple[int, int] | None
    ) -> None:
        a = self.locate(start)
        b = self.locate(end - 1)
        if a is not None and b is not None and b + 1 > a:
            self.cites.append(Cite(a, b + 1, source, role, source_span))


# --- block-level edits ---------------------------------------------------------


def effective_removals(roots: list[Node]) -> list[Node]:
    """The outermost removed nodes after propagation.

    A list item goes when its first block goes (its marker is on that
    block's line); a list or block quote goes when all its children go.
    """

    def walk(node: Node) -> bool:
        if not node.children:
            return node.removed
        results = [walk(c) for c in node.children]
        if node.type == "list_item":
            node.removed = node.removed or results[0] or all(results)
        elif node.type in ("bullet_list", "ordered_list", "blockquote"):
            node.removed = node.removed or all(results)
        return node.removed

    out: list[Node] = []

    def collect(node: Node) -> None:
        if node.removed:
            out.append(node)
            return
        for c in node.children:
            collect(c)

    for r in roots:
        walk(r)
        collect(r)
    return out


def removal_edit(doc: Document, node: Node) -> Edit:
    """Remove a node's lines; a top-level block takes one adjacent blank line with it."""
    assert node.lines is not None
    first, end = node.lines
    # A list item's lines can end with the blank line after it: that line stays,
    # or what follows would run into the list.
    while end - 1 > first and doc.line_blank(end - 1):
        end -= 1
    if node.parent is None:
        if doc.line_blank(end):
            end += 1
        elif first > 0 and doc.line_blank(first - 1):
            first -= 1
    return Edit(doc.line_start(first), doc.line_start(end), [])


_MARKER = re.compile(r"^([ \t>]*)(\d{1,9})([.)])")


def renumber_edits(doc: Document, lst: Node) -> list[Edit]:
    """Renumber an ordered list whose items were partly removed (same digit count only)."""
    items = [c for c in lst.children if c.type == "list_item"]
    if not any(c.removed for c in items) or all(c.removed for c in items):
        return []
    try:
        number = int(items[0].token.info or "1")
    except ValueError:
        return []
    edits = []
    for item in items:
        if item.removed or item.lines is None:
            continue
        line = doc.line_text(item.lines[0])
        m = _MARKER.match(line)
        if m and len(str(number)) == len(m.group(2)) and int(m.group(2)) != number:
            at = doc.line_start(item.lines[0]) + m.start(2)
            edits.append(Edit(at, at + len(m.group(2)), [Piece(str(number))]))
        number += 1
    return edits


def paragraph_pieces(doc: Document, at: int, body: list[Piece]) -> list[Piece]:
    """Pieces that add ``body`` as a paragraph of its own at line boundary ``at``."""
    text = doc.text
    if at >= len(text):
        lead = "" if not text else ("\n" if text.endswith(("\n", "\r")) else "\n\n")
        return [Piece(lead), *body, Piece("\n" if text.endswith(("\n", "\r")) else "")]
    line = doc.line_starts.index(at) if at in doc.line_starts else None
    lead = "\n" if at > 0 and not (line and doc.line_blank(line - 1)) else ""
    trail = "\n" if line is not None and doc.line_blank(line) else "\n\n"
    return [Piece(lead), *body, Piece(trail)]
