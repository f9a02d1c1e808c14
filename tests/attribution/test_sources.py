"""Source constructors (dict, norms verdict, ledger) and the policy file."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from attribution import (
    Policy,
    PolicyError,
    Source,
    SourceError,
    SourceNotFound,
    instructions,
    shape,
)
from norms import evaluate
from norms.model import SignalError

TEXT = (
    "The Battle of Hastings was fought on 14 October 1066 on a ridge north of the town of Hastings."
)


def test_from_dict_accepts_booleans_and_ledger_style_decisions() -> None:
    a = Source.from_dict({"url": "https://a.example/", "decisions": {"ai-input": False}})
    b = Source.from_dict(
        {
            "url": "https://b.example/",
            "decisions": {"ai-input": {"allowed": False, "reasons": ["RSL prohibits ai-input"]}},
        }
    )
    c = Source.from_dict({"url": "https://c.example/"})
    assert not a.allowed("ai-input") and not b.allowed("ai-input") and c.allowed("ai-input")
    assert b.denial_reasons() == ("RSL prohibits ai-input",)
    assert c.source_class == "unknown"


def test_from_dict_reports_bad_input_in_plain_words() -> None:
    with pytest.raises(
        SourceError, match=re.escape("source https://a.example/ is not valid: source_class")
    ):
        Source.from_dict({"url": "https://a.example/", "source_class": "blog"})
    with pytest.raises(SourceError, match="url"):
        Source.from_dict({"title": "no url"})
    with pytest.raises(SourceError, match="must be an object"):
        Source.from_dict(["https://a.example/"])  # type: ignore[arg-type]


def test_dates_are_utc_and_date_only_values_accepted() -> None:
    s = Source.from_dict(
        {
            "url": "https://a.example/",
            "last_modified": "2026-11-19",
            "retrieved_at": "2026-11-21T10:00:00",
        }
    )
    assert s.last_modified == datetime(2026, 11, 19, tzinfo=UTC)
    assert s.retrieved_at is not None and s.retrieved_at.tzinfo is not None


def test_from_verdict_carries_denials_from_the_publishers_signals() -> None:
    url = "https://news.example/article"
    verdict = evaluate(
        url,
        status=200,
        headers=[("content-type", "text/html"), ("x-robots-tag", "noai")],
        html="<p>x</p>",
    )
    src = Source.from_verdict(verdict, text=TEXT, title="Article")
    assert not src.allowed("ai-input")
    assert "noai" in src.denial_reasons()[0]
    result = shape(TEXT, [src])
    assert result.dropped_sources[0].url == url and result.citations == []


def test_from_verdict_applies_a_snippet_limit_obligation() -> None:
    url = "https://news.example/limited"
    html = '<html><head><meta name="robots" content="max-snippet:30"></head><body>x</body></html>'
    verdict = evaluate(url, status=200, headers=[("content-type", "text/html")], html=html)
    src = Source.from_verdict(
        verdict, text=TEXT, title="Limited", source_class="community", license="CC BY-SA 4.0"
    )
    assert src.allowed("ai-input") and src.snippet_limit() == 30
    result = shape(TEXT, [src], kind="primary_source")
    # The copied sentence is over the limit: removed whole, and no export carries more than 30 characters.
    assert any("snippet limit of 30" in a.detail for a in result.actions)
    assert all(len(c.cited_text or "") <= 30 for c in result.citations)


def test_from_verdict_with_a_failed_fetch_denies_every_usage() -> None:
    verdict = evaluate("https://news.example/secret", status=403)
    src = Source.from_verdict(verdict, text=TEXT)
    assert not src.allowed("ai-input") and "403" in src.denial_reasons()[0]


def test_from_ledger_reads_a_stored_page_and_reports_a_missing_one(tmp_path: Path) -> None:
    from crawler.ledger import Ledger
    from crawler.ledger.records import PageRecord

    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with Ledger(db) as ledger:
        ledger.start_crawl(
            "c1", user_agent="fairfetch", purposes=["ai-input"], seeds=[], settings={}
        )
        ledger.record_page(
            PageRecord(
                url="https://en.wikipedia.org/wiki/Battle_of_Hastings",
                crawl_id="c1",
                fetched_at=datetime(2026, 11, 21, 10, tzinfo=UTC),
                status=200,
                text=TEXT,
                metadata={
                    "title": "Battle of Hastings",
                    "site_name": "Wikipedia",
                    "date": "2026-11-20",
                },
                decisions={
                    "ai-input": {"allowed": True, "reasons": ["default"], "obligations": []}
                },
                source_class="community",
                platform="wikipedia",
                user_agent="fairfetch",
                purposes=["ai-input"],
            )
        )
    src = Source.from_ledger(db, "https://en.wikipedia.org/wiki/Battle_of_Hastings")
    assert src.title == "Battle of Hastings" and src.publisher == "Wikipedia" and src.text == TEXT
    assert src.source_class == "community" and src.allowed("ai-input")
    assert src.last_modified == datetime(2026, 11, 20, tzinfo=UTC)
    assert src.retrieved_at == datetime(2026, 11, 21, 10, tzinfo=UTC)
    with pytest.raises(SourceNotFound, match=re.escape("has no page for https://nowhere.example/")):
        Source.from_ledger(db, "https://nowhere.example/")


def test_policy_from_toml_text_and_file_merge_over_defaults(tmp_path: Path) -> None:
    text = """
