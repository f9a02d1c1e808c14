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
from bisect import bisect_left
from dataclasses import dataclass, field

from attribution.index import SourceIndex
from attribution.text import STOPWORDS

# Positions looked at per pair when locating the matching region: a very
# frequent pair adds nothing to the location but would cost time.
_REGION_CAP = 8
# Open chains followed per pair when looking for verbatim runs (see ``_chain``).
_CHAIN_CAP = 4


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


class Sentence:
    """A sentence prepared once for comparison with every source: its word pairs and their weight."""

    __slots__ = ("informative", "n", "numbers", "offset", "pairs", "useful", "words")

    def __init__(self, words: list[str], offset: int) -> None:
        self.words = words
        self.offset = offset
        self.n = len(words)
        self.pairs = list(itertools.pairwise(words))
        self.useful = [not (a in STOPWORDS and b in STOPWORDS) for a, b in self.pairs]
        self.informative = sum(self.useful)
        self.numbers = frozenset(w for w in words if w.isdigit())


def match_sentence(
    sent: Sentence,
    index: SourceIndex,
    source: int,
    *,
    min_run_words: int,
    threshold: float,
    check_numbers: bool = True,
) -> Match | None:
    """Compare a prepared sentence with one source.

    Returns ``None`` unless the source supports (or contradicts) the sentence
    at ``threshold`` or shares a verbatim run of ``min_run_words`` words with
    it: weaker overlap is ordinary shared vocabulary and costs no more work.
    """
    if sent.n < 2 or not index.words:
        return None
    get = index.bigrams.get
    return match_found(
        sent,
        [get(pair) for pair in sent.pairs],
        index,
        source,
        min_run_words=min_run_words,
        threshold=threshold,
        check_numbers=check_numbers,
    )


def match_found(
    sent: Sentence,
    found: list[list[int] | None],
    index: SourceIndex,
    source: int,
    *,
    min_run_words: int,
    threshold: float,
    check_numbers: bool = True,
) -> Match | None:
    """``match_sentence`` given the source positions of each of the sentence's pairs.

    Lets a caller look every pair of a whole answer up in one pass per source
    and hand each sentence its slice.
    """
    hits = len(found) - found.count(None)
    if not hits:
        return None
    # A run of m words needs m - 1 matched pairs, and support can be no higher
    # than the share of pairs found at all: most sources share a few common
    # pairs with a sentence and nothing more, and are dismissed here.
    can_run = hits >= min_run_words - 1
    if not can_run and (hits / sent.informative if sent.informative else 0.0) < threshold:
        return None
    useful = list(itertools.compress(found, sent.useful))
    matched = len(useful) - useful.count(None)
    runs = _runs(found, sent.offset, min_run_words) if can_run else []
    score = matched / sent.informative if sent.informative else 0.0
    if score < threshold and not runs:
        return None
    region = _region(found, sent.useful, sent.n, len(index.words)) if score >= threshold else None
    conflict = False
    if check_numbers and sent.numbers and region is not None:
        conflict = _numbers_conflict(sent.numbers, index.words, region, sent.n)
    return Match(source, score, region, conflict, _best_runs(runs))


def _runs(found: list[list[int] | None], offset: int, min_run_words: int) -> list[Run]:
    """Verbatim runs of at least ``min_run_words`` words.

    Only stretches of consecutive sentence pairs that all occur somewhere in
    the source can hold a run, so chaining positions is limited to those
    (rare outside real copies), keeping the common case one lookup per pair.
    """
    runs: list[Run] = []
    need = min_run_words - 1
    n = len(found)
    i = 0
    while i < n:
        if found[i] is None:
            i += 1
            continue
        j = i
        while j < n and found[j] is not None:
            j += 1
        if j - i >= need:
            _chain(found, i, j, offset, min_run_words, runs)
        i = j
    return runs


def _chain(
    found: list[list[int] | None],
    lo: int,
    hi: int,
    offset: int,
    min_run_words: int,
    runs: list[Run],
) -> None:
    """Runs inside the stretch of matched pairs ``lo..hi-1`` (positions at consecutive offsets).

    A pair that occurs more than ``_CHAIN_CAP`` times (repetitive text) only
    continues the chains already open (a binary search each), opening new
    ones (up to the cap) only when none continues, so the work per pair is bounded and repeated phrases
    cost O(n log n), not O(n^2).
    """
    prev: dict[int, int] = {}
    for i in range(lo, hi):
        positions = found[i] or []
        if len(positions) <= _CHAIN_CAP:
            get = prev.get
            cur = {p: get(p - 1, 0) + 1 for p in positions}
        else:
            cur = {}
            for p, length in prev.items():
                k = bisect_left(positions, p + 1)
                if k < len(positions) and positions[k] == p + 1:
                    cur[p + 1] = length + 1
            if not cur:
                for p in positions[:_CHAIN_CAP]:
                    cur[p] = 1
        for p, length in prev.items():
            if p + 1 not in cur and length + 1 >= min_run_words:
                runs.append(Run(offset + i - length, offset + i, p - length + 1, p + 1))
        prev = cur
    for p, length in prev.items():
        if length + 1 >= min_run_words:
            runs.append(Run(offset + hi - length, offset + hi, p - length + 1, p + 1))


def _region(
    found: list[list[int] | None], useful: list[bool], n: int, size: int
) -> tuple[int, int] | None:
    """Where the sentence sits in the source: the alignment offset (source
    position - sentence position) most informative pairs agree on, give or
    take half a sentence for inserted or dropped words."""
    width = max(n, 8)
    votes: dict[int, int] = {}
    anchors: list[tuple[int, int]] = []
    located = [(i, positions) for i, (positions, u) in enumerate(zip(found, useful, strict=True)) if positions and u]
    # Rare pairs locate the sentence; a pair found all over the source does not.
    rare = any(len(positions) <= _REGION_CAP for _, positions in located)
    for i, positions in located:
        if rare and len(positions) > _REGION_CAP:
            continue
        for p in positions[:_REGION_CAP]:
            bucket = (p - i) // width
            votes[bucket] = votes.get(bucket, 0) + 1
            anchors.append((p, p - i))
    if not votes:
        return None
    best = max(votes, key=lambda k: (votes[k], -k))
    offsets = sorted(d for _, d in anchors if d // width == best)
    centre = offsets[len(offsets) // 2]
    near = [p for p, d in anchors if abs(d - centre) <= n // 2 + 2]
    return min(near), min(max(near) + 1, size - 1)


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
