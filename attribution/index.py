"""Per-source word index: built once per source, reused by every answer.

The index maps each pair of consecutive normalised words (a 2-word shingle)
to the positions where it starts. Pairs are the smallest unit that still
carries word order; longer verbatim runs are chains of pairs at consecutive
positions, so one index answers both "does this source support the
sentence?" and "how long is the longest copied run?". Building it is linear
in the source's words; looking a sentence up is linear in the sentence.
"""

from __future__ import annotations

import itertools

from attribution.text import tokenize

Bigram = tuple[str, str]


class SourceIndex:
    """Normalised words of one source text, their offsets and their pair positions."""

    __slots__ = ("bigrams", "ends", "starts", "text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        self.words, self.starts, self.ends = tokenize(text)
        words = self.words
        bigrams: dict[Bigram, list[int]] = {}
        get = bigrams.get
        for i, pair in enumerate(itertools.pairwise(words)):
            found = get(pair)
            if found is None:
                bigrams[pair] = [i]
            else:
                found.append(i)
        self.bigrams = bigrams

    def __len__(self) -> int:
        return len(self.words)

    def char_span(self, first: int, last: int) -> tuple[int, int]:
        """Character span of the words ``first..last`` (inclusive) in the source text."""
        return self.starts[first], self.ends[last]
