"""X-Robots-Tag, Robots-Tag and robots meta: one union of restrictions per user agent."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from norms.html import parse_html
from norms.model import Effect, ObligationKind, Signal, Usage
from norms.robots_tags import (
    DEFAULT_SNIPPET_CHARS,
    IMAGE_SELECTORS,
    parse_date,
    product_token,
    robots_directives,
)

URL = "https://news.example/a"
NOW = datetime(2026, 11, 21, tzinfo=UTC)


def rd(headers=None, html=None, ua="fairfetch"):
    return robots_directives(headers, html, ua, source_url=URL, now=NOW)


def effects(directives):
    return {(s.usage, s.effect, s.derived) for s in directives.statements()}


# --- X-Robots-Tag lines and user-agent prefixes (signals.md 6.1, 12.6) ---------------------


def test_bot_prefix_does_not_swallow_a_bare_rule_on_the_next_line():
    d = rd([("X-Robots-Tag", "googlebot: nofollow"), ("X-Robots-Tag", "noindex")])
    assert d.noindex is True
    assert d.nofollow is False  # addressed to googlebot only
    assert [e.element for e in d.evidence] == ["header X-Robots-Tag #2"]
    assert d.evidence[0].signal is Signal.X_ROBOTS_TAG


def test_joined_lines_would_have_changed_the_meaning():
    # What a CDN that joins repeated headers would send: the bare noindex falls under googlebot.
    d = rd([("X-Robots-Tag", "googlebot: nofollow, noindex")])
    assert d.noindex is False


def test_prefix_for_our_token_applies_and_scopes_until_the_next_prefix():
    d = rd([("X-Robots-Tag", "otherbot: noindex, fairfetch: noai, nosnippet, otherbot2: noarchive")])
    assert (d.noindex, d.noai, d.nosnippet, d.noarchive) == (False, True, True, False)
    assert all("addressed to fairfetch" in e.rule for e in d.evidence)


def test_prefix_matches_product_token_of_a_full_user_agent_case_insensitively():
    d = rd([("X-Robots-Tag", "FairFetch: noindex")], ua="fairfetch/0.1 (+https://fairfetch.example)")
    assert d.noindex is True
    assert product_token("FairFetch/0.1 (+x)") == "fairfetch"


def test_valued_directives_are_not_user_agent_prefixes():
    d = rd([("X-Robots-Tag", "max-snippet:20, max-image-preview:large, noai")])
    assert d.max_snippet == 20
    assert d.noai is True  # would be lost if max-snippet were read as a bot prefix
    d0 = rd([("X-Robots-Tag", "max-snippet:0")])
    assert d0.max_snippet == 0


def test_max_snippet_minus_one_and_junk_do_not_restrict():
    d = rd([("X-Robots-Tag", "max-snippet:-1"), ("X-Robots-Tag", "max-snippet:lots")])
    assert d.max_snippet is None
    assert d.statements() == []
    assert any("lots" in w for w in d.warnings)


def test_smallest_snippet_limit_wins():
    d = rd([("X-Robots-Tag", "max-snippet:50"), ("X-Robots-Tag", "fairfetch: max-snippet:20")])
    assert d.max_snippet == 20
    lim = [o.limit for s in d.statements() for o in s.obligations]
    assert lim and set(lim) == {20}


def test_values_are_case_insensitive_and_none_means_noindex_nofollow():
    d = rd([("x-robots-tag", "NONE")])
    assert d.noindex and d.nofollow


def test_unavailable_after_in_the_past_means_noindex_and_rfc850_comma_survives():
    d = rd([("X-Robots-Tag", "unavailable_after: Sunday, 01-Sep-19 12:34:56 GMT, noarchive")])
    assert d.unavailable_after == datetime(2019, 9, 1, 12, 34, 56, tzinfo=UTC)
    assert d.noindex is True
    assert d.noarchive is True


def test_unavailable_after_in_the_future_is_recorded_but_not_noindex():
    d = rd([("X-Robots-Tag", "unavailable_after: 2027-01-01")])
    assert d.unavailable_after == datetime(2027, 1, 1, tzinfo=UTC)
    assert d.noindex is False
    assert d.statements() == []
    assert "noindex from then on" in d.evidence[0].rule


def test_unreadable_date_is_a_warning_not_a_crash():
    d = rd([("X-Robots-Tag", "unavailable_after: soonish")])
    assert d.unavailable_after is None
    assert d.warnings


def test_parse_date_formats():
    assert parse_date("2027-01-01T10:00:00Z") == datetime(2027, 1, 1, 10, tzinfo=UTC)
    assert parse_date("Fri, 01 Jan 2027 00:00:00 GMT") == datetime(2027, 1, 1, tzinfo=UTC)
    assert parse_date("25 Jun 2010 15:00:00 PST") == datetime(2010, 6, 25, 23, tzinfo=UTC)
    assert parse_date("25 Jun 2010") == datetime(2010, 6, 25, tzinfo=UTC)
    assert parse_date("01-Sep-2019 12:34:56 GMT") == datetime(2019, 9, 1, 12, 34, 56, tzinfo=UTC)
    assert parse_date("") is None


# --- Robots-Tag structured field (draft-illyes-repext, signals.md 6.3) ----------------------


def test_robots_tag_field_star_and_own_token_union():
    d = rd([("Robots-Tag", "*;nosnippet, fairfetch;noindex, otherbot;noai")])
    assert (d.nosnippet, d.noindex, d.noai) == (True, True, False)
    assert all(e.element == "header Robots-Tag #1" for e in d.evidence)


def test_robots_tag_parameters_with_values():
    d = rd([("Robots-Tag", "fairfetch;max-snippet=12")])
    assert d.max_snippet == 12


def test_malformed_robots_tag_field_is_ignored_with_a_warning():
    d = rd([("Robots-Tag", "fairfetch;noindex garbage")])
    assert d.noindex is False
    assert "structured-field" in d.warnings[0]


# --- meta robots ---------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html><head>
<title>t</title>
<meta name="ROBOTS" content="NoArchive">
<meta name="fairfetch" content="noai">
<meta name="googlebot" content="noindex">
</head><body>
<p>text</p>
<meta name="robots" content="nosnippet">
</body></html>
"""


