"""The evaluation set: realistic answers as AI product teams produce them, each with its expectations.

Three shapes of Markdown answer in each of the eight languages with phrases
(a paragraph, a numbered list under a heading with a paywalled claim, a table
and a block quote), then English cases for code, quotes, numbers, limits,
safety, every query kind, mixes of 3-6 sources, and a language without
phrases. Every case also passes the invariants in ``check_invariants``.
"""

from __future__ import annotations

import re

import pytest

from attribution import Policy, QueryKind, ShapedAnswer, Source, shape
from attribution.blocks import signature
from attribution.templates import BUILT_IN
from tests.attribution.packs import PACKS, Pack

LANGS = sorted(PACKS)
ENGLISH_TEMPLATE_BITS = ("According to", "according to", "Read the full text", "There is more depth", "was last updated")


def check_invariants(answer: str, r: ShapedAnswer) -> None:
    """What must hold for every shaped answer, whatever the norms decided."""
    for c in r.citations:
        assert r.text[c.start : c.end] == c.text
    removed_code = any(a.kind == "remove_quote" and "code block" in a.detail for a in r.actions)
    if not removed_code:
        for block in re.findall(r"^```[^\n]*\n.*?^```$", answer, flags=re.M | re.S):
            assert block in r.text  # code is never edited
    for line in answer.splitlines():
        if line.startswith("#"):
            assert line in r.text.splitlines()  # headings never change
    assert not re.search(r"^\s*(\d+[.)]|[-*+])\s*$", r.text, flags=re.M)  # no empty list items
    assert r.text.count("…") <= answer.count("…")  # nothing is cut inside a sentence
    if r.language != "en":
        assert not any(bit in r.text for bit in ENGLISH_TEMPLATE_BITS)
    kinds = [t for t, _ in signature(r.text)]
    assert kinds.count("fence") <= [t for t, _ in signature(answer)].count("fence")


def named(pack: Pack, source: str) -> str:
    ph = BUILT_IN[pack.lang]
    return ph.according_suffix.format(source=source)


# --- eight languages, three answer shapes each -------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_paragraph_is_attributed_in_its_own_language(lang: str) -> None:
    p = PACKS[lang]
    answer = f"{p.fact_official} {p.fact_wiki} {p.own}"
    r = shape(answer, [p.official, p.wiki, p.review], kind="primary_source")
    check_invariants(answer, r)
    assert r.language == lang
    ph = BUILT_IN[lang]
    urls = {c.url for c in r.citations}
    assert p.official.url in urls and p.wiki.url in urls
    if ph.according_prefix:
        assert ph.according_prefix.format(source="")[:4] in r.text
    else:  # verb-second languages: "(laut Berlin.de)" before the full stop
        assert named(p, p.official_name) in r.text or "Stand" in r.text
    assert r.text.endswith(p.own)  # the model's own advice is left as written
    assert any(a.kind == "unsupported" for a in r.actions)


@pytest.mark.parametrize("lang", LANGS)
def test_numbered_list_loses_the_paywalled_step_and_is_renumbered(lang: str) -> None:
    p = PACKS[lang]
    answer = f"## {p.heading}\n\n1. {p.fact_official}\n2. {p.fact_paywalled}\n3. {p.fact_wiki}\n4. {p.own}\n"
    r = shape(answer, [p.paywalled, p.official, p.wiki, p.review], query=p.query, kind="primary_source")
    check_invariants(answer, r)
    assert r.text.startswith(f"## {p.heading}\n\n1. ")
    assert p.fact_paywalled not in r.text and [d.url for d in r.dropped_sources] == [p.paywalled.url]
    items = re.findall(r"^(\d+)\. ", r.text, flags=re.M)
    assert items == ["1", "2", "3"]
    # Attribution in a list is a parenthesis at the end of the step, never a prefix.
    assert named(p, "Wikipedia") in r.text
    ph = BUILT_IN[lang]
    if ph.according_prefix:
        assert not re.search(r"^\d+\. " + re.escape(ph.according_prefix.split("{")[0]), r.text, flags=re.M)
    assert [t for t, _ in signature(r.text)].count("list_item") == 3


