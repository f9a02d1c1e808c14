"""The answer as CommonMark blocks (markdown-it-py), each mapped back to its exact characters.

Shaping edits prose block by block and never touches code, so it needs, for
every paragraph and table cell, the inline text *and* where each of its
characters sits in the answer (list markers, ``>`` prefixes and indentation
sit in between). markdown-it gives line ranges (``token.map``) and the inline
text of each block; each content line is located inside its source line and
checked character for character. A block that cannot be mapped exactly
(tabs expanded inside a container, NUL bytes) is treated as one unit that
can only be kept or removed whole.

Only the block rules run (the inline rule is disabled): block structure is
all the shaper needs, and it keeps parsing at a few microseconds per line.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

_EOL = re.compile(r"\r\n|\r|\n")
CONTAINERS = frozenset({"bullet_list", "ordered_list", "list_item", "blockquote"})


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable("table")
    md.disable(["inline", "text_join"], ignoreInvalid=True)
    return md


def parse(text: str) -> list[Token]:
    return _parser().parse(text)


def signature(text: str) -> list[tuple[str, int]]:
    """The block structure of ``text``: (block type, nesting level) in document order."""
    return block_signature(parse(text))


def is_single_paragraph(text: str) -> bool:
    """Does ``text`` on its own read as exactly one paragraph (no heading, list or quote start)?"""
    if text[:1].isalpha() and "\n" not in text and "\r" not in text:
        return True  # one line that starts with a letter can start no other block
    types = [t.type for t in parse(text)]
    return types == ["paragraph_open", "inline", "paragraph_close"]


def block_signature(tokens: list[Token]) -> list[tuple[str, int]]:
    return [
        (t.type.removesuffix("_open"), t.level)
        for t in tokens
        if t.nesting == 1 or (t.nesting == 0 and t.type != "inline")
    ]


@dataclass(slots=True, eq=False)
class Node:
    """One block: its type, line range, parent, children and (for prose and code) its text."""

    type: str
    token: Token
    first: int  # index of the opening token
    last: int  # index of the closing token (== first for leaves)
    lines: tuple[int, int] | None
    parent: Node | None
    children: list[Node] = field(default_factory=list)
    content: str = ""
    # content index -> answer index, per content line: (content start, answer start, length)
    pieces: list[tuple[int, int, int]] | None = None
    removed: bool = False

    @property
    def top(self) -> Node:
        node = self
        while node.parent is not None:
            node = node.parent
        return node

    def in_container(self, *types: str) -> bool:
        node = self.parent
        while node is not None:
            if node.type in types:
                return True
            node = node.parent
        return False

    def to_answer(self, i: int) -> int:
        """Answer offset of content character ``i`` (``pieces`` must be set)."""
        pieces = self.pieces
        assert pieces is not None
        if len(pieces) == 1:  # a one-line paragraph or a table cell
            c0, a0, _ = pieces[0]
        else:
            k = bisect_right([p[0] for p in pieces], i) - 1
            c0, a0, _ = pieces[max(k, 0)]
        return a0 + (i - c0)

    def segments(self, cs: int, ce: int) -> list[tuple[int, int]]:
        """Answer spans of the content range ``cs..ce``, one per content line it touches."""
        assert self.pieces is not None
        out = []
        for c0, a0, n in self.pieces:
            lo, hi = max(cs, c0), min(ce, c0 + n)
            if lo < hi:
                out.append((a0 + lo - c0, a0 + hi - c0))
        return out


class Document:
    """The parsed answer: tokens, the block tree, and line offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = parse(text)
        starts = [0] + [m.end() for m in _EOL.finditer(text)]
        self.line_starts = starts
        self.roots: list[Node] = []
        self.prose: list[Node] = []  # paragraphs and table cells, in order
        self.code: list[Node] = []
        self.headings: list[str] = []
        self._build()

    # --- lines -------------------------------------------------------------

    def line_start(self, line: int) -> int:
        return self.line_starts[line] if line < len(self.line_starts) else len(self.text)

    def line_text(self, line: int) -> str:
        """The line without its line break."""
        start = self.line_start(line)
        end = self.line_start(line + 1)
        return self.text[start:end].rstrip("\r\n")

    def line_blank(self, line: int) -> bool:
        return line < len(self.line_starts) and not self.line_text(line).strip()

    def span(self, node: Node) -> tuple[int, int]:
        """Character span of the node's lines (line breaks included)."""
        assert node.lines is not None
        return self.line_start(node.lines[0]), self.line_start(node.lines[1])

    # --- tree ----------------------------------------------------------------

    def _build(self) -> None:
        stack: list[Node] = []
        row_line: int | None = None
        for i, tok in enumerate(self.tokens):
            parent = stack[-1] if stack else None
            if tok.type == "tr_open" and tok.map:
                row_line = tok.map[0]
            if tok.nesting == 1:
                node = Node(tok.type.removesuffix("_open"), tok, i, i, _map(tok), parent)
                (parent.children if parent else self.roots).append(node)
                stack.append(node)
            elif tok.nesting == -1:
                if stack:
                    stack.pop().last = i
            elif tok.type == "inline":
                if parent is None:
                    continue
                parent.content = tok.content
                if parent.type == "heading":
                    self.headings.append(tok.content)
                elif parent.type == "paragraph":
                    parent.pieces = self._map_paragraph(parent)
                    self.prose.append(parent)
                elif parent.type in ("td", "th") and row_line is not None:
                    parent.lines = (row_line, row_line + 1)
                    self.prose.append(parent)
            else:
                node = Node(tok.type, tok, i, i, _map(tok), parent)
                (parent.children if parent else self.roots).append(node)
                if tok.type in ("fence", "code_block") and tok.content:
                    node.content = tok.content
                    self.code.append(node)
        self._map_cells()

    def _map_paragraph(self, node: Node) -> list[tuple[int, int, int]] | None:
        if node.lines is None:
            return None
        first, end = node.lines
        content_lines = node.content.split("\n")
        if len(content_lines) != end - first:
            return None
        pieces = []
        offset = 0
        for k, chunk in enumerate(content_lines):
            line = self.line_text(first + k)
            at = line.rfind(chunk) if chunk else len(line.rstrip())
            if at < 0 or line[at + len(chunk) :].strip():
                return None
            pieces.append((offset, self.line_start(first + k) + at, len(chunk)))
            offset += len(chunk) + 1
        return pieces

    def _map_cells(self) -> None:
        """Locate each table cell's text in its row, left to right."""
        cursor: dict[int, int] = {}
        for node in self.prose:
            if node.type not in ("td", "th") or node.lines is None:
                continue
            line_no = node.lines[0]
            line = self.line_text(line_no)
            pos = cursor.get(line_no, 0)
            if not node.content:
                continue
            at = line.find(node.content, pos)
            if at < 0:
                continue
            cursor[line_no] = at + len(node.content)
            node.pieces = [(0, self.line_start(line_no) + at, len(node.content))]

    def code_span(self, node: Node) -> tuple[int, int]:
        """The characters of a code block's code (fences and indentation prefixes excluded)."""
        assert node.lines is not None
        first = node.lines[0] + (1 if node.type == "fence" else 0)
        count = node.content.count("\n") or 1
        start = self.line_start(first)
        end_line = first + count - 1
        end = self.line_start(end_line) + len(self.line_text(end_line))
        return start, max(start, end)


def _map(tok: Token) -> tuple[int, int] | None:
    return (tok.map[0], tok.map[1]) if tok.map else None