def test_meta_robots_own_token_and_foreign_token():
    d = rd(html=PAGE)
    assert d.noarchive and d.noai
    assert d.noindex is False  # googlebot's meta is not ours
    elements = [e.element for e in d.evidence]
    assert elements[0] == '<meta name="robots"> line 4'
    assert elements[1] == '<meta name="fairfetch"> line 5'
    assert all(e.signal is Signal.META_ROBOTS for e in d.evidence)


def test_meta_outside_head_is_applied_and_marked():
    d = rd(html=PAGE)
    assert d.nosnippet is True
    outside = [e for e in d.evidence if "outside <head>" in e.rule]
    assert len(outside) == 1 and outside[0].raw == "nosnippet"


def test_union_of_header_and_meta_and_htmldoc_accepted():
    doc = parse_html(PAGE)
    d = rd([("X-Robots-Tag", "noindex")], doc)
    assert d.noindex and d.noarchive and d.noai and d.nosnippet
    assert d.evidence[0].signal is Signal.X_ROBOTS_TAG


def test_mapping_headers_with_list_values_keep_their_order():
    d = rd({"X-Robots-Tag": ["googlebot: nofollow", "noindex"]})
    assert d.noindex and not d.nofollow


def test_nothing_restricts_yields_no_statements():
    d = rd([("X-Robots-Tag", "all"), ("X-Robots-Tag", "index, follow")], "<html><head></head></html>")
    assert d.statements() == [] and d.evidence == []


# --- statements through the vocabulary ------------------------------------------------------------


def test_noai_statements_direct_for_training_derived_for_input_and_index():
    d = rd([("X-Robots-Tag", "noai")])
    assert effects(d) == {
        (Usage.AI_TRAIN, Effect.DENY, False),
        (Usage.AI_INPUT, Effect.DENY, True),
        (Usage.AI_INDEX, Effect.DENY, True),
    }


def test_noindex_denies_search_directly():
    d = rd([("X-Robots-Tag", "noindex")])
    assert (Usage.SEARCH, Effect.DENY, False) in effects(d)
    assert (Usage.AI_TRAIN, Effect.DENY, False) not in effects(d)


