"""Property tests over generated Markdown answers: shaping never breaks what it is given.

Answers are built from headings, paragraphs (with bold, inline code and
quotation marks around whole sentences), bullet and numbered lists, block
quotes, tables and fenced code, in English, German or French, from sentences
that sources support, that only a paywalled source supports, that a strict
aggregator was copied for, or that nobody supports. Whatever the norms
decide, the output must keep the block structure (minus whole removed
blocks, plus added paragraphs), keep code byte for byte, keep markup
balanced, leave no empty list item, cite exact offsets, and contain no
text that was neither in the answer nor in an inserted phrase.
"""

from __future__ import annotations

import os
import re
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution import Policy, ShapedAnswer, Source, shape
from attribution.blocks import Document, is_single_paragraph, parse, signature
from attribution.segment import _segmenter, sentence_spans
from attribution.text import words_of

SUPPORTED = {
    "en": [
        "The museum is open daily from ten in the morning until five in the evening.",
        "Entry to the permanent collection is free for every visitor over the age of twelve.",
        "The reading room was restored in 2000 and now hosts temporary exhibitions.",
    ],
    "de": [
        "Das Museum ist täglich von zehn Uhr morgens bis fünf Uhr abends geöffnet.",
        "Der Eintritt in die Dauerausstellung ist für alle Besucher über zwölf Jahren frei.",
        "Der Lesesaal wurde im Jahr 2000 restauriert und zeigt heute Wechselausstellungen.",
    ],
    "fr": [
        "Le musée est ouvert tous les jours de dix heures du matin à cinq heures du soir.",
        "L'entrée dans la collection permanente est gratuite pour tous les visiteurs de plus de douze ans.",
        "La salle de lecture a été restaurée en 2000 et accueille aujourd'hui des expositions temporaires.",
    ],
}
DENIED = {
    "en": "A leaked memo says the museum will start charging foreign visitors next spring.",
    "de": "Ein internes Papier besagt, dass das Museum ab dem nächsten Frühjahr Eintritt verlangen wird.",
    "fr": "Une note interne indique que le musée fera payer les visiteurs étrangers au printemps prochain.",
}
REVIEW = {
    "en": "Honestly the queues at the main entrance were the longest I have ever seen at any museum anywhere.",
    "de": "Ehrlich gesagt waren die Schlangen am Haupteingang die längsten, die ich je in einem Museum gesehen habe.",
    "fr": "Franchement les files d'attente à l'entrée principale étaient les plus longues que j'aie jamais vues dans un musée.",
}
OWN = {
    "en": ["Plan your visit for a weekday morning.", "Bring a light jacket for the cool galleries."],
    "de": ["Planen Sie Ihren Besuch an einem Werktag.", "Nehmen Sie eine leichte Jacke mit."],
    "fr": ["Prévoyez votre visite un matin de semaine.", "Apportez une veste légère pour les galeries."],
}
CODE = 'def opening_hours(day):\n    return {"open": "10:00", "close": "17:00"}[day]\n'
PAD = " ".join(["Ordinary text about lockers, cafés and accessibility."] * 40)


def sources(lang: str) -> list[Source]:
    return [
        Source(url="https://museum.example/visit", text=" ".join(SUPPORTED[lang][:2]) + " " + PAD,
               source_class="canonical", publisher="Museum <Example> & Co"),
        Source(url=f"https://{lang}.wikipedia.org/wiki/Museum", text=PAD + " " + SUPPORTED[lang][2] + " " + PAD,
               source_class="community", platform="wikipedia"),
        Source(url="https://paper.example/memo", text=DENIED[lang] + " " + PAD, source_class="canonical",
               decisions={"ai-input": False}),
        Source(url="https://reviews.example/museum", title="Museum [reviews]", text=REVIEW[lang] + " " + PAD,
               source_class="aggregator"),
        Source(url="https://github.com/example/museum/blob/main/hours.py", title="hours.py in example/museum",
               text=CODE, source_class="aggregator", platform="github", license="MIT"),
    ]  # fmt: skip


SOURCES = {lang: sources(lang) for lang in SUPPORTED}