@pytest.mark.parametrize("lang", LANGS)
def test_table_cells_get_markers_and_quotes_a_parenthesis(lang: str) -> None:
    p = PACKS[lang]
    answer = f"| {p.heading} |\n|---|\n| {p.fact_official} |\n\n> {p.fact_wiki}\n\n{p.own}\n"
    r = shape(answer, [p.official, p.wiki, p.review], query=p.query, kind="primary_source")
    check_invariants(answer, r)
    assert f"| {p.fact_official} |" in r.text  # the cell is not rewritten
    cell = [c for c in r.citations if c.url == p.official.url]
    assert cell and cell[0].text == p.fact_official
    quote_line = next(line for line in r.text.splitlines() if line.startswith(">"))
    assert named(p, "Wikipedia") in quote_line
    assert signature(r.text) == signature(answer)
    md = r.to_markdown()
    heading = BUILT_IN[lang].sources_heading
    assert f"\n{heading}\n1. " in md


# --- the essay's Battle of Hastings examples ---------------------------------------------

SHORT = [
    Source(url="https://en.wikipedia.org/wiki/Battle_of_Hastings", text="The Battle of Hastings took place in 1066.", source_class="community"),
    Source(url="https://www.britannica.com/event/Battle-of-Hastings", text="Battle of Hastings, (14 October 1066), battle that ended in the defeat of Harold II.", source_class="canonical"),
    Source(url="https://www.english-heritage.org.uk/hastings", text="In 1066 the Battle of Hastings took place near the town now called Battle.", source_class="canonical"),
]


def test_hastings_1_a_fact_three_short_sources_agree_on_comes_back_unchanged() -> None:
    answer = "The Battle of Hastings took place in 1066."
    r = shape(answer, SHORT, query="When was the Battle of Hastings?")
    check_invariants(answer, r)
    assert r.text == answer and r.kind is QueryKind.COMMON_KNOWLEDGE
    assert not [a for a in r.actions if a.kind in ("remove_quote", "point_to_source", "trim_quote")]
    # A team that wants markers on common knowledge too can ask for them.
    linked = shape(answer, SHORT, policy=Policy(link_common_knowledge=True))
    assert linked.text == answer and {c.url for c in linked.citations} == {s.url for s in SHORT}


def test_hastings_2_the_bare_year_is_common_knowledge() -> None:
    r = shape("1066", SHORT, query="When was the Battle of Hastings?")
    assert r.text == "1066" and r.kind is QueryKind.COMMON_KNOWLEDGE and not r.citations
    assert not any(a.kind == "unsupported" for a in r.actions)


def test_hastings_3_one_source_carries_the_claim() -> None:
    wiki = Source(url="https://en.wikipedia.org/wiki/Battle_of_Hastings", source_class="community", platform="wikipedia",
                  text="Background. " * 30 + "The death of Edward the Confessor in January 1066 left no clear heir to the throne.")
    answer = "The death of Edward the Confessor in January 1066 left no clear heir to the throne."
    r = shape(answer, [wiki], query="What led up to the Battle of Hastings?")
    assert r.text == "According to Wikipedia, the death of Edward the Confessor in January 1066 left no clear heir to the throne."
    assert r.citations[0].edit_history_url and r.citations[0].discussion_url