def test_nosnippet_denies_ai_input_and_limits_search_to_zero():
    d = rd([("X-Robots-Tag", "nosnippet")])
    sts = d.statements()
    assert {(s.usage, s.effect) for s in sts} == {(Usage.AI_INPUT, Effect.DENY), (Usage.SEARCH, Effect.ALLOW)}
    search = next(s for s in sts if s.usage is Usage.SEARCH)
    assert search.obligations[0].kind is ObligationKind.SNIPPET_LIMIT
    assert search.obligations[0].limit == 0


def test_max_snippet_zero_behaves_like_nosnippet():
    d = rd([("X-Robots-Tag", "max-snippet:0")])
    assert {(s.usage, s.effect) for s in d.statements()} == {
        (Usage.AI_INPUT, Effect.DENY),
        (Usage.SEARCH, Effect.ALLOW),
    }


def test_max_snippet_limits_search_and_ai_input_on_allows():
    d = rd([("X-Robots-Tag", "max-snippet:40")])
    sts = d.statements()
    assert {s.usage for s in sts} == {Usage.SEARCH, Usage.AI_INPUT}
    assert all(s.effect is Effect.ALLOW and s.obligations[0].limit == 40 for s in sts)


def test_noarchive_denies_input_and_training():
    d = rd(html='<html><head><meta name="robots" content="noarchive,noodp"></head></html>')
    assert effects(d) == {(Usage.AI_INPUT, Effect.DENY, False), (Usage.AI_TRAIN, Effect.DENY, False)}


def test_nocache_is_a_snippet_limit_on_allows_and_noarchive_still_denies():
    d = rd([("X-Robots-Tag", "nocache")])
    sts = d.statements()
    assert {s.usage for s in sts} == {Usage.AI_INPUT, Usage.AI_TRAIN}
    assert all(s.obligations[0].limit == DEFAULT_SNIPPET_CHARS for s in sts)
    both = rd([("X-Robots-Tag", "nocache, noarchive")])
    assert (Usage.AI_TRAIN, Effect.DENY, False) in effects(both)


def test_noimageai_excludes_images_and_is_not_a_page_denial():
    d = rd([("X-Robots-Tag", "noimageai")])
    sts = d.statements()
    assert sts and all(s.effect is Effect.ALLOW for s in sts)
    assert {s.usage for s in sts} == {Usage.AI_INDEX, Usage.AI_INPUT, Usage.AI_TRAIN}
    ob = sts[0].obligations[0]
    assert ob.kind is ObligationKind.EXCLUDE_PARTS and ob.selectors == IMAGE_SELECTORS


def test_statement_evidence_points_at_the_carrier_of_that_directive():
    d = rd([("X-Robots-Tag", "noarchive"), ("X-Robots-Tag", "fairfetch: noai")])
    train = [s for s in d.statements() if s.usage is Usage.AI_TRAIN]
    elements = {s.evidence.element for s in train}
    assert elements == {"header X-Robots-Tag #1", "header X-Robots-Tag #2"}


# --- robustness ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["X-Robots-Tag", "Robots-Tag", "x-robots-tag"]), st.text(max_size=80)),
        max_size=5,
    ),
    st.text(max_size=200),
)
def test_arbitrary_header_and_meta_text_never_raises(lines, meta_content):
    html = f'<html><head><meta name="robots" content="{meta_content.replace(chr(34), "")}"></head></html>'
    d = robots_directives(lines, html, "fairfetch", source_url=URL)
    d.statements()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_html_bytes_never_raise(body):
    robots_directives(None, body, "fairfetch", source_url=URL).statements()


def test_union_of_initial_html_and_rendered_dom():
    # A script removed the noindex meta and added a max-snippet: both restrictions stay.
    initial = rd(html='<html><head><meta name="robots" content="noindex, max-snippet:30"></head></html>')
    rendered = rd(html='<html><head><meta name="robots" content="max-snippet:10, noai"></head></html>')
    both = initial.union(rendered)
    assert both.noindex and both.noai and both.max_snippet == 10
    assert len(both.evidence) == len(initial.evidence) + len(rendered.evidence)
    assert (Usage.SEARCH, Effect.DENY, False) in effects(both)
    limits = {o.limit for s in both.statements() for o in s.obligations}
    assert limits == {10}