@st.composite
def sentence(draw: st.DrawFn, lang: str) -> str:
    text = draw(st.sampled_from([*SUPPORTED[lang], DENIED[lang], REVIEW[lang], *OWN[lang]]))
    style = draw(st.sampled_from(["plain", "plain", "bold", "code", "quoted"]))
    if style == "bold":
        return f"**{text}**"
    if style == "code":
        return f"{text} Use `hours(day).get()` here."
    if style == "quoted":
        return f"“{text[:-1]}”."
    return text


@st.composite
def block(draw: st.DrawFn, lang: str) -> str:
    kind = draw(st.sampled_from(["heading", "para", "para", "bullets", "numbers", "quote", "code", "table"]))
    sentences = st.lists(sentence(lang), min_size=1, max_size=3).map(" ".join)
    if kind == "heading":
        return "## " + draw(st.sampled_from(OWN[lang]))[:-1]
    if kind == "para":
        return draw(sentences)
    if kind in ("bullets", "numbers"):
        items = draw(st.lists(sentences, min_size=1, max_size=4))
        return "\n".join(f"{'-' if kind == 'bullets' else f'{n}.'} {t}" for n, t in enumerate(items, 1))
    if kind == "quote":
        return "> " + draw(sentences)
    if kind == "code":
        return "```python\n" + draw(st.sampled_from([CODE, "print('hello')\n"])) + "```"
    cells = draw(st.lists(sentence(lang), min_size=1, max_size=2))
    return "| Q | A |\n|---|---|\n" + "\n".join(f"| {n} | {c} |" for n, c in enumerate(cells, 1))


@st.composite
def answers(draw: st.DrawFn) -> tuple[str, str]:
    lang = draw(st.sampled_from(sorted(SUPPORTED)))
    blocks = draw(st.lists(block(lang), min_size=1, max_size=6))
    return lang, "\n\n".join(blocks) + draw(st.sampled_from(["", "\n"]))


def _without_inserted_paragraphs(r: ShapedAnswer) -> list[tuple[str, int]]:
    """The output's block structure without the top-level paragraphs the shaper added."""
    doc = Document(r.text)
    added: set[int] = set()
    for node in doc.roots:
        if node.type != "paragraph" or node.lines is None:
            continue
        a, b = doc.span(node)
        inside = [False] * (b - a)
        for x, y in r.inserted:
            for k in range(max(a, x), min(b, y)):
                inside[k - a] = True
        if all(inside[k] or r.text[a + k].isspace() for k in range(b - a)):
            added.add(node.first)
    out = []
    skip_until = -1
    for i, t in enumerate(doc.tokens):
        if i in added:
            skip_until = i + 2
        if i <= skip_until or t.type == "inline" or t.nesting == -1:
            continue
        out.append((t.type.removesuffix("_open"), t.level))
    return out


def _is_subsequence(small: list[tuple[str, int]], big: list[tuple[str, int]]) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def _outside_inserted(r: ShapedAnswer) -> str:
    text = r.text
    pieces = []
    pos = 0
    for a, b in sorted(r.inserted):
        pieces.append(text[pos:a])
        pos = max(pos, b)
    pieces.append(text[pos:])
    return " ".join(pieces)


