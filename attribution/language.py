"""Which language an answer is written in (py3langid, a maintained langid.py fork).

The answer's prose decides (code blocks are left out); a very short answer
("1066") borrows the query's words. Detection reads a bounded prefix of the
prose (``SAMPLE_CHARS``), so its cost does not grow with the answer. The
model (about 1 s to load) is loaded once, on first use.

A language the model is unsure about is resolved in favour of a language the
shaper has phrases for only when that language is itself plausible; text that
is clearly another language ("ja", "pl") gets no inserted prose.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

SAMPLE_CHARS = 300
# Below this many letters the sample says nothing about the language.
_MIN_LETTERS = 12
_SURE = 0.9
_PLAUSIBLE = 0.05
# Too little prose to tell (a bare "1066", a code-only answer) and no query: English.
DEFAULT = "en"


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def _letters(text: str) -> int:
    return sum(map(str.isalpha, text))


def detect_language(text: str, *, known: frozenset[str], query: str | None = None) -> str:
    """ISO 639-1 code of ``text`` (prose); ``DEFAULT`` when there is too little to tell.

    ``known`` are the languages with phrases: the best of them wins over an
    unsure guess of another language.
    """
    sample = text[:SAMPLE_CHARS]
    if _letters(sample) < _MIN_LETTERS and query:
        sample = f"{query[:SAMPLE_CHARS]} {sample}"
    if _letters(sample) < _MIN_LETTERS:
        return DEFAULT
    identifier = _identifier()
    # The best guess alone (an argmax) settles most answers; the full ranking
    # (sorting every language) is only needed when it is unsure.
    best, prob = identifier.classify(sample)
    if best in known or prob >= _SURE:
        return str(best)
    ranked: list[tuple[str, float]] = identifier.rank(sample)
    for lang, p in ranked:
        if lang in known and p >= _PLAUSIBLE:
            return str(lang)
    return str(best)
