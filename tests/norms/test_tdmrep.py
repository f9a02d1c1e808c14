"""TDMRep: tdmrep.json first-match rules, header and meta precedence, protocol errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from norms.model import Effect, ObligationKind, Signal, SignalError, Usage
from norms.tdmrep import parse_tdmrep_json, tdmrep_statements

# signals.md 5.4, example
EXAMPLE = (
    '[{"location":"/press/","tdm-reservation":0},'
    '{"location":"/","tdm-reservation":1,"tdm-policy":"https://news.example/tdm-policy.json"}]'
)


def by_usage(statements):
    return {s.usage: s for s in statements}


def reservation_of(f, url):
    rule = f.match(url)
    assert rule is not None, url
    return rule.reservation


def test_worked_example_first_match():
    f = parse_tdmrep_json(EXAMPLE)
    assert reservation_of(f, "https://news.example/press/x") == 0
    assert reservation_of(f, "https://news.example/other") == 1
    rule = f.match("https://news.example/other")
    assert rule is not None and rule.policy == "https://news.example/tdm-policy.json"
    assert f.warnings == []


def test_first_match_wins_even_if_a_later_rule_is_longer():
    f = parse_tdmrep_json(
        '[{"location":"/","tdm-reservation":1},{"location":"/open/","tdm-reservation":0}]'
    )
    rule = f.match("https://a.example/open/page")
    assert rule is not None and rule.reservation == 1 and rule.index == 0
    assert [r.location for r in f.shadowed("https://a.example/open/page")] == ["/open/"]


def test_statements_reserved_denies_training_directly_and_the_rest_derived():
    f = parse_tdmrep_json(EXAMPLE)
    sts = by_usage(tdmrep_statements("https://news.example/a", file=f))
    assert set(sts) == {Usage.AI_TRAIN, Usage.AI_INPUT, Usage.AI_INDEX}  # search engines ignore TDMRep
    assert sts[Usage.AI_TRAIN].effect is Effect.DENY and not sts[Usage.AI_TRAIN].derived
    assert sts[Usage.AI_INPUT].derived and sts[Usage.AI_INDEX].derived
    ev = sts[Usage.AI_TRAIN].evidence
    assert ev.signal is Signal.TDMREP
    assert ev.source == "https://news.example/.well-known/tdmrep.json"
    assert ev.element == "rule #2"
    assert "https://news.example/tdm-policy.json" in ev.rule
    ob = sts[Usage.AI_TRAIN].obligations[0]
    assert ob.kind is ObligationKind.LEGAL and ob.url == "https://news.example/tdm-policy.json"


def test_statements_not_reserved_allow_the_same_usages():
    f = parse_tdmrep_json(EXAMPLE)
    sts = tdmrep_statements("https://news.example/press/1", file=f)
    assert {s.effect for s in sts} == {Effect.ALLOW}
    assert {s.usage for s in sts} == {Usage.AI_TRAIN, Usage.AI_INPUT, Usage.AI_INDEX}
    assert all(not s.obligations for s in sts)


def test_header_overrides_file():
    f = parse_tdmrep_json(EXAMPLE)
    sts = tdmrep_statements("https://news.example/press/1", file=f, headers={"TDM-Reservation": "1"})
    assert {s.effect for s in sts} == {Effect.DENY}
    assert sts[0].evidence.element == "header tdm-reservation"


def test_absent_header_does_not_reset_the_file_value():
    f = parse_tdmrep_json(EXAMPLE)
    sts = tdmrep_statements("https://news.example/x", file=f, headers={"content-type": "text/html"})
    assert {s.effect for s in sts} == {Effect.DENY}
    assert sts[0].evidence.element == "rule #2"


def test_header_value_2_is_a_protocol_error_and_leaves_the_file_value():
    f = parse_tdmrep_json(EXAMPLE)
    sts = tdmrep_statements("https://news.example/x", file=f, headers=[("tdm-reservation", "2")])
    assert {s.effect for s in sts} == {Effect.DENY}
    assert sts[0].evidence.element == "rule #2"
    assert tdmrep_statements("https://a.example/", file=None, headers=[("tdm-reservation", "2")]) == []


def test_meta_overrides_header_and_file():
    f = parse_tdmrep_json(EXAMPLE)
    html = '<html><head><meta name="tdm-reservation" content="0"></head><body></body></html>'
    sts = tdmrep_statements("https://news.example/x", file=f, headers={"tdm-reservation": "1"}, html=html)
    assert {s.effect for s in sts} == {Effect.ALLOW}
    assert sts[0].evidence.element == '<meta name="tdm-reservation"> line 1'


def test_meta_policy_is_kept():
    html = (
        '<html><head><meta name="tdm-reservation" content="1">'
        '<meta name="tdm-policy" content="https://p.example/policy.json"></head></html>'
    )
    sts = tdmrep_statements("https://p.example/a", file=None, html=html)
    assert sts[0].obligations[0].url == "https://p.example/policy.json"


def test_no_signal_no_statements():
    assert tdmrep_statements("https://a.example/", file=None) == []
    f = parse_tdmrep_json('[{"location":"/private/","tdm-reservation":1}]')
    assert f.match("https://a.example/public") is None
    assert tdmrep_statements("https://a.example/public", file=f) == []


@pytest.mark.parametrize(
    ("location", "path", "matches"),
    [
        ("/", "/anything", True),
        ("/*", "/", True),
        ("/press/", "/press", False),
        ("/*.pdf$", "/docs/a.pdf", True),
        ("/*.pdf$", "/docs/a.pdf?x=1", False),
        ("/fish$", "/fish", True),
        ("/fish$", "/fishes", False),
        ("/a%62c", "/abc", True),  # percent-encoded unreserved characters are decoded
        ("/abc", "/a%62c", True),
        ("/price%24", "/price$", True),  # a literal $ is written %24
        ("/Press/", "/press/", False),  # case-sensitive
        ("/search?q=", "/search?q=x", True),
    ],
)
def test_location_patterns(location, path, matches):
    f = parse_tdmrep_json(f'[{{"location":"{location}","tdm-reservation":1}}]')
    assert (f.match("https://a.example" + path) is not None) is matches


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", 1), ("true", 1), ("1.0", 1), ('"1"', 1), ("0", 0), ("false", None), ('"0"', None), ("2", None), ("null", None)],
)
def test_reservation_values(value, expected):
    f = parse_tdmrep_json(f'[{{"location":"/","tdm-reservation":{value}}}]')
    if value == "null":
        assert f.rules == [] and f.warnings
        return
    assert f.rules[0].reservation == expected
    assert bool(f.warnings) is (value not in ("1", "0"))


def test_invalid_value_rule_still_matches_first_and_says_nothing():
    f = parse_tdmrep_json('[{"location":"/","tdm-reservation":2},{"location":"/","tdm-reservation":1}]')
    assert reservation_of(f, "https://a.example/x") is None
    assert tdmrep_statements("https://a.example/x", file=f) == []


def test_bare_object_is_flagged_and_read_as_one_rule():
    f = parse_tdmrep_json('{"location":"/","tdm-reservation":1}')
    assert len(f.rules) == 1 and "single object" in f.warnings[0]


def test_rule_without_location_is_site_wide_only_when_it_reserves():
    reserved = parse_tdmrep_json('[{"tdm-reservation":1}]')
    assert reservation_of(reserved, "https://a.example/deep/page") == 1
    open_ = parse_tdmrep_json('[{"tdm-reservation":0}]')
    assert open_.rules == [] and "never grants" in open_.warnings[0]


def test_odd_locations_are_repaired_with_a_warning():
    f = parse_tdmrep_json(
        '[{"location":"https://a.example/x/","tdm-reservation":1},{"location":"y/","tdm-reservation":0}]'
    )
    assert [r.location for r in f.rules] == ["/x/", "/y/"]
    assert len(f.warnings) == 2


def test_non_object_items_are_skipped():
    f = parse_tdmrep_json('[1, "x", {"location":"/","tdm-reservation":1}]')
    assert len(f.rules) == 1 and f.rules[0].index == 2 and len(f.warnings) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not valid JSON"),
        (b"{nope", "not valid JSON"),
        (b'"a string"', "must be an array"),
        (b"42", "must be an array"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[" * 100000, "nested too deeply"),
    ],
)
def test_malformed_files_raise_signal_error(body, message):
    with pytest.raises(SignalError, match=message):
        parse_tdmrep_json(body)


def test_bom_is_accepted():
    f = parse_tdmrep_json(b'\xef\xbb\xbf[{"location":"/","tdm-reservation":1}]')
    assert f.rules[0].reservation == 1


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_parse_or_raise_signal_error(body):
    try:
        f = parse_tdmrep_json(body)
    except SignalError:
        return
    f.match("https://a.example/x")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["location", "tdm-reservation", "tdm-policy", "x"]), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.text(max_size=30))
def test_arbitrary_json_documents_parse_or_raise_signal_error(doc, path):
    import json

    try:
        f = parse_tdmrep_json(json.dumps(doc))
    except SignalError:
        return
    tdmrep_statements("https://a.example/" + path, file=f, headers=[("tdm-reservation", path)])


def test_same_rule_yields_the_same_statement_objects():
    # norms.evaluate memoises its combination on statement identity.
    f = parse_tdmrep_json(EXAMPLE)
    a = tdmrep_statements("https://news.example/a", file=f)
    b = tdmrep_statements("https://news.example/b", file=f)
    assert a and all(x is y for x, y in zip(a, b, strict=True))
