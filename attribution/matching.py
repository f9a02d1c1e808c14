"""Which sources support a sentence, and which words were copied from them.

Method (documented in docs/ai-teams.md):

* Words are normalised (NFKC, casefold, punctuation dropped); a sentence is
  read as its consecutive word pairs. Pairs made only of function words ("of
  the") are uninformative and ignored for support.
* **Support**: the share of the sentence's informative pairs found in a
  source (token-pair containment, Broder's ``c(A, B)`` with 2-word
  shingles). A source supports the sentence when that share reaches
  ``Policy.support_threshold`` (0.5 by default).
* **Conflict**: a source that matches the sentence's wording but, near the
  matching region, gives different numbers than the sentence (1067 for 1066)
  contradicts it rather than supporting it.
* **Verbatim runs**: chains of pairs found at consecutive positions in both
  texts; a run of at least ``min_run_words`` words is a quote. This is
  exact longest-common-run detection, not an estimate.

Every lookup goes through the source's pair index, so the cost is linear in
the answer's words times the number of sources, plus building each source's
index once (linear in its words).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from attribution.index import SourceIndex
from attribution.text import STOPWORDS

# Positions looked at per pair when locating the matching region: a very
# frequent pair adds nothing to the location but would cost time.
_REGION_CAP = 64


@dataclass(slots=True)
class Run:
    """A verbatim run: answer words ``a_first..a_last`` equal source words ``s_first..s_last``."""

    a_first: int
    a_last: int
    s_first: int
    s_last: int

    @property
    def words(self) -> int:
        return self.a_last - self.a_first + 1


@dataclass(slots=True)
class Match:
    """How one source relates to one sentence."""

    source: int
    score: float
    region: tuple[int, int] | None
    conflict: bool = False
    runs: list[Run] = field(default_factory=list)


def informative_pairs(words: list[str]) -> int:
    return sum(1 for a, b in itertools.pairwise(words) if not (a in STOPWORDS and b in STOPWORDS))


def match_sentence(
    words: list[str],
    offset: int,
    index: SourceIndex,
    source: int,
    *,
    min_run_words: int,
    numbers: frozenset[str],
) -> Match | None:
    """Compare a sentence (normalised ``words`` starting at answer word ``offset``) with one source.

    Returns ``None`` when the source shares no pair with the sentence.
    """
    n = len(words)
    if n < 2 or not index.words:
        return None
    bigrams = index.bigrams
    informative = 0
    matched = 0
    votes: dict[int, int] = {}
    anchors: list[tuple[int, int]] = []
    runs: list[Run] = []
    prev: dict[int, int] = {}
    for i in range(n - 1):
        a, b = words[i], words[i + 1]
        useful = not (a in STOPWORDS and b in STOPWORDS)
        if useful:
            informative += 1
        positions = bigrams.get((a, b))
        cur: dict[int, int] = {}
        if positions:
            if useful:
                matched += 1
                # Vote for where the sentence sits in the source (position - word index).
                for p in positions[:_REGION_CAP]:
                    bucket = (p - i) // max(n, 8)
                    votes[bucket] = votes.get(bucket, 0) + 1
                    anchors.append((p, p - i))
            get = prev.get
            for p in positions:
                cur[p] = get(p - 1, 0) + 1
        for p, length in prev.items():
            if p + 1 not in cur and length + 1 >= min_run_words:
                runs.append(Run(offset + i - length, offset + i, p - length + 1, p + 1))
        prev = cur
    for p, length in prev.items():
        if length + 1 >= min_run_words:
            last = n - 1
            runs.append(Run(offset + last - length, offset + last, p - length + 1, p + 1))
    if matched == 0 and not runs:
        return None
    score = matched / informative if informative else 0.0
    region = None
    if votes:
        # The sentence's location in the source: the alignment offset (source
        # position - sentence position) most pairs agree on, give or take half
        # a sentence for inserted or dropped words.
        width = max(n, 8)
        best = max(votes, key=lambda k: (votes[k], -k))
        offsets = sorted(d for _, d in anchors if d // width == best)
        centre = offsets[len(offsets) // 2]
        near = [p for p, d in anchors if abs(d - centre) <= n // 2 + 2]
        region = (min(near), min(max(near) + 1, len(index.words) - 1))
    conflict = False
    if numbers and region is not None:
        conflict = _numbers_conflict(numbers, index.words, region, n)
    return Match(source, score, region, conflict, _best_runs(runs))


def _numbers_conflict(
    numbers: frozenset[str], words: list[str], region: tuple[int, int], n: int
) -> bool:
    """True if, near the region, the source gives a different number of the same length.

    "1067" in the sentence against "1066" in the source conflicts; a "14"
    against a source that only mentions "25 September" does not compare
    like with like (different digit counts) and is left alone, as are numbers
    the source simply does not mention.
    """
    lo = max(0, region[0] - n)
    hi = min(len(words), region[1] + n + 1)
    nearby = {w for w in words[lo:hi] if w.isdigit()}
    for number in numbers - nearby:
        if any(len(other) == len(number) and other not in numbers for other in nearby):
            return True
    return False


def _best_runs(runs: list[Run]) -> list[Run]:
    """Longest non-overlapping runs (in answer words), in answer order."""
    if len(runs) <= 1:
        return runs
    kept: list[Run] = []
    for run in sorted(runs, key=lambda r: (-r.words, r.a_first, r.s_first)):
        if all(run.a_last < k.a_first or run.a_first > k.a_last for k in kept):
            kept.append(run)
    return sorted(kept, key=lambda r: r.a_first)