def test_hastings_4_contested_keeps_both_stances_and_the_dispute() -> None:
    wiki = Source(url="https://en.wikipedia.org/wiki/Harold_Godwinson", source_class="community",
                  text="Historians disagree about the arrow. The familiar story says Harold was killed by an arrow in the eye, as the Bayeux Tapestry seems to show.")
    eh = Source(url="https://www.english-heritage.org.uk/harold", source_class="canonical", publisher="English Heritage",
                text="Early Norman sources say Harold was cut down by Norman knights as the English shield wall broke.")
    answer = ("The familiar story says Harold was killed by an arrow in the eye, as the Bayeux Tapestry seems to show. "
              "Historians disagree about the arrow. Early Norman sources say Harold was cut down by Norman knights as the English shield wall broke.")
    r = shape(answer, [wiki, eh], query="How did King Harold die?")
    check_invariants(answer, r)
    assert r.kind is QueryKind.CONTESTED
    assert "Historians disagree about the arrow." in r.text
    assert "According to Wikipedia" in r.text and "According to English Heritage" in r.text
    assert "This topic is contested" in r.text


# --- code ---------------------------------------------------------------------------------

GITHUB = Source(url="https://github.com/psf/requests/blob/main/src/requests/api.py", title="src/requests/api.py in psf/requests",
                source_class="aggregator", platform="github", license="Apache-2.0",
                text="def get(url, params=None, **kwargs):\n    return request(\"get\", url, params=params, **kwargs)\n")
SO = Source(url="https://stackoverflow.com/questions/645312/about-requests", title="About requests", source_class="community",
            platform="stackoverflow", license="CC BY-SA 4.0",
            text="Use requests.get with a timeout so that a slow server cannot hang your program forever. " * 2)
DOCS = Source(url="https://docs.python.org/3/library/urllib.request.html", title="urllib.request", source_class="canonical",
              text="The urllib.request module defines functions and classes which help in opening URLs in a complex world.")

CODE_ANSWER = (
    "## Fetching a page\n\n"
    "Use requests.get with a timeout so that a slow server cannot hang your program forever.\n\n"
    "```python\ndef get(url, params=None, **kwargs):\n    return request(\"get\", url, params=params, **kwargs)\n```\n\n"
    "The standard library alternative is `urllib.request.urlopen(url, timeout=10)`.\n"
)


def test_code_from_a_repository_is_credited_after_the_block_with_its_licence() -> None:
    r = shape(CODE_ANSWER, [GITHUB, SO, DOCS], kind="primary_source")
    check_invariants(CODE_ANSWER, r)
    assert "```\n\nThe code above is from “src/requests/api.py in psf/requests” on GitHub. Licence: Apache-2.0.\n\n" in r.text
    assert r.text.startswith("## Fetching a page\n\nAccording to Stack Exchange, use requests.get")
    assert "`urllib.request.urlopen(url, timeout=10)`" in r.text


def test_code_over_the_limit_is_replaced_whole_never_shortened() -> None:
    tight = Policy.from_dict({"limits": {"aggregator": {"max_quote_words": 5}}})
    r = shape(CODE_ANSWER, [GITHUB, SO, DOCS], kind="primary_source", policy=tight)
    check_invariants(CODE_ANSWER, r)
    assert "```" not in r.text and "def get" not in r.text
    assert "The code is available at “src/requests/api.py in psf/requests” on GitHub." in r.text


def test_code_inside_a_list_item_is_credited_after_the_list() -> None:
    answer = "Steps:\n\n1. Install requests.\n2. Call it:\n\n   ```python\n   def get(url, params=None, **kwargs):\n       return request(\"get\", url, params=params, **kwargs)\n   ```\n3. Check the status code.\n"
    r = shape(answer, [GITHUB, SO], kind="primary_source")
    check_invariants(answer, r)
    assert r.text.endswith("3. Check the status code.\n\nThe code above is from “src/requests/api.py in psf/requests” on GitHub. Licence: Apache-2.0.\n")
    assert [t for t, _ in signature(r.text)].count("list_item") == 3


