"""The units the shaper decides on: whole sentences of prose blocks, and whole code blocks.

A sentence boundary never falls inside inline code, a link or an inline HTML
tag, and a unit never leaves emphasis or quotation marks open: sentences are
merged until they are self-contained, so keeping or removing a unit cannot
unbalance the Markdown around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from attribution.blocks import Document, Node
from attribution.segment import sentence_spans

# Inline constructs a sentence boundary must not cut: code spans, links/images, autolinks and tags.
_PROTECTED = re.compile(r"(`+)(?:(?!\1)[\s\S])*?\1|!?\[[^\]\n]*\]\([^)\n]*\)|<[^<>\n]+>")


@dataclass(slots=True, eq=False)
class Unit:
    """A sentence (or run of sentences) of a prose block, or a whole code block.

    ``start``/``end`` are the answer characters it covers (for matching and
    actions); ``cs``/``ce`` the same range in the block's content (prose only).
    """

    node: Node
    start: int
    end: int
    cs: int = 0
    ce: int = 0
    code: bool = False


_MARKUP = frozenset("`*_~“”„\"«»[]()")
_UNDER_DOUBLE = re.compile(r"(?<!\w)__|__(?!\w)")
_UNDER_SINGLE = re.compile(r"(?<![\w_])_(?!_)|(?<!_)_(?![\w_])")


def _balanced(text: str) -> bool:
    if _MARKUP.isdisjoint(text):
        return True
    if text.count("`") % 2:
        return False
    strong = text.count("**")
    single = text.replace("**", "").count("*")
    double_u = len(_UNDER_DOUBLE.findall(text)) if "_" in text else 0
    single_u = len(_UNDER_SINGLE.findall(text.replace("__", ""))) if "_" in text else 0
    quotes = text.count("“") + text.count("”") + text.count("„")
    return not (
        strong % 2
        or single % 2
        or double_u % 2
        or single_u % 2
        or text.count("~~") % 2
        or quotes % 2
        or text.count('"') % 2
        or text.count("«") != text.count("»")
        or text.count("[") != text.count("]")
        or text.count("(") != text.count(")")
    )


def prose_units(node: Node, lang: str) -> list[tuple[int, int]]:
    """Content spans of the units of one paragraph or cell."""
    content = node.content
    spans = sentence_spans(content, lang)
    if len(spans) <= 1:
        return spans
    protected = [(m.start(), m.end()) for m in _PROTECTED.finditer(content)]
    merged: list[list[int]] = []
    k = 0
    for s, e in spans:
        if merged:
            prev = merged[-1]
            while k < len(protected) and protected[k][1] <= prev[1]:
                k += 1
            cuts = k < len(protected) and protected[k][0] < prev[1] < protected[k][1]
            if cuts or not _balanced(content[prev[0] : prev[1]]):
                prev[1] = e
                continue
        merged.append([s, e])
    return [(s, e) for s, e in merged]


def build_units(doc: Document, lang: str) -> list[Unit]:
    """Every unit of the answer in document order."""
    units: list[Unit] = []
    for node in doc.prose:
        if node.type == "th":  # a column header names, it does not claim
            continue
        if node.pieces is None:
            if node.lines is None or node.type != "paragraph":
                continue
            a, b = doc.span(node)
            text = doc.text[a:b]
            a += len(text) - len(text.lstrip())
            b -= len(text) - len(text.rstrip())
            if a < b:
                units.append(Unit(node, a, b, 0, len(node.content)))
            continue
        for cs, ce in prose_units(node, lang):
            units.append(Unit(node, node.to_answer(cs), node.to_answer(ce - 1) + 1, cs, ce))
    for node in doc.code:
        a, b = doc.code_span(node)
        if a < b:
            units.append(Unit(node, a, b, code=True))
    units.sort(key=lambda u: u.start)
    return units
