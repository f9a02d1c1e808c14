"""IETF AI Preferences: Content-Usage values (RFC 9651 dictionaries) and the HTTP header."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from norms.aipref import (
    content_usage_header_statements,
    parse_content_usage,
    read_content_usage,
    read_content_usage_headers,
)
from norms.model import Effect, Signal, Usage

URL = "https://news.example/a"


def test_the_draft_example() -> None:
    assert parse_content_usage("train-ai=n, search=y") == {"train-ai": False, "search": True}


@pytest.mark.parametrize(
    "value",
    [
        'train-ai="n"',  # a String, not the Token n
        "train-ai",  # bare key: Boolean true
        "train-ai=no",  # another token
        "train-ai=?0",
        "train-ai=1",
        "train-ai=(n)",
    ],
)
def test_values_other_than_the_tokens_y_and_n_are_unknown(value: str) -> None:
    reading = read_content_usage(value)
    assert reading.valid
    assert reading.prefs == {}
    assert reading.warnings


@pytest.mark.parametrize(
    "value",
    ["Train-AI=n", "train-ai = n", "train-ai=n,", "train-ai=n;;", "train-ai=n\x00", "ä=n"],
)
def test_a_dictionary_that_fails_to_parse_leaves_everything_unknown(value: str) -> None:
    reading = read_content_usage(value)
    assert not reading.valid
    assert reading.prefs == {}
    assert "every category unknown" in reading.warnings[0]


def test_duplicate_keys_last_one_wins() -> None:
    assert parse_content_usage("train-ai=n, search=y, train-ai=y") == {"train-ai": True, "search": True}


def test_unknown_labels_and_parameters_are_ignored() -> None:
    reading = read_content_usage("bots=n, all=n, search=y;foo=1, tdm=n")
    assert reading.prefs == {"search": True}
    assert sum("unknown label" in w for w in reading.warnings) == 3


def test_cc_exceptions_parameter_is_kept_for_evidence() -> None:
    reading = read_content_usage('ai-use=n;exceptions=cc-cr, train-ai=n;exceptions="cc-cr-dc"')
    assert reading.prefs == {"ai-use": False, "train-ai": False}
    assert reading.exceptions == {"ai-use": "cc-cr", "train-ai": '"cc-cr-dc"'}


def test_empty_value_is_valid_and_says_nothing() -> None:
    reading = read_content_usage("")
    assert reading.valid and reading.prefs == {} and reading.warnings == ()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(value: str) -> None:
    prefs = parse_content_usage(value)
    assert all(isinstance(v, bool) for v in prefs.values())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["train-ai", "search", "ai-use", "x", "train-genai"]), st.sampled_from("yn")),
        max_size=6,
    )
)
def test_well_formed_dictionaries_read_last_value_per_known_label(pairs: list[tuple[str, str]]) -> None:
    value = ", ".join(f"{k}={v}" for k, v in pairs)
    expected = {k: v == "y" for k, v in pairs if k != "x"}
    assert parse_content_usage(value) == expected


def test_header_statements_map_through_the_vocabulary() -> None:
    got = content_usage_header_statements({"Content-Usage": "train-ai=n, search=y, ai-use=n"}, URL)
    assert [(s.usage, s.effect, s.derived) for s in got] == [
        (Usage.SEARCH, Effect.ALLOW, False),
        (Usage.AI_INDEX, Effect.DENY, True),
        (Usage.AI_INPUT, Effect.DENY, False),
        (Usage.AI_TRAIN, Effect.DENY, False),
    ]
    ev = got[0].evidence
    assert (ev.signal, ev.source, ev.raw) == (Signal.CONTENT_USAGE, URL, "train-ai=n, search=y, ai-use=n")


def test_header_split_across_lines_is_joined_before_parsing() -> None:
    headers = [("Content-Usage", "train-ai=n"), ("Content-Usage", "search=y, train-ai=y")]
    result = read_content_usage_headers(headers, URL)
    assert result.reading is not None and result.reading.prefs == {"train-ai": True, "search": True}
    assert result.statements[0].evidence.raw == "train-ai=n, search=y, train-ai=y"


def test_header_lines_that_break_the_dictionary_make_it_all_unknown() -> None:
    headers = [("Content-Usage", "train-ai=n"), ("Content-Usage", "Search=y")]
    result = read_content_usage_headers(headers, URL)
    assert result.statements == []
    assert result.warnings and "every category unknown" in result.warnings[0]


def test_legacy_train_genai_is_a_derived_ai_train_reading_and_combines_restrictively() -> None:
    got = content_usage_header_statements([("content-usage", "train-ai=y, train-genai=n")], URL)
    assert [(s.usage, s.effect, s.derived) for s in got] == [(Usage.AI_TRAIN, Effect.DENY, True)]


def test_exceptions_appear_in_the_evidence_rule() -> None:
    got = content_usage_header_statements([("content-usage", "ai-use=n;exceptions=cc-cr")], URL)
    assert "ai-use=cc-cr" in got[0].evidence.rule


def test_no_header_no_statements() -> None:
    assert content_usage_header_statements([], URL) == []
    assert read_content_usage_headers(None, URL).reading is None
