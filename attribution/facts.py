"""Short facts matched by what they assert: numbers (with their unit) near the right names.

Word-pair support cannot see that "It costs €12 per day" and "Parkgebühr:
12 Euro pro Tag" state the same fact, nor that "1066" answers "When was the
Battle of Hastings?". For short sentences (at most ``MAX_WORDS`` words) the
shaper therefore also asks: does the source state every number of the
sentence, with the same currency or unit where one is given, within
``WINDOW`` words of one of the sentence's names (capitalised words other
than the first) or, for a bare answer without names, of the query's words?
A number alone is never enough when there is neither a name nor a query.
"""

from __future__ import annotations

import re

from attribution.index import SourceIndex
from attribution.matching import Match
from attribution.text import STOPWORDS, words_of

MAX_WORDS = 12
WINDOW = 15
_UNIT_WINDOW = 3
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

# Currency and unit spellings that name the same thing, by canonical name.
_UNITS = {
    "€": "eur", "eur": "eur", "euro": "eur", "euros": "eur", "евро": "eur",
    "$": "usd", "usd": "usd", "dollar": "usd", "dollars": "usd", "доллар": "usd", "долларов": "usd",
    "£": "gbp", "gbp": "gbp", "pound": "gbp", "pounds": "gbp",
    "%": "pct", "percent": "pct", "per cent": "pct", "prozent": "pct", "procent": "pct",
    "pour cent": "pct", "por ciento": "pct", "per cento": "pct", "por cento": "pct",
    "km": "km", "kilometres": "km", "kilometers": "km", "kilometer": "km", "kilomètres": "km",
    "kg": "kg", "kilograms": "kg", "kilogramm": "kg",
}  # fmt: skip


class Fact:
    """What a short sentence asserts: its numbers, their units, and the names around them."""

    __slots__ = ("names", "numbers", "units")

    def __init__(self, numbers: list[str], units: set[str], names: set[str]) -> None:
        self.numbers = numbers
        self.units = units
        self.names = names


def fact_of(text: str, query: str | None) -> Fact | None:
    """The fact a short sentence states, or None if it has no number or is not short."""
    words = words_of(text)
    if not words or len(words) > MAX_WORDS:
        return None
    numbers = [n for n in words if n.isdigit() and (len(n) > 1 or len(words) <= 3)]
    if not numbers:
        return None
    low = text.lower()
    units = {canon for spelling, canon in _UNITS.items() if _has_unit(low, spelling)}
    raw = re.findall(r"\w+", text)
    names = {w.casefold() for w in raw[1:] if w[:1].isupper() and w.casefold() not in STOPWORDS}
    if not names and len(words) <= 3 and query:
        names = {w for w in words_of(query) if w not in STOPWORDS and not w.isdigit() and len(w) > 2}
    if not names and not units:
        return None
    return Fact(numbers, units, names)


# Word spellings as whole-word patterns, compiled once.
_UNIT_WORDS = {s: re.compile(rf"(?<!\w){re.escape(s)}(?!\w)") for s in _UNITS if s[0].isalpha()}


def _has_unit(low: str, spelling: str) -> bool:
    pattern = _UNIT_WORDS.get(spelling)
    if pattern is None:
        return spelling in low
    return pattern.search(low) is not None


def fact_match(fact: Fact, index: SourceIndex, source: int) -> Match | None:
    """A support match if the source states the fact (see the module docstring)."""
    positions = index.number_positions
    words = index.words
    region: tuple[int, int] | None = None
    for number in fact.numbers:
        found = None
        for p in positions.get(number, ())[:64]:
            lo, hi = max(0, p - WINDOW), min(len(words), p + WINDOW + 1)
            near = words[lo:hi]
            if fact.names and not fact.names.intersection(near):
                continue
            if fact.units and not _unit_near(fact.units, index, p):
                continue
            found = p
            break
        if found is None:
            return None
        region = (found, found) if region is None else (min(region[0], found), max(region[1], found))
    if region is None:
        return None
    return Match(source, 1.0, region)


def _unit_near(units: set[str], index: SourceIndex, p: int) -> bool:
    words = index.words
    lo, hi = max(0, p - _UNIT_WINDOW), min(len(words), p + _UNIT_WINDOW + 1)
    around = {_UNITS[w] for w in words[lo:hi] if w in _UNITS}
    if units <= around:
        return True
    # Symbols are not words: look at the characters next to the number.
    a, b = index.char_span(p, p)
    text = index.text[max(0, a - 2) : b + 2]
    around |= {canon for spelling, canon in _UNITS.items() if not spelling[0].isalpha() and spelling in text}
    return units <= around