support_threshold = 0.6
denied_sentences = "flag"

[limits.aggregator]
max_quote_words = 10
"""
    p = Policy.from_toml(text)
    assert p.support_threshold == 0.6 and p.denied_sentences == "flag"
    agg = p.limits_for("aggregator")
    assert agg.max_quote_words == 10 and agg.max_quote_chars == 160  # unset keys keep defaults
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    assert Policy.from_toml(path) == p == Policy.from_toml(str(path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("support_threshold = ", "not valid TOML"),
        ("support_threshold = 2", "support_threshold"),
        ("[limits]\naggregator = 3", "limits.aggregator must be a table"),
        ("surprise = 1", "surprise"),
        ('[limits.unknown]\nmax_share = "a lot"', "max_share"),
        ("[limits.agregator]\nmax_quotes = 2", "limits.agregator: unknown source class"),
    ],
)
def test_policy_errors_are_plain_words(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message) as info:
        Policy.from_toml(text)
    assert isinstance(info.value, SignalError)


def test_denied_sentences_can_be_flagged_instead_of_removed() -> None:
    denied = Source(url="https://paywalled.example/a", text=TEXT, decisions={"ai-input": False})
    result = shape(TEXT, [denied], policy=Policy(denied_sentences="flag"))
    assert result.text == TEXT
    assert [a.kind for a in result.actions if a.kind.endswith("sentence")] == ["flag_sentence"]


def test_instructions_phrase_the_same_norms_for_a_prompt() -> None:
    ok = Source(
        url="https://en.wikipedia.org/wiki/Battle_of_Hastings",
        title="Battle of Hastings",
        text=TEXT,
        source_class="community",
    )
    agg = Source(
        url="https://www.youtube.com/watch?v=abc",
        title="Hastings in 5 minutes",
        text=TEXT,
        source_class="aggregator",
    )
    bad = Source(
        url="https://paywalled.example/a",
        text=TEXT,
        decisions={"ai-input": False},
        decision_reasons={"ai-input": ("paywall",)},
    )
    prompt = instructions([ok, agg, bad], query="When was Hastings?")
    assert "Question: When was Hastings?" in prompt
    assert "[1] Battle of Hastings - https://en.wikipedia.org/wiki/Battle_of_Hastings" in prompt
    assert (
        "edit history: https://en.wikipedia.org/w/index.php?title=Battle_of_Hastings&action=history"
        in prompt
    )
    assert (
        "quote at most 25 words / 160 characters verbatim per quote, at most 1 quote(s), never more than 5% of it"
        in prompt
    )
    assert (
        "[3] https://paywalled.example/a - https://paywalled.example/a\n    DO NOT USE: paywall."
        in prompt
    )
    assert "at least 3 sources on different websites" in prompt


def test_instructions_with_no_usable_source_say_so() -> None:
    bad = Source(url="https://paywalled.example/a", text=TEXT, decisions={"ai-input": False})
    assert "No source may be used" in instructions([bad])


def test_from_verdict_takes_class_platform_links_and_date_from_a_classification() -> None:
    from norms.classify.page import classify_page

    url = "https://en.wikipedia.org/wiki/Battle_of_Hastings"
    html = (
        '<html><head><meta name="generator" content="MediaWiki 1.42"><title>Battle of Hastings</title></head>'
        f"<body><p>{TEXT}</p></body></html>"
    )
    headers = [("content-type", "text/html"), ("last-modified", "Thu, 19 Nov 2026 10:00:00 GMT")]
    classification = classify_page(url, html, headers=headers)
    verdict = evaluate(url, status=200, headers=headers, html=html)
    page_text = TEXT + " The abbey, the gatehouse and the visitor centre stand on the site today." * 5
    src = Source.from_verdict(
        verdict,
        text=page_text,
        title="Battle of Hastings",
        classification=classification,
        retrieved_at=datetime(2026, 11, 21, tzinfo=UTC),
    )
    assert (src.source_class, src.platform) == ("community", "wikipedia")
    assert src.last_modified == datetime(2026, 11, 19, 10, tzinfo=UTC)
    assert (
        src.edit_history_url
        == "https://en.wikipedia.org/w/index.php?title=Battle_of_Hastings&action=history"
    )
    result = shape(TEXT, [src], query="Where was the Battle of Hastings fought?")
    assert result.kind.value == "rapidly_evolving"  # changed two days before retrieval
    assert result.text.startswith(
        "As of 19 November 2026, according to Wikipedia, the Battle of Hastings"
    )