def test_inline_code_and_abbreviations_do_not_split_sentences() -> None:
    src = Source(url="https://www.nytimes.example/rates", source_class="canonical", publisher="The Times",
                 text="Despite the Oct. 11 announcement by Dr. Powell, the Fed kept rates at 5.25% for the U.S. economy. " + "Other news. " * 40)
    answer = "Despite the Oct. 11 announcement by Dr. Powell, the Fed kept rates at 5.25% for the U.S. economy. Call `rates.get(a. b)` to check."
    r = shape(answer, [src], kind="primary_source")
    check_invariants(answer, r)
    assert r.text.startswith("According to The Times, despite the Oct. 11 announcement by Dr. Powell, the Fed kept rates at 5.25% for the U.S. economy.")
    assert "According to" not in r.text[30:]
    assert "`rates.get(a. b)`" in r.text


def test_emphasis_spanning_two_sentences_stays_balanced_when_one_is_removed() -> None:
    paywalled = Source(url="https://paper.example/x", text="The board will resign next week after the audit. " * 3, decisions={"ai-input": False})
    answer = "**Markets rallied today. The board will resign next week after the audit.** Analysts were surprised."
    r = shape(answer, [paywalled])
    check_invariants(answer, r)
    assert r.text.count("**") % 2 == 0
    assert "resign" not in r.text and "Analysts were surprised." in r.text


# --- numbers, facts and limits ----------------------------------------------------------------


def test_a_reworded_price_is_matched_by_its_number_and_currency() -> None:
    berlin = Source(url="https://www.berlin.de/parken", source_class="canonical", publisher="Berlin.de",
                    text="Parkgebühr: 12 Euro pro Tag. Das Parkhaus ist rund um die Uhr geöffnet. " + "Hinweise zur Anfahrt. " * 20)
    r = shape("It costs €12 per day.", [berlin], query="How much is parking at the station?", language="en")
    assert [c.url for c in r.citations] == [berlin.url]
    assert r.text == "It costs €12 per day (according to Berlin.de)." and r.kind is QueryKind.QUICK_FACT


def test_a_german_quick_fact_query_is_recognised() -> None:
    p = PACKS["de"]
    r = shape(p.fact_official, [p.official, p.wiki], query="Was kostet das Parken in Berlin?")
    assert r.kind is QueryKind.QUICK_FACT and r.text.endswith("(laut Berlin.de).")


def test_a_short_fact_from_a_short_page_is_not_treated_as_substitution() -> None:
    page = Source(url="https://www.cafe.example/hours", source_class="canonical", publisher="Café Example",
                  text="We are open every day from 8 to 18 except on public holidays.")
    answer = "The café is open every day from 8 to 18 except on public holidays."
    r = shape(answer, [page], kind="primary_source")
    assert r.text == "According to Café Example, the café is open every day from 8 to 18 except on public holidays."
    assert not any(a.kind == "remove_quote" for a in r.actions)


def test_max_snippet_bounds_the_answer_and_every_exported_passage() -> None:
    from norms.model import Obligation, ObligationKind

    limited = Source(url="https://news.example/story", source_class="canonical", publisher="News Example",
                     obligations=(Obligation(kind=ObligationKind.SNIPPET_LIMIT, limit=50),),
                     text="Filler. " * 20 + "The council approved the new tram line to the airport after a two-year review. " + "More. " * 20)
    copied = "The council approved the new tram line to the airport after a two-year review."
    r = shape(f"{copied} Construction starts soon.", [limited], kind="primary_source")
    assert copied not in r.text and "Read the full text at News Example." in r.text
    reworded = shape("The council approved the new tram line to the airport.", [limited], kind="primary_source")
    assert reworded.citations and all(len(c.cited_text or "") <= 50 for c in reworded.citations)
    assert all(len(a["cited_text"]) <= 50 for a in reworded.to_anthropic_citations())


