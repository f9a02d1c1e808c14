"""Per-source word index: built once per source, reused by every answer.

The index maps each pair of consecutive normalised words (a 2-word shingle)
to the positions where it starts. Pairs are the smallest unit that still
carries word order; longer verbatim runs are chains of pairs at consecutive
positions, so one index answers both "does this source support the
sentence?" and "how long is the longest copied run?". Building it is linear
in the source's words; looking a sentence up is linear in the sentence.
Character offsets of the words are only needed for the few words a citation
points at, so they are computed on first use.
"""

from __future__ import annotations

import itertools

from attribution.text import tokenize, words_of

Bigram = tuple[str, str]


class SourceIndex:
    """Normalised words of one source text, their pair positions and (lazily) their offsets."""

    __slots__ = ("_ends", "_numbers", "_starts", "bigrams", "text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        self.words = words = words_of(text)
        self._starts: list[int] | None = None
        self._ends: list[int] | None = None
        self._numbers: dict[str, list[int]] | None = None
        bigrams: dict[Bigram, list[int]] = {}
        add = bigrams.setdefault
        for i, pair in enumerate(itertools.pairwise(words)):
            add(pair, []).append(i)
        self.bigrams = bigrams

    def __len__(self) -> int:
        return len(self.words)

    def _offsets(self) -> tuple[list[int], list[int]]:
        if self._starts is None or self._ends is None:
            words, self._starts, self._ends = tokenize(self.text)
            assert words == self.words  # one tokenizer, two passes: they must agree
        return self._starts, self._ends

    @property
    def number_positions(self) -> dict[str, list[int]]:
        """Positions of every number word (built on first use: only short facts need it)."""
        if self._numbers is None:
            found: dict[str, list[int]] = {}
            for i, w in enumerate(self.words):
                if w.isdigit():
                    found.setdefault(w, []).append(i)
            self._numbers = found
        return self._numbers

    @property
    def starts(self) -> list[int]:
        return self._offsets()[0]

    @property
    def ends(self) -> list[int]:
        return self._offsets()[1]

    def char_span(self, first: int, last: int) -> tuple[int, int]:
        """Character span of the words ``first..last`` (inclusive) in the source text."""
        starts, ends = self._offsets()
        return starts[first], ends[last]
