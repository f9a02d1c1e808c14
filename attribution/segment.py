"""Sentences of one block of prose, with exact offsets, by pySBD (rule-based, 20+ languages).

pySBD decides every ambiguous full stop: abbreviations ("Oct.", "z. B.",
"Dr."), decimals, ordinal dates ("14. Oktober"), initials, quotations. It
costs about 15 µs a word, too much for a 5 ms budget, so the text is first cut
at the boundaries no segmenter disputes - a full stop, "!" or "?" after a
word of two or more letters that is not one of pySBD's abbreviations for the
language (or a number of three or more digits: a year, not a German ordinal
day), then whitespace and a letter (a capital one after "!", "?" or a
number); an abbreviation that pySBD's standard rules end a sentence with
before a capital ("in May. The") counts too - and pySBD only sees the
stretches between them that still hold a candidate boundary, at most
``_MAX_CHUNK`` characters at a time (so its cost stays linear). A property test
checks that the cut agrees with pySBD on the whole text.

Portuguese has no pySBD rules; Spanish rules are used for it (same
abbreviation conventions for the cases that matter here).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_PYSBD_FALLBACK = {"pt": "es", "und": "en"}
# A sure boundary: a word of 2+ letters (or a number of 3+ digits), ., ! or ?,
# closing quotes/brackets, whitespace. The regex finds the stop (a scan for one
# character class); ``_word_before`` reads the word, so the cost stays linear.
_STOP = re.compile(r"([.!?])([\"'”’»)\]*_]*)(\s+)")
# pySBD sees at most this much at once; a longer ambiguous stretch is cut at a full stop.
_MAX_CHUNK = 2000
_CANDIDATE = re.compile(r"[.!?…。！？]")


@lru_cache(maxsize=32)
def _segmenter(lang: str) -> Any:
    import pysbd
    from pysbd.languages import LANGUAGE_CODES

    code = _PYSBD_FALLBACK.get(lang, lang)
    if code not in LANGUAGE_CODES:
        code = "en"
    return pysbd.Segmenter(language=code, clean=False)


@lru_cache(maxsize=32)
def _abbreviations(lang: str) -> tuple[frozenset[str], frozenset[str]]:
    """pySBD's abbreviations for the language, and those of them that end a sentence before a capital.

    pySBD's standard abbreviation rules keep the full stop of an abbreviation
    only when a lower-case word, a digit, "I" or more punctuation follows -
    except for prepositive ones ("Dr.", "Mr."), which never end a sentence.
    So "… in May. The …" is a boundary. Languages whose pySBD rules differ
    (German, Russian ...) get the second set empty: pySBD decides there.
    """
    from pysbd.abbreviation_replacer import AbbreviationReplacer
    from pysbd.languages import LANGUAGE_CODES

    code = _PYSBD_FALLBACK.get(lang, lang)
    language = LANGUAGE_CODES.get(code) or LANGUAGE_CODES["en"]
    abbreviation = language.Abbreviation
    every = frozenset(a.lower() for a in abbreviation.ABBREVIATIONS)
    replacer = language.AbbreviationReplacer
    standard = all(getattr(replacer, name) is getattr(AbbreviationReplacer, name) for name in _STANDARD_STEPS)
    if not standard:
        return every, frozenset()
    return every, every - {a.lower() for a in abbreviation.PREPOSITIVE_ABBREVIATIONS}


# The steps of pySBD's abbreviation handling that the capital rule above relies on.
_STANDARD_STEPS = (
    "replace",
    "search_for_abbreviations_in_string",
    "scan_for_replacements",
    "replace_period_of_abbr",
    "replace_multi_period_abbreviations",
    "replace_abbreviation_as_sentence_boundary",
)


def sentence_spans(text: str, lang: str = "en") -> list[tuple[int, int]]:
    """Spans of the sentences of ``text`` (one block of prose), whitespace trimmed, in order.

    Line breaks inside the block are soft (Markdown joins the lines), so they
    never end a sentence on their own.
    """
    flat = text.replace("\n", " ").replace("\r", " ")
    abbreviations, before_capital = _abbreviations(lang)
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _STOP.finditer(flat):
        nxt = m.end()
        word = _word_before(flat, m.start())
        if word is None:
            continue
        stop = m.group(1)
        if nxt >= len(flat) or not (
            flat[nxt].isupper() or (stop == "." and flat[nxt].isalpha() and not word.isdigit())
        ):
            continue
        closers = m.group(2)
        if stop == "." and (low := word.lower()) in abbreviations and not (
            low in before_capital and not closers and flat[nxt].isupper() and not _pronoun_i(flat, nxt)
        ):
            continue
        end = m.start(3)
        if end - start <= _MAX_CHUNK and not _CANDIDATE.search(flat, start, m.start()) and "*" not in closers and "_" not in closers:
            _push(flat, start, end, spans)  # no other candidate in the sentence: nothing for pySBD
        else:
            _ambiguous(flat, start, end, lang, spans)
        start = nxt
    _ambiguous(flat, start, len(flat), lang, spans)
    return spans


def _word_before(text: str, stop: int) -> str | None:
    """The run of 2+ letters (or 3+ digits) that ends at ``stop``, else None."""
    i = stop
    if i and text[i - 1].isdecimal():
        while i and text[i - 1].isdecimal():
            i -= 1
        return text[i:stop] if stop - i >= 3 else None
    while i and text[i - 1].isalnum() and not text[i - 1].isdecimal():
        i -= 1
    return text[i:stop] if stop - i >= 2 else None


def _pronoun_i(text: str, at: int) -> bool:
    """Is the word at ``at`` "I" ("I went", "I'm")? After an abbreviation pySBD reads it as no boundary."""
    return text[at] == "I" and (at + 1 == len(text) or not text[at + 1].isalpha())


def _ambiguous(text: str, lo: int, hi: int, lang: str, out: list[tuple[int, int]]) -> None:
    """Split ``text[lo:hi]`` with pySBD if it holds a candidate boundary before its end."""
    while hi - lo > _MAX_CHUNK:
        cut = text.rfind(". ", lo, lo + _MAX_CHUNK)
        if cut <= lo:
            cut = lo + _MAX_CHUNK - 1
        _ambiguous(text, lo, cut + 1, lang, out)
        lo = cut + 1
    chunk = text[lo:hi]
    body = chunk.rstrip()
    inner = body.rstrip(".!?…。！？\"'”’»)] ")
    if not _CANDIDATE.search(inner):
        _push(text, lo, hi, out)
        return
    pos = lo
    for piece in _segmenter(lang).segment(chunk):
        at = text.find(piece, pos, hi) if piece else -1
        if at < 0:  # pySBD changed the text: keep the rest as one sentence
            _push(text, pos, hi, out)
            return
        _push(text, at, at + len(piece), out)
        pos = at + len(piece)
    _push(text, pos, hi, out)


def _push(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        out.append((start, end))