def test_nosnippet_allows_no_passage_at_all() -> None:
    from norms.model import Obligation, ObligationKind

    src = Source(url="https://news.example/no", source_class="canonical", publisher="News Example",
                 obligations=(Obligation(kind=ObligationKind.SNIPPET_LIMIT, limit=0),),
                 text="Filler. " * 20 + "The mayor announced a new cycling plan for the whole city centre today. " + "More. " * 20)
    r = shape("The mayor announced a new cycling plan for the city centre.", [src], kind="primary_source")
    assert r.citations and all(c.cited_text is None for c in r.citations)
    assert r.to_anthropic_citations() == []


# --- safety -------------------------------------------------------------------------------------


@pytest.mark.parametrize("publisher", ["<img src=x onerror=alert(1)>", "![x](https://evil.example/track.png)", "[click](javascript:alert(1))"])
def test_names_from_sources_are_escaped_in_the_answer(publisher: str) -> None:
    src = Source(url="https://evil.example/page", source_class="canonical", publisher=publisher,
                 text="Filler. " * 30 + "The harbour bridge opened to traffic in 1932 after eight years of work.")
    r = shape("The harbour bridge opened to traffic in 1932 after eight years of work.", [src], kind="primary_source")
    # Rendered as a Markdown renderer would (raw HTML allowed): no image, no tag, no script link.
    from markdown_it import MarkdownIt

    for text in (r.text, r.to_markdown()):
        rendered = MarkdownIt("commonmark").render(text)
        assert "<img" not in rendered and 'href="javascript' not in rendered
    html = r.to_html()
    assert "<img" not in html and 'href="javascript' not in html


def test_non_http_urls_are_never_linked() -> None:
    src = Source(url="javascript:alert(1)", source_class="canonical", publisher="X",
                 text="Filler. " * 30 + "The harbour bridge opened to traffic in 1932 after eight years of work.")
    r = shape("The harbour bridge opened to traffic in 1932 after eight years of work.", [src], kind="primary_source")
    assert "](javascript" not in r.to_markdown() and 'href="javascript' not in r.to_html()


# --- query kinds and mixes ---------------------------------------------------------------------


def test_rapidly_evolving_says_as_of_once_per_source() -> None:
    a = Source(url="https://markets.example/earnings", source_class="canonical", publisher="Markets Daily",
               last_modified="2026-11-30", retrieved_at="2026-12-01",
               text="Home Depot reported quarterly sales of 40 billion dollars, above analyst estimates. " + "Markets. " * 30)
    b = Source(url="https://news.example/retail", source_class="canonical", publisher="Retail News",
               last_modified="2026-11-29", retrieved_at="2026-12-01",
               text="Lowe's shares fell three percent after the company cut its annual outlook. " + "Retail. " * 30)
    answer = ("- **Home Depot** reported quarterly sales of 40 billion dollars, above analyst estimates.\n"
              "- **Lowe's** shares fell three percent after the company cut its annual outlook.\n")
    r = shape(answer, [a, b], query="latest retail earnings")
    check_invariants(answer, r)
    assert r.kind is QueryKind.RAPIDLY_EVOLVING
    assert r.text.startswith("- **Home Depot** reported quarterly sales of 40 billion dollars, above analyst estimates (according to Markets Daily, as of 30 November 2026).")
    assert r.text.count("as of 30 November 2026") == 1 and r.text.count("as of 29 November 2026") == 1
    assert "Markets Daily was last updated on 30 November 2026" in r.text


def test_long_form_keeps_the_basics_and_points_to_the_depth() -> None:
    sentences = [f"Chapter {n} explains how the {w} of the medieval abbey was organised by the monks." for n, w in
                 enumerate(["kitchen", "library", "garden", "infirmary", "scriptorium", "brewery"], 1)]
    book = Source(url="https://en.wikipedia.org/wiki/Abbey", source_class="community", platform="wikipedia",
                  text=" ".join(sentences) + " " + "Long text about abbeys and their history. " * 260)
    answer = " ".join(sentences)
    r = shape(answer, [book], query="explain how an abbey worked")
    check_invariants(answer, r)
    assert r.kind is QueryKind.LONG_FORM
    assert sum(s in r.text for s in sentences[1:]) == 2 and "There is more depth at Wikipedia." in r.text


