"""Golden cases: one per norm (fixtures/attribution/cases -> fixtures/attribution/golden).

Each case is shaped and compared with its reviewed golden output (JSON and
Markdown). Set FAIRFETCH_UPDATE_GOLDEN=1 to rewrite the golden files after an
intended change, then review the diff. The explicit assertions below pin the
behaviour each norm requires, so a wrong golden file cannot hide a regression.
"""

from __future__ import annotations

import json
import os

import pytest

from attribution import QueryKind, ShapedAnswer, shape
from tests.attribution.cases import GOLDEN, case_names, load_case

UPDATE = os.environ.get("FAIRFETCH_UPDATE_GOLDEN") == "1"


def run_case(name: str) -> ShapedAnswer:
    case = load_case(name)
    return shape(
        case["answer"], case["sources"], query=case.get("query"), kind=case.get("kind"), policy=case["policy"]
    )


@pytest.mark.parametrize("name", case_names())
def test_golden_output(name: str) -> None:
    result = run_case(name)
    produced = {"result": result.model_dump(mode="json"), "markdown": result.to_markdown()}
    path = GOLDEN / f"{name}.json"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(produced, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert produced == expected


def kinds(result: ShapedAnswer) -> list[str]:
    return [a.kind for a in result.actions]


def test_common_knowledge_is_stated_without_a_link() -> None:
    r = run_case("hastings_common_knowledge")
    assert r.kind is QueryKind.COMMON_KNOWLEDGE
    assert r.text == "The Battle of Hastings was fought in 1066."
    assert r.citations == []
    assert "common_knowledge" in kinds(r)
    assert "to_markdown" and "Sources:" not in r.to_markdown()


def test_primary_source_gets_in_text_attribution_and_link() -> None:
    r = run_case("hastings_primary_source")
    assert r.kind is QueryKind.PRIMARY_SOURCE
    assert r.text.startswith("According to Wikipedia, the death of Edward the Confessor")
    assert {c.url for c in r.citations} == {"https://en.wikipedia.org/wiki/Battle_of_Hastings"}
    c = r.citations[0]
    # Community platform: history, discussion and the licence credit come with the citation.
    assert c.edit_history_url == "https://en.wikipedia.org/w/index.php?title=Battle_of_Hastings&action=history"
    assert c.discussion_url == "https://en.wikipedia.org/wiki/Talk:Battle_of_Hastings"
    assert c.license == "CC BY-SA 4.0" and c.attribution
    md = r.to_markdown()
    assert "[view edit history](" in md and "[see the discussion](" in md


def test_contested_keeps_key_points_per_side_and_points_to_full_article() -> None:
    r = run_case("hastings_contested")
    assert r.kind is QueryKind.CONTESTED
    assert "According to Wikipedia" in r.text and "According to English Heritage" in r.text
    assert "read the full article and its sources and discussion at Wikipedia" in r.text
    # The sentence that states the dispute is never removed, and each side keeps its point.
    assert "Historians disagree about how to read the tapestry" in r.text
    assert "Norman sources written soon after the battle" in r.text
    pointer = [c for c in r.citations if c.role == "pointer"]
    assert pointer and pointer[0].discussion_url == "https://en.wikipedia.org/wiki/Talk:Battle_of_Hastings"


def test_sources_disagreeing_on_a_figure_make_the_topic_contested() -> None:
    r = run_case("sources_disagree_on_figure")
    assert r.kind is QueryKind.CONTESTED
    assert "medieval-trivia" not in " ".join(c.url for c in r.citations)


def test_answer_contradicted_by_all_sources_is_flagged_not_attributed() -> None:
    r = run_case("answer_contradicted")
    assert r.citations == []
    assert "flag_sentence" in kinds(r)


def test_rapidly_evolving_notes_the_last_update() -> None:
    r = run_case("hastings_rapidly_evolving")
    assert r.kind is QueryKind.RAPIDLY_EVOLVING
    assert r.text.startswith("As of 19 November 2026, according to Archaeology News, a geophysical survey")
    assert "last updated on 19 November 2026; see it for current information." in r.text
    assert "note_last_update" in kinds(r)


def test_quick_fact_is_answered_directly_with_attribution() -> None:
    r = run_case("quick_fact_museum_hours")
    assert r.kind is QueryKind.QUICK_FACT
    assert r.text == "It is open daily from 10.00 to 17.00, and until 20.30 on Fridays (according to the British Museum)."
    assert [c.url for c in r.citations] == ["https://www.britishmuseum.org/visit"]


def test_long_form_keeps_basic_information_and_points_to_depth() -> None:
    r = run_case("long_form_overview")
    assert r.kind is QueryKind.LONG_FORM
    assert "Westminster Abbey" not in r.text
    assert "There is more depth at Wikipedia" in r.text
    assert kinds(r).count("limit_long_form") == 3


def test_community_platform_citation_carries_history_discussion_and_licence() -> None:
    r = run_case("community_stackoverflow")
    c = r.citations[0]
    assert r.text.startswith("According to Stack Overflow, use the built-in reversed function")
    assert c.edit_history_url == "https://stackoverflow.com/posts/3940128/revisions"
    assert c.discussion_url and c.license and c.license.startswith("CC BY-SA")
    assert c.attribution and "name every author" in c.attribution


def test_github_snippet_links_back_to_repository_file() -> None:
    r = run_case("github_snippet")
    cited = [c for c in r.citations if c.role == "support"]
    assert cited[0].url == "https://github.com/python/cpython/blob/main/Lib/json/__init__.py"
    assert cited[0].edit_history_url == "https://github.com/python/cpython/commits/main/Lib/json/__init__.py"
    # The code block is untouched; the credit is a line of its own after it.
    case = load_case("github_snippet")
    code = case["answer"][case["answer"].index("```") :].rstrip()
    assert code in r.text
    assert r.text.endswith("```\n\nThe code above is from “Lib/json/\\_\\_init\\_\\_.py in python/cpython” on GitHub.")
    assert cited[0].text == "“Lib/json/\\_\\_init\\_\\_.py in python/cpython” on GitHub"
    assert cited[0].cited_text and "json.dumps" in cited[0].cited_text


def test_youtube_answer_links_to_the_video() -> None:
    r = run_case("youtube_video")
    assert r.text.startswith("According to the video “How to fold a fitted sheet” on YouTube, hold the sheet")
    assert {c.url for c in r.citations} == {"https://www.youtube.com/watch?v=Qh3mN8x2kLw"}


def test_paywalled_source_is_dropped_and_its_sentence_removed() -> None:
    r = run_case("paywalled_source_dropped")
    assert [d.url for d in r.dropped_sources] == ["https://www.thetimes.example/article/norman-army-ledger"]
    assert "fourteen thousand" not in r.text
    assert r.text == "The Battle of Hastings was fought on 14 October 1066."
    assert kinds(r)[:1] == ["drop_source"] and "remove_sentence" in kinds(r)
    assert all("thetimes" not in c.url for c in r.citations)


def test_long_verbatim_copy_from_aggregator_is_removed_whole_and_pointed_to() -> None:
    r = run_case("aggregator_long_copy_trimmed")
    assert not [c for c in r.citations if c.role == "quote"]
    assert "…" not in r.text  # never cut inside a sentence
    removed = [a for a in r.actions if a.kind == "remove_quote"]
    assert removed and "42 words" in removed[0].detail and "25 words per quote" in removed[0].detail
    assert r.text == "Yes.\n\nRead the full text at “Battle Abbey reviews” on Tripadvisor."
