"""Words and sentences with exact character offsets.

Attribution is only as good as its offsets: every citation points back into
the answer and into the source by character index, so tokens keep the span
they came from. Words are compared in a normalised form (NFKC, casefolded,
punctuation dropped) so that typography ("ﬁ", "Ｈａｓｔｉｎｇｓ", curly quotes)
does not hide a copy.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A word is a run of letters, digits or underscores (Unicode-aware). Apostrophes
# and hyphens split words: "Harold's" -> "harold", "s" in both answer and source.
WORD = re.compile(r"\w+")

# Short function words. A bigram made only of these ("of the") says nothing
# about which source a sentence came from, so it does not count as support.
STOPWORDS = frozenset(
    """
    a an the and or but if then so of to in on at by for from with without as is are was
    were be been being it its this that these those there their they them he she his her him
    we us our you your i me my not no nor do does did done has have had having will would
    can could should may might must shall into onto over under about after before than also
    which who whom whose what when where why how all any some such very more most other only
    own same s t
    """.split()  # noqa: SIM905 - a word list reads best as words
)


@lru_cache(maxsize=1 << 16)
def normalise_word(word: str) -> str:
    """NFKC then casefold: the comparison form of one word."""
    return unicodedata.normalize("NFKC", word).casefold()


def tokenize(text: str) -> tuple[list[str], list[int], list[int]]:
    """Normalised words of ``text`` and the start/end character offset of each.

    ASCII text (the common case) takes a fast path: lowercasing keeps every
    offset, so the regex runs once over the lowered text.
    """
    if text.isascii():
        found = list(WORD.finditer(text.lower()))
        words = [m.group() for m in found]
    else:
        found = list(WORD.finditer(text))
        words = [normalise_word(m.group()) for m in found]
    return words, [m.start() for m in found], [m.end() for m in found]


def words_of(text: str) -> list[str]:
    """The normalised words of ``text`` without offsets (the same words ``tokenize`` gives)."""
    if text.isascii():
        return WORD.findall(text.lower())
    return [normalise_word(w) for w in WORD.findall(text)]


def is_number(word: str) -> bool:
    return word.isdigit()


# Sentence ends: ., !, ?, … and CJK full stops, followed by optional closing
# quotes/brackets, then whitespace. Line breaks always end a unit (lists).
_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])[\"'”’)\]]*(?=\s)|\n")
_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof st jr sr vs etc e.g i.e cf al fig no vol approx ca c inc ltd co
    """.split()  # noqa: SIM905 - a word list reads best as words
)


def _ends_with_abbreviation(text: str, end: int) -> bool:
    """True if the '.' just before ``end`` closes an abbreviation or an initial ("J. R. R.")."""
    head = text[max(0, end - 32) : end].rstrip("\"'”’)]")  # an abbreviation is short
    if not head.endswith("."):
        return False
    word = head.rsplit(None, 1)[-1][:-1].lstrip("\"'“‘([").lower()
    if not word or not word.replace(".", "").isalnum():
        return False
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _split_prose(text: str, lo: int, hi: int, out: list[tuple[int, int]]) -> None:
    start = lo
    for m in _SENTENCE_END.finditer(text, lo, hi):
        end = m.end()
        if m.group() != "\n" and _ends_with_abbreviation(text, end):
            continue
        _push(text, start, end, out)
        start = end
    _push(text, start, hi, out)


def _push(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        out.append((start, end))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``, whitespace trimmed.

    A fenced code block (``` or ~~~) is one unit, so a copied snippet is judged
    as a whole; list items and lines are units of their own.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for fence in _FENCE.finditer(text):
        _split_prose(text, pos, fence.start(), spans)
        _push(text, fence.start(), fence.end(), spans)
        pos = fence.end()
    _split_prose(text, pos, len(text), spans)
    return spans


def is_code_block(sentence: str) -> bool:
    return sentence.lstrip().startswith(("```", "~~~"))