def test_a_six_source_markdown_answer_of_every_class() -> None:
    p = PACKS["en"]
    reddit = Source(url="https://www.reddit.com/r/london/comments/abc/museum", source_class="community", platform="reddit",
                    text="Go on a weekday morning, the Great Court is almost empty before eleven. " * 2)
    answer = (
        f"# {p.heading}\n\n{p.fact_official}\n\n"
        f"- {p.fact_wiki}\n- Go on a weekday morning, the Great Court is almost empty before eleven.\n\n"
        f"> {p.fact_paywalled}\n\n| Tip |\n|---|\n| {p.own} |\n"
    )
    r = shape(answer, [p.official, p.wiki, p.review, p.paywalled, reddit, DOCS], query=p.query, kind="primary_source")
    check_invariants(answer, r)
    assert "> " not in r.text  # the quote relied only on the paywalled source: removed whole
    assert r.text.startswith(f"# {p.heading}\n\nAccording to the British Museum, the museum is open daily")
    assert "(according to Wikipedia)" in r.text and "(according to Reddit)" in r.text
    assert [t for t, _ in signature(r.text)].count("table") == 1


def test_a_language_without_phrases_gets_markers_only() -> None:
    src = Source(url="https://ja.wikipedia.org/wiki/東京", source_class="community",
                 text="東京は日本の首都であり、世界で最も人口の多い都市圏の一つです。" * 5)
    answer = "東京は日本の首都であり、世界で最も人口の多い都市圏の一つです。"
    r = shape(answer, [src], kind="primary_source")
    assert r.language == "ja" and r.text == answer and r.citations
    assert not any(bit in r.text for bit in ENGLISH_TEMPLATE_BITS)
    assert "[[1]](https://ja.wikipedia.org/wiki/" in r.to_markdown()


def test_a_heading_that_matches_a_source_is_never_prefixed() -> None:
    p = PACKS["fr"]
    answer = f"# {p.fact_official}\n\n{p.fact_wiki}\n"
    r = shape(answer, [p.official, p.wiki], kind="primary_source")
    check_invariants(answer, r)
    assert r.text.startswith(f"# {p.fact_official}\n\nSelon Wikipédia" ) or r.text.startswith(f"# {p.fact_official}\n\nSelon Wikipedia")


def test_policy_can_override_a_phrase() -> None:
    p = PACKS["en"]
    policy = Policy.from_toml('[phrases.en]\naccording_prefix = "Per {source}, "\n')
    r = shape(p.fact_wiki, [p.wiki], kind="primary_source", policy=policy)
    assert r.text.startswith("Per Wikipedia, the British Museum")


def test_a_russian_volatile_query_is_rapidly_evolving_with_russian_phrases() -> None:
    p = PACKS["ru"]
    official = Source.model_validate({**p.official.model_dump(), "last_modified": "2026-11-30", "retrieved_at": "2026-12-01"})
    r = shape(p.fact_official, [official, p.wiki], query="Какие сейчас часы работы Эрмитажа?")
    assert r.kind is QueryKind.RAPIDLY_EVOLVING and r.language == "ru"
    # A capitalised noun that is not a known opener stays as written (names must never be lowercased).
    assert r.text.startswith("По данным Эрмитаж на 30 ноября 2026 г., Музей открыт")
    assert "Эрмитаж обновлялся в последний раз 30 ноября 2026 г." in r.text


def test_a_policy_adding_a_language_must_give_every_phrase() -> None:
    from attribution import PolicyError

    with pytest.raises(PolicyError, match=r"phrases|according_suffix"):
        Policy.from_toml('[phrases.pl]\naccording_prefix = "Według {source}, "\n')
