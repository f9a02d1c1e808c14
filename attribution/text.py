"""Words with exact character offsets.

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
