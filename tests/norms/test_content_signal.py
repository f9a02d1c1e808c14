"""Cloudflare Content Signals: the value reader and the non-standard HTTP header."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from norms.content_signal import (
    content_signal_header_statements,
    parse_content_signal,
    read_content_signal,
    read_content_signal_headers,
)
from norms.model import Effect, Signal, Usage

URL = "https://news.example/a"


def test_the_cloudflare_default_line() -> None:
    assert parse_content_signal("search=yes, ai-train=no") == {"search": True, "ai-train": False}


def test_all_three_signals() -> None:
    assert parse_content_signal("search=yes,ai-input=no,ai-train=no") == {
        "search": True,
        "ai-input": False,
        "ai-train": False,
    }


def test_keys_and_values_are_case_insensitive_and_trimmed() -> None:
    assert parse_content_signal("  Search = YES ,AI-Train=No ") == {"search": True, "ai-train": False}


def test_unknown_keys_and_values_are_ignored_and_reported() -> None:
    reading = read_content_signal("search-ai=no, use=reference, ai-train=allow, search=yes, junk")
    assert reading.signals == {"search": True}
    assert reading.pairs == 4
    assert any("search-ai" in w for w in reading.warnings)
    assert any("use" in w for w in reading.warnings)
    assert any("ai-train='allow'" in w for w in reading.warnings)
    assert any("'junk'" in w for w in reading.warnings)


def test_a_key_given_both_ways_in_one_line_reads_no() -> None:
    reading = read_content_signal("ai-train=yes, ai-train=no, ai-train=yes")
    assert reading.signals == {"ai-train": False}
    assert reading.warnings


def test_empty_value_says_nothing() -> None:
    reading = read_content_signal("")
    assert reading.signals == {} and reading.pairs == 0 and reading.warnings == ()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(value: str) -> None:
    signals = parse_content_signal(value)
    assert set(signals) <= {"search", "ai-input", "ai-train"}
    assert all(isinstance(v, bool) for v in signals.values())


def test_header_statements_map_through_the_vocabulary() -> None:
    got = content_signal_header_statements(
        [("Content-Signal", "ai-train=yes, search=yes, ai-input=no")], URL
    )
    assert [(s.usage, s.effect, s.derived) for s in got] == [
        (Usage.SEARCH, Effect.ALLOW, False),
        (Usage.AI_INDEX, Effect.DENY, True),
        (Usage.AI_INPUT, Effect.DENY, False),
        (Usage.AI_TRAIN, Effect.ALLOW, False),
    ]
    ev = got[0].evidence
    assert (ev.signal, ev.source, ev.raw, ev.line) == (
        Signal.CONTENT_SIGNAL,
        URL,
        "ai-train=yes, search=yes, ai-input=no",
        None,
    )


def test_several_header_lines_combine_most_restrictively() -> None:
    headers = [
        ("content-signal", "ai-train=yes, search=yes, ai-input=yes"),
        ("Content-Type", "text/markdown"),
        ("CONTENT-SIGNAL", "ai-train=no"),
    ]
    got = {s.usage: s for s in content_signal_header_statements(headers, URL)}
    assert got[Usage.AI_TRAIN].effect is Effect.DENY
    assert got[Usage.AI_TRAIN].evidence.raw == "ai-train=no"
    assert got[Usage.SEARCH].effect is Effect.ALLOW
    assert got[Usage.AI_INPUT].effect is Effect.ALLOW


def test_header_warnings_and_dict_headers() -> None:
    result = read_content_signal_headers({"Content-Signal": "search=maybe"}, URL)
    assert result.statements == []
    assert result.warnings == ["Content-Signal header: search='maybe': only 'yes' or 'no' mean anything; ignored"]


def test_no_header_no_statements() -> None:
    assert content_signal_header_statements(None, URL) == []
    assert content_signal_header_statements({"Content-Type": "text/html"}, URL) == []