# FF_EXAMPLES=400 for a longer local search; 60 keeps the suite lean.
@settings(max_examples=int(os.environ.get("FF_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers(), st.booleans())
def test_shaping_never_breaks_a_markdown_answer(case: tuple[str, str], tight: bool) -> None:
    lang, answer = case
    srcs = SOURCES[lang]
    policy = Policy.from_dict({"limits": {"aggregator": {"max_quote_words": 6}}}) if tight else None
    r = shape(answer, srcs, policy=policy, kind="primary_source")
    # Block structure: the input's, minus whole removed blocks, plus added paragraphs.
    assert _is_subsequence(_without_inserted_paragraphs(r), [(t, lvl) for t, lvl in signature(answer)])
    # Code blocks are byte-identical (or gone whole, replaced by a link line).
    fences_in = re.findall(r"^```python\n.*?^```$", answer, flags=re.M | re.S)
    for fence in re.findall(r"^```python\n.*?^```$", r.text, flags=re.M | re.S):
        assert fence in fences_in
    # Markup stays balanced, nothing is cut inside a sentence, no list item is left empty.
    body = _outside_inserted(r)
    assert body.count("**") % 2 == 0 and body.count("`") % 2 == 0
    assert (body.count("“") + body.count("”")) % 2 == 0
    assert "…" not in r.text
    assert not re.search(r"^\s*(\d+[.)]|[-*+])\s*$", r.text, flags=re.M)
    # Citation offsets are exact.
    for c in r.citations:
        assert r.text[c.start : c.end] == c.text
        if c.source_start is not None:
            assert srcs[c.source_index].text[c.source_start : c.source_end] == c.cited_text
    # Every word outside the inserted phrases was in the answer.
    extra = Counter(words_of(body)) - Counter(words_of(answer))
    assert not extra, extra
    prose = re.sub(r"^```python\n.*?^```$", "", answer, flags=re.M | re.S)
    if sum(ch.isalpha() for ch in prose) >= 12:
        assert r.language == lang
    else:  # code only: nothing to detect, English phrases
        assert r.language == "en"


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from([*SUPPORTED["en"], *OWN["en"], "Dr. Smith met Mr. Jones on Oct. 11 in the U.S. capital.",
                                 "It rose 2.5% in 2026. The end came.", "“Is it?” he asked. Yes.", "See e.g. the notes. Then stop."]),
                min_size=1, max_size=6).map(" ".join))  # fmt: skip
def test_the_fast_path_agrees_with_pysbd(text: str) -> None:
    """Cutting at sure boundaries first gives pySBD's own segmentation of the whole text."""
    ours = [text[a:b] for a, b in sentence_spans(text, "en")]
    theirs = [s.strip() for s in _segmenter("en").segment(text) if s.strip()]
    assert ours == theirs


# Sentences that end in one of pySBD's abbreviations before a capital ("in Jan. The"),
# before "I", before a lower-case word, or after a prepositive one ("Dr. Smith").
_ABBREVIATED = {
    "en": ["It closed in Jan.", "He left in May.", "They met Dr.", "See fig.", "Ask the Gen.", "It is no.", "Bring your etc.",
           "It closed (in Jan.)", "He left in **May.**"],
    "fr": ["Voir la fig.", "Il est parti en av.", "Lisez le chap.", "Ajoutez les suppl."],
    "es": ["Llegó en dic.", "Vive en la avda.", "Lo firmó el Dr.", "Es la pág."],
    "it": ["Vedi la fig.", "Parla il dott.", "Scrivi al sig.", "Lo dice il prof."],
    "nl": ["Zie blz.", "Het was in jan.", "Vraag het aan dr.", "Lees art."],
}
_NEXT = ["The end came.", "I was there.", "I'm sure.", "Smith spoke.", "then it ended.", "5 were left.", "Évidemment."]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(_ABBREVIATED)).flatmap(
    lambda lang: st.tuples(st.just(lang), st.lists(st.sampled_from([*_ABBREVIATED[lang], *_NEXT]), min_size=2, max_size=6).map(" ".join))
))  # fmt: skip
def test_the_fast_path_agrees_with_pysbd_after_abbreviations(case: tuple[str, str]) -> None:
    """An abbreviation before a capital is cut without pySBD only where pySBD cuts too."""
    lang, text = case
    ours = [text[a:b] for a, b in sentence_spans(text, lang)]
    theirs = [s.strip() for s in _segmenter(lang).segment(text) if s.strip()]
    assert ours == theirs


@settings(max_examples=300, deadline=None)
@given(st.sampled_from("aZéΣж"), st.text(alphabet="ab |-#>*_1.)<[`~=\t\x0b\x0c\u2028\u00a0\\:", max_size=20))
def test_one_line_starting_with_a_letter_is_one_paragraph(first: str, rest: str) -> None:
    """The shortcut in ``is_single_paragraph`` agrees with markdown-it."""
    text = first + rest
    assert is_single_paragraph(text)
    assert [t.type for t in parse(text)] == ["paragraph_open", "inline", "paragraph_close"]
