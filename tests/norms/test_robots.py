"""robots.txt reader: RFC 9309 conformance, our decisions where protego differs, and the extra records."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from protego import Protego
from protego._urlpattern import _URLPattern

from norms import robots_match
from norms.model import Effect, Signal, SignalError, Usage
from norms.robots import (
    MAX_REDIRECTS,
    ROBOTS_MAX_BYTES,
    RequestRate,
    RobotsTxt,
    parse_robots,
    robots_from_fetch,
)
from norms.robots_match import PathIndex, normalise_pattern, normalise_url

SRC = "https://news.example/robots.txt"
BASE = "https://news.example"


def robots(text: str | bytes) -> RobotsTxt:
    return parse_robots(text, source_url=SRC)


def allowed(r: RobotsTxt, path: str, agent: str = "fairfetch") -> bool:
    return r.allowed(BASE + path, agent)


# ---------------------------------------------------------------- signals.md 1.9 worked example

EXAMPLE = """\
Sitemap: https://news.example/sitemap.xml
User-agent: *
Disallow: /account/
Allow: /account/help$

User-agent: ExampleAIBot
User-agent: OtherBot
Disallow: /
Allow: /press/
"""


def test_worked_example_named_bot_press_is_allowed_by_the_longer_allow() -> None:
    m = robots(EXAMPLE).match(BASE + "/press/x", "ExampleAIBot")
    assert m.allowed
    assert m.rule is not None and (m.rule.directive, m.rule.pattern, m.rule.line) == ("allow", "/press/", 9)


def test_worked_example_named_bot_does_not_consult_the_star_group() -> None:
    m = robots(EXAMPLE).match(BASE + "/account/help", "ExampleAIBot")
    assert not m.allowed
    assert m.rule is not None and m.rule.raw == "Disallow: /" and m.rule.line == 8
    assert m.group == "exampleaibot"


def test_worked_example_other_bot_on_account_help() -> None:
    r = robots(EXAMPLE)
    assert allowed(r, "/account/help")
    assert r.match(BASE + "/account/help", "fairfetch").rule.line == 4  # type: ignore[union-attr]
    assert not allowed(r, "/account/help?x=1")
    assert r.sitemaps == ["https://news.example/sitemap.xml"]
    assert r.sitemap_entries[0].line == 1


# ---------------------------------------------------------------- group selection


def test_groups_naming_the_same_token_are_merged_and_longest_match_runs_across_them() -> None:
    r = robots(
        "User-agent: GPTBot\nDisallow: /a/\n\nUser-agent: other\nDisallow: /\n\n"
        "User-agent: gptbot\nAllow: /a/public/\nDisallow: /b/\n"
    )
    assert not allowed(r, "/a/x", "GPTBot")
    assert allowed(r, "/a/public/x", "GPTBot")
    assert not allowed(r, "/b/", "GPTBot")
    assert allowed(r, "/c", "GPTBot")


def test_leading_token_of_a_user_agent_value_selects_the_group() -> None:
    r = robots("User-agent: Googlebot/2.1\nDisallow: /g/\n\nUser-agent: Brightbot 1.0\nDisallow: /b/\n")
    assert not allowed(r, "/g/x", "Googlebot")
    assert not allowed(r, "/b/x", "brightbot")
    assert r.group_for("googlebot") == "googlebot"
    # The full value, lowercased, selects too.
    assert not allowed(r, "/g/x", "googlebot/2.1")


def test_protego_differs_on_leading_token_leniency() -> None:
    text = "User-agent: Googlebot/2.1\nDisallow: /g/\n"
    assert Protego.parse(text).can_fetch(BASE + "/g/x", "Googlebot")
    assert not allowed(robots(text), "/g/x", "Googlebot")


def test_selection_is_case_insensitive() -> None:
    r = robots("User-agent: GPTBOT\nDisallow: /\n")
    assert not allowed(r, "/x", "gptbot")
    assert not allowed(r, "/x", "GPTBot")
    assert not allowed(r, "/x", " GptBot ")


def test_a_group_value_is_not_matched_as_a_substring_of_our_token() -> None:
    text = "User-agent: Google\nDisallow: /\n"
    # protego reads "Google" as applying to "Google-Extended" (token-boundary substring).
    assert not Protego.parse(text).can_fetch(BASE + "/x", "Google-Extended")
    assert allowed(robots(text), "/x", "Google-Extended")
    # ... but the leading-token rule does apply to the group's own value.
    assert not allowed(robots("User-agent: Google-Extended/1.0\nDisallow: /\n"), "/x", "google-extended")


def test_a_named_group_replaces_star_entirely() -> None:
    r = robots("User-agent: *\nDisallow: /private/\n\nUser-agent: fairfetch\nDisallow: /drafts/\n")
    assert allowed(r, "/private/x")
    assert not allowed(r, "/drafts/x")
    assert not allowed(r, "/private/x", "otherbot")
    assert r.group_for("fairfetch") == "fairfetch"
    assert r.group_for("otherbot") == "*"


def test_several_star_groups_are_merged() -> None:
    r = robots("User-agent: *\nDisallow: /a/\n\nUser-agent: x\nDisallow: /\n\nUser-agent: *\nDisallow: /b/\n")
    assert not allowed(r, "/a/1")
    assert not allowed(r, "/b/1")
    assert allowed(r, "/c/1")


def test_no_matching_group_and_no_star_allows_everything() -> None:
    r = robots("User-agent: GPTBot\nDisallow: /\n")
    assert allowed(r, "/anything")
    assert r.group_for("fairfetch") is None
    assert r.match(BASE + "/anything", "fairfetch").rule is None


def test_empty_file_allows_everything() -> None:
    r = robots(b"")
    assert allowed(r, "/x")
    assert r.warnings == []


# ---------------------------------------------------------------- grouping


def test_non_standard_records_between_agents_and_rules_do_not_end_a_group() -> None:
    text = (
        "User-agent: a\n"
        "Sitemap: https://news.example/s.xml\n"
        "License: https://news.example/l.xml\n"
        "Crawl-delay: 3\n"
        "User-agent: b\n"
        "Disallow: /x/\n"
        "Sitemap: https://news.example/s2.xml\n"
        "Content-Signal: ai-train=no\n"
        "Content-Usage: train-ai=n\n"
        "Crawl-delay: 3\n"
        "Disallow: /y/\n"
    )
    r = robots(text)
    for agent in ("a", "b"):
        assert not allowed(r, "/x/1", agent)
        assert not allowed(r, "/y/1", agent)
        assert r.crawl_delay(agent) == 3.0
        assert [ref.url for ref in r.licenses(agent)] == ["https://news.example/l.xml"]
        assert len(r.statements(BASE + "/z", agent)) == 2
    assert r.sitemaps == ["https://news.example/s.xml", "https://news.example/s2.xml"]
    # protego ends the group at the Crawl-delay line: "a" loses the rules.
    assert Protego.parse(text).can_fetch(BASE + "/y/1", "a")


@pytest.mark.parametrize("record", ["Content-Signal: ai-train=no", "Content-Usage: train-ai=n"])
def test_preference_records_do_not_end_the_agent_list(record: str) -> None:
    # RFC 9309 2.2.4: records other than group rules must not interfere with
    # grouping, so both agents share one group (as Google's reference reads
    # it), and the preference line speaks for both.
    r = robots(f"User-agent: *\n{record}\nUser-agent: GPTBot\nDisallow: /\n")
    assert not allowed(r, "/x", "fairfetch")
    assert not allowed(r, "/x", "GPTBot")
    r = robots(f"User-agent: *\n{record}\nUser-agent: GPTBot\nAllow: /\n")
    assert r.statements(BASE + "/x", "fairfetch") != []
    assert r.statements(BASE + "/x", "GPTBot") != []


def test_blank_lines_and_comments_do_not_end_a_group() -> None:
    r = robots("User-agent: a\n\n# comment\n\nUser-agent: b\n\nDisallow: /x/ # why\n")
    assert not allowed(r, "/x/1", "a")
    assert not allowed(r, "/x/1", "b")


def test_a_user_agent_line_after_rules_starts_a_new_group() -> None:
    r = robots("User-agent: a\nDisallow: /x/\nUser-agent: b\nDisallow: /y/\n")
    assert allowed(r, "/y/1", "a")
    assert allowed(r, "/x/1", "b")


def test_an_empty_disallow_still_closes_the_agent_list() -> None:
    r = robots("User-agent: a\nDisallow:\nUser-agent: b\nDisallow: /\n")
    assert allowed(r, "/x", "a")
    assert not allowed(r, "/x", "b")


def test_rules_before_the_first_user_agent_are_ignored_with_a_warning() -> None:
    r = robots("Disallow: /\nUser-agent: *\nDisallow: /x/\n")
    assert allowed(r, "/y")
    assert any("line 1" in w and "before any User-agent" in w for w in r.warnings)


# ---------------------------------------------------------------- path matching and precedence


@pytest.mark.parametrize(
    ("rules", "path", "expected"),
    [
        ("Allow: /page\nDisallow: /page", "/page", True),  # allow wins an equal-length tie
        ("Disallow: /page\nAllow: /page", "/page", True),
        ("Allow: /a*\nDisallow: /ab", "/abc", True),  # equal octets, different patterns
        ("Disallow: /a\nAllow: /a/b", "/a/b/c", True),
        ("Disallow: /a\nAllow: /a/b", "/a/c", False),
        ("Allow: /\nDisallow: /*.pdf$", "/doc/x.pdf", False),
        ("Allow: /\nDisallow: /*.pdf$", "/doc/x.pdf?dl=1", True),
        ("Disallow: /*/print$", "/world/print", False),
        ("Disallow: /*/print$", "/world/printer", True),
        ("Disallow: *.gif$", "/img/a.gif", False),  # RFC erratum: leading '*' accepted
        ("Disallow: /fish*.php", "/fish/salmon.php", False),
        ("Disallow: /fish*.php", "/Fish.php", True),  # case-sensitive
        ("Disallow: /help", "/help.html", False),  # prefix semantics
        ("Disallow:", "/anything", True),  # empty value matches nothing
        ("Disallow: /a$b", "/a$b/c", False),  # '$' not at the end is literal
        ("Disallow: /a$b", "/ab", True),
        ("Disallow: /foo$", "/foo", False),
        ("Disallow: /foo$", "/foo$bar", True),  # protego also reads it as literal '$'
        ("Disallow: /*?*dcr=apps*", "/x?a=1&dcr=apps", False),
        ("Disallow: /*a*a*a*a*a*a*a*a*a*b", "/" + "a" * 200, True),  # no catastrophic backtracking
        ("Disallow: /dir/\nAllow: /dir/index.html", "/dir/", False),  # no implicit index.html rule
    ],
)
def test_longest_match_precedence(rules: str, path: str, expected: bool) -> None:
    assert allowed(robots("User-agent: *\n" + rules + "\n"), path) is expected


def test_protego_adds_readings_we_do_not() -> None:
    p = Protego.parse("User-agent: *\nDisallow: /foo$\nDisallow: /dir/\nAllow: /dir/index.html\n")
    assert not p.can_fetch(BASE + "/foo$bar", "x")  # second, literal-'$' copy of the rule
    assert p.can_fetch(BASE + "/dir/", "x")  # implicit "Allow: /dir/$"


def test_robots_txt_itself_is_always_allowed() -> None:
    r = robots("User-agent: *\nDisallow: /\n")
    assert allowed(r, "/robots.txt")
    # Only the URI itself (RFC 9309 2.2.2): a query makes it another resource.
    assert not allowed(r, "/robots.txt?x=1")
    assert not allowed(r, "/robots.txt.bak")
    assert robots_from_fetch(status=503).allowed(BASE + "/robots.txt", "fairfetch")


@pytest.mark.parametrize(
    ("rule", "path", "expected"),
    [
        ("/a%2Fb", "/a/b", True),  # an encoded slash is not a slash
        ("/a/b", "/a%2Fb", True),
        ("/a%2fb", "/a%2Fb", False),  # hex case does not matter
        ("/%7Efoo", "/~foo", False),  # unreserved characters are decoded
        ("/~foo", "/%7efoo", False),
        ("/%62%61%7A", "/baz", False),
        ("/ツ", "/%E3%83%84", False),  # non-ASCII is percent-encoded as UTF-8
        ("/%E3%83%84", "/ツ", False),
        ("/a b", "/a%20b", False),
        ("/x?y=", "/x?y=1", False),
        ("/%2A", "/*x", True),  # an encoded '*' is not the reserved character '*'
        ("/%2A", "/%2Ax", False),
        ("/%2A", "/ax", True),
        ("/p%24", "/p$", True),  # an encoded '$' is not '$' (reserved, RFC 3986 2.2)
        ("/p%24", "/p%24", False),
    ],
)
def test_percent_encoding_normalisation(rule: str, path: str, expected: bool) -> None:
    assert allowed(robots(f"User-agent: *\nDisallow: {rule}\n"), path) is expected


def test_fragment_scheme_and_host_are_not_matched() -> None:
    r = robots("User-agent: *\nDisallow: /private\n")
    assert not r.allowed("https://news.example/private#top", "fairfetch")
    assert not r.allowed("http://other.example:8080/private", "fairfetch")
    assert r.allowed("https://news.example/#/private", "fairfetch")


# ---------------------------------------------------------------- reading the bytes


def test_utf8_bom_is_skipped() -> None:
    r = robots(b"\xef\xbb\xbfUser-agent: *\nDisallow: /x/\n")
    assert not allowed(r, "/x/1")
    assert r.warnings == []


def test_cr_only_line_endings_and_line_numbers() -> None:
    r = robots(b"# c\rUser-agent: *\rDisallow: /x/\r\rAllow: /x/y\r")
    assert not allowed(r, "/x/1")
    assert r.match(BASE + "/x/1", "fairfetch").rule.line == 3  # type: ignore[union-attr]
    assert r.match(BASE + "/x/y", "fairfetch").rule.line == 5  # type: ignore[union-attr]


def test_crlf_and_mixed_line_endings_keep_line_numbers() -> None:
    r = robots(b"User-agent: *\r\nDisallow: /a/\nDisallow: /b/\r\n\x0bDisallow: /c/\n")
    assert r.match(BASE + "/b/", "fairfetch").rule.line == 3  # type: ignore[union-attr]
    # A vertical tab is not a line break in robots.txt (str.splitlines would split there).
    assert r.match(BASE + "/c/", "fairfetch").rule.line == 4  # type: ignore[union-attr]


def test_latin1_file_is_bridged_with_a_warning() -> None:
    r = robots(b"User-agent: *\nDisallow: /caf\xe9/\n")
    assert not allowed(r, "/café/menu")
    assert any("not UTF-8" in w for w in r.warnings)


def test_str_and_bytes_read_the_same() -> None:
    a, b = robots(EXAMPLE), robots(EXAMPLE.encode())
    for path in ("/press/x", "/account/help", "/account/x", "/"):
        assert allowed(a, path, "OtherBot") == allowed(b, path, "OtherBot")


def _sized(body_lines: list[str], total: int) -> bytes:
    head = "".join(body_lines).encode()
    filler_line = b"# " + b"x" * 97 + b"\n"
    data = head + filler_line * ((total - len(head)) // len(filler_line) + 1)
    return data[:total]


def test_500_kib_limit_uses_complete_lines_only() -> None:
    assert ROBOTS_MAX_BYTES == 512_000
    head = _sized(["User-agent: *\n", "Disallow: /early/\n"], ROBOTS_MAX_BYTES - 10)
    # A rule straddling the limit and one after it are not read.
    data = head + b"Disallow: /straddle/\nDisallow: /late/\n"
    r = robots(data)
    assert not allowed(r, "/early/x")
    assert allowed(r, "/straddle/x")
    assert allowed(r, "/late/x")
    assert any("512000" in w for w in r.warnings)


def test_500_kib_limit_keeps_a_line_that_ends_exactly_at_the_limit() -> None:
    head = _sized(["User-agent: *\n"], ROBOTS_MAX_BYTES - len(b"Disallow: /edge/"))
    data = head[:-1] + b"\n" + b"Disallow: /edge/"
    data = data[: ROBOTS_MAX_BYTES - len(b"Disallow: /edge/")] + b"Disallow: /edge/"
    assert len(data) == ROBOTS_MAX_BYTES
    r = robots(data + b"\nDisallow: /after/\n")
    assert not allowed(r, "/edge/x")
    assert allowed(r, "/after/x")


def test_unparseable_and_unknown_lines_are_warned_about_by_line_number() -> None:
    r = robots("User-agent: *\nthis is not a rule\nFoo: bar\nDisallow: /x/\n")
    assert not allowed(r, "/x/")
    assert any(w.startswith("line 2:") for w in r.warnings)
    assert any(w.startswith("line 3:") and "unknown record 'foo'" in w for w in r.warnings)


def test_field_names_are_case_insensitive_and_common_misspellings_are_read() -> None:
    r = robots("USER-AGENT : *\nDISALLOW:/a/\ndissallow: /b/\nUser agent: x\n")
    assert not allowed(r, "/a/1")
    assert not allowed(r, "/b/1")


def test_warnings_are_capped() -> None:
    r = robots("\n".join(f"junk line {i}" for i in range(500)))
    assert len(r.warnings) <= 51
    assert r.warnings[-1].endswith("more warnings not shown")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_always_give_a_robots_txt(data: bytes) -> None:
    r = parse_robots(data, source_url=SRC)
    assert isinstance(r, RobotsTxt)
    for agent in ("fairfetch", "*", ""):
        r.allowed(BASE + "/a/b?c=d", agent)
        r.gate(BASE + "/x", agent)
        r.statements(BASE + "/x", agent)
        r.crawl_delay(agent)
        r.licenses(agent)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["User-agent: *", "User-agent: fairfetch", "Allow: /a", "Disallow: /", "Disallow: /*b$",
             "Content-Usage: /a train-ai=n", "Content-Signal: search=no", "", "#x", "Crawl-delay: 1"]
        ),
        max_size=30,
    ),
    st.text(alphabet="/ab?*$%2F", max_size=12),
)
def test_structured_random_files_never_raise(lines: list[str], path: str) -> None:
    r = parse_robots("\n".join(lines))
    r.match(BASE + "/" + path, "fairfetch")
    r.statements(BASE + "/" + path, "fairfetch")


def test_non_text_body_is_a_signal_error() -> None:
    with pytest.raises(SignalError, match="bytes or str"):
        parse_robots(123)  # type: ignore[arg-type]


# ---------------------------------------------------------------- index equals protego's semantics

_PATTERN_CHARS = st.text(alphabet="/ab*$%2F?=.", min_size=1, max_size=8).map(lambda s: "/" + s)


def _reference(rules: list[tuple[str, bool]], path: str) -> bool | None:
    """Brute force: every rule through protego's own matcher, most octets wins, allow on ties."""
    best: tuple[int, bool] | None = None
    for raw, allow in rules:
        text = normalise_pattern(raw)
        if not text or not _URLPattern(text).match(path):
            continue
        key = (len(text), allow)
        if best is None or key > best:
            best = key
    return None if best is None else best[1]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_PATTERN_CHARS, st.booleans()), max_size=12), st.text(alphabet="/ab*$?=.%2F", max_size=10))
def test_path_index_agrees_with_brute_force_over_protego_patterns(
    rules: list[tuple[str, bool]], tail: str
) -> None:
    path = normalise_url(BASE + "/" + tail)
    expected = _reference(rules, path)
    saved = robots_match.LONG_PATH
    try:
        # LONG_PATH 0 treats every path as hostile: wildcard rules go through the
        # literal-piece candidate filter and PathPattern instead of regexes.
        for robots_match.LONG_PATH in (saved, 0):
            for limit in (0, 32):  # 0: dict probes and chunked wildcards; 32: one alternation
                index = PathIndex(
                    ((raw, allow, i) for i, (raw, allow) in enumerate(rules)), whole_regex_limit=limit
                )
                hit = index.best(path)
                assert (None if hit is None else hit[0]) == expected
    finally:
        robots_match.LONG_PATH = saved


# ---------------------------------------------------------------- fetch outcomes (RFC 9309 2.3.1)


def test_2xx_is_parsed() -> None:
    r = robots_from_fetch(status=200, body=b"User-agent: *\nDisallow: /x/\n", source_url=SRC)
    assert r.outcome == "parsed" and r.status == 200
    assert not allowed(r, "/x/1")


def test_2xx_html_soft_404_allows_everything_with_a_warning() -> None:
    body = b"\n  <!DOCTYPE html><html><body>Disallow: /</body></html>"
    r = robots_from_fetch(status=200, body=body, source_url=SRC)
    assert r.outcome == "unavailable"
    assert allowed(r, "/anything")
    assert any("HTML" in w for w in r.warnings)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451])
def test_4xx_means_unavailable_allow_all(status: int) -> None:
    r = robots_from_fetch(status=status, body=b"User-agent: *\nDisallow: /\n")
    assert r.outcome == "unavailable"
    assert allowed(r, "/x")
    assert r.gate(BASE + "/x", "fairfetch") is None
    assert str(status) in r.reason


@pytest.mark.parametrize("status", [429, 500, 503, 599])
def test_429_and_5xx_mean_complete_disallow(status: int) -> None:
    r = robots_from_fetch(status=status, source_url=SRC)
    assert r.outcome == "unreachable"
    assert not allowed(r, "/x")
    gate = r.gate(BASE + "/x", "fairfetch")
    assert gate is not None
    assert gate.evidence.signal is Signal.ROBOTS
    assert gate.evidence.source == SRC
    assert gate.evidence.raw == f"HTTP {status}"
    assert "complete disallow" in gate.reason
    assert r.statements(BASE + "/x", "fairfetch") == []


def test_503_reason_cites_the_rfc() -> None:
    assert robots_from_fetch(status=503).reason == (
        "robots.txt answered 503: complete disallow (RFC 9309 2.3.1.4)"
    )


def test_network_error_means_complete_disallow() -> None:
    r = robots_from_fetch(status=None, error="timeout after 10s", source_url=SRC)
    assert r.outcome == "unreachable"
    assert not allowed(r, "/x")
    gate = r.gate(BASE + "/x", "fairfetch")
    assert gate is not None and "timeout after 10s" in gate.evidence.raw


def test_up_to_five_redirects_then_the_final_status_applies() -> None:
    r = robots_from_fetch(status=200, redirects=MAX_REDIRECTS, body=b"User-agent: *\nDisallow: /x/\n")
    assert r.outcome == "parsed"
    assert robots_from_fetch(status=404, redirects=3).outcome == "unavailable"


def test_six_redirects_mean_complete_disallow() -> None:
    r = robots_from_fetch(status=200, redirects=MAX_REDIRECTS + 1, body=b"User-agent: *\nAllow: /\n")
    assert r.outcome == "unreachable"
    assert not allowed(r, "/x")
    assert "more than 5" in r.reason
    gate = r.gate(BASE + "/x", "fairfetch")
    assert gate is not None and gate.evidence.raw == "6 redirects"
    assert robots_from_fetch(status=None, redirects=6).outcome == "unreachable"


def test_an_unfollowed_final_redirect_is_unreachable() -> None:
    assert robots_from_fetch(status=301, redirects=1).outcome == "unreachable"


def test_bad_fetch_descriptions_are_signal_errors() -> None:
    with pytest.raises(SignalError, match="needs a status or an error"):
        robots_from_fetch(status=None)
    with pytest.raises(SignalError, match="not an HTTP status"):
        robots_from_fetch(status=42)
    with pytest.raises(SignalError, match="negative"):
        robots_from_fetch(status=200, redirects=-1)


def test_error_after_a_status_quotes_both() -> None:
    gate = robots_from_fetch(status=200, error="connection reset").gate(BASE + "/x", "fairfetch")
    assert gate is not None and gate.evidence.raw == "HTTP 200, connection reset"


def test_2xx_with_no_body_is_an_empty_file() -> None:
    r = robots_from_fetch(status=204)
    assert r.outcome == "parsed" and allowed(r, "/x")


# ---------------------------------------------------------------- gate evidence


def test_gate_cites_the_deciding_line_and_is_built_once() -> None:
    r = robots("User-agent: *\nAllow: /private/ok\n\nDisallow: /private/\n")
    gate = r.gate(BASE + "/private/x", "fairfetch")
    assert gate is not None
    ev = gate.evidence
    assert (ev.signal, ev.source, ev.line, ev.raw) == (Signal.ROBOTS, SRC, 4, "Disallow: /private/")
    assert ev.rule == "RFC 9309 longest match, group '*'"
    assert r.gate(BASE + "/private/y", "fairfetch") is gate
    assert r.gate(BASE + "/private/ok", "fairfetch") is None


def test_gate_names_our_group() -> None:
    r = robots("User-agent: fairfetch\nDisallow: /\n")
    gate = r.gate(BASE + "/x", "fairfetch")
    assert gate is not None and gate.evidence.rule == "RFC 9309 longest match, group 'fairfetch'"


def test_gate_source_defaults_when_the_url_is_unknown() -> None:
    gate = parse_robots("User-agent: *\nDisallow: /\n").gate(BASE + "/x", "fairfetch")
    assert gate is not None and gate.evidence.source == "robots.txt"


# ---------------------------------------------------------------- crawl-delay, request-rate, sitemaps


def test_crawl_delay_and_request_rate_are_group_scoped() -> None:
    r = robots(
        "User-agent: *\nCrawl-delay: 2\nRequest-rate: 10/1m\nDisallow: /tmp/\n\n"
        "User-agent: fairfetch\nCrawl-delay: 0.5\nDisallow: /x/\n\nUser-agent: fairfetch\nCrawl-delay: 4\n"
    )
    assert r.crawl_delay("fairfetch") == 4.0  # merged groups: the most polite value
    assert r.request_rate("fairfetch") is None
    assert r.crawl_delay("other") == 2.0
    assert r.request_rate("other") == RequestRate(requests=10, seconds=60.0)


def test_invalid_crawl_delay_and_request_rate_are_ignored_with_warnings() -> None:
    r = robots("User-agent: *\nCrawl-delay: soon\nCrawl-delay: -1\nRequest-rate: fast\n")
    assert r.crawl_delay("x") is None
    assert r.request_rate("x") is None
    assert sum("line" in w for w in r.warnings) == 3


def test_sitemaps_are_global_wherever_they_appear() -> None:
    r = robots("Sitemap: https://a/1.xml\nUser-agent: x\nSitemap: https://a/2.xml\nDisallow: /\n")
    assert [(s.url, s.line) for s in r.sitemap_entries] == [("https://a/1.xml", 1), ("https://a/2.xml", 3)]


# ---------------------------------------------------------------- License (RSL discovery)


def test_group_license_lines_replace_global_ones() -> None:
    r = robots(
        "License: https://news.example/global.xml\n"
        "User-agent: fairfetch\nLicense: https://news.example/ours.xml\nAllow: /\n"
        "User-agent: *\nDisallow: /x/\n"
    )
    ours = r.licenses("fairfetch")
    assert [(x.url, x.via, x.scope, x.line) for x in ours] == [
        ("https://news.example/ours.xml", "robots", "group", 3)
    ]
    other = r.licenses("otherbot")
    assert [(x.url, x.scope, x.line) for x in other] == [("https://news.example/global.xml", "global", 1)]


def test_no_licenses_for_an_unusable_file() -> None:
    assert robots_from_fetch(status=404).licenses("fairfetch") == []


# ---------------------------------------------------------------- Content-Signal in robots.txt


def test_content_signal_is_group_scoped_and_a_named_group_replaces_star() -> None:
    r = robots(
        "User-agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n\n"
        "User-agent: fairfetch\nContent-Signal: ai-input=no\nAllow: /\n"
    )
    ours = r.content_signals("fairfetch")
    assert [(c.signals, c.line, c.scope) for c in ours] == [({"ai-input": False}, 6, "group")]
    assert r.content_signals("other")[0].signals == {"search": True, "ai-train": False}


def test_content_signal_outside_any_group_is_a_global_fallback_with_a_warning() -> None:
    r = robots(
        "Content-Signal: ai-train=no\n"
        "User-agent: *\nAllow: /\n\nUser-agent: fairfetch\nContent-Signal: ai-train=yes\nAllow: /\n"
    )
    assert r.content_signals("other")[0].scope == "global"
    assert r.content_signals("fairfetch")[0].signals == {"ai-train": True}
    assert any(w.startswith("line 1:") and "fallback" in w for w in r.warnings)
    st_ = r.statements(BASE + "/a", "other")
    assert [(s.usage, s.effect) for s in st_] == [(Usage.AI_TRAIN, Effect.DENY)]
    assert "global fallback" in st_[0].evidence.rule


def test_content_signal_statements_carry_evidence_and_the_derived_flag() -> None:
    r = robots("User-agent: *\nContent-Signal: search=yes, ai-input=no, ai-train=no\nAllow: /\n")
    got = {(s.usage, s.effect, s.derived) for s in r.statements(BASE + "/a", "fairfetch")}
    assert got == {
        (Usage.SEARCH, Effect.ALLOW, False),
        (Usage.AI_INPUT, Effect.DENY, False),
        (Usage.AI_INDEX, Effect.DENY, True),
        (Usage.AI_TRAIN, Effect.DENY, False),
    }
    ev = r.statements(BASE + "/a", "fairfetch")[0].evidence
    assert (ev.signal, ev.source, ev.line, ev.raw) == (
        Signal.CONTENT_SIGNAL,
        SRC,
        2,
        "search=yes, ai-input=no, ai-train=no",
    )


def test_content_signal_with_a_path_and_the_longest_match() -> None:
    r = robots(
        "User-agent: *\nContent-Signal: search=yes, ai-train=yes\n"
        "Content-Signal: /blog/ ai-train=no\nAllow: /\n"
    )
    assert r.content_signals("x")[1].path == "/blog/"
    blog = r.statements(BASE + "/blog/post", "x")
    assert [(s.usage, s.effect) for s in blog] == [(Usage.AI_TRAIN, Effect.DENY)]
    home = {(s.usage, s.effect) for s in r.statements(BASE + "/about", "x")}
    assert home == {(Usage.SEARCH, Effect.ALLOW), (Usage.AI_TRAIN, Effect.ALLOW)}


def test_content_signal_identical_scope_conflict_is_most_restrictive() -> None:
    r = robots("User-agent: *\nContent-Signal: ai-train=yes\nContent-Signal: ai-train=no\n")
    got = r.statements(BASE + "/a", "x")
    assert [(s.usage, s.effect, s.evidence.line) for s in got] == [(Usage.AI_TRAIN, Effect.DENY, 3)]


def test_content_signal_line_without_pairs_is_skipped() -> None:
    r = robots("User-agent: *\nContent-Signal: /only-a-path/\nContent-Signal: nonsense\n")
    assert r.content_signals("x") == []
    assert any(w.startswith("line 2:") and "skipped" in w for w in r.warnings)
    assert any(w.startswith("line 3:") and "skipped" in w for w in r.warnings)


# ---------------------------------------------------------------- Content-Usage (AIPREF) in robots.txt

AIPREF_EXAMPLE = """\
User-Agent: *
Content-Usage: train-ai=n
Content-Usage: /ai-ok/ train-ai=y
Disallow: /never/
"""


def test_aipref_attach_example() -> None:
    r = robots(AIPREF_EXAMPLE)
    test = r.statements(BASE + "/test", "fairfetch")
    assert [(s.usage, s.effect, s.evidence.line) for s in test] == [(Usage.AI_TRAIN, Effect.DENY, 2)]
    ok = r.statements(BASE + "/ai-ok/test", "fairfetch")
    assert [(s.usage, s.effect, s.evidence.line) for s in ok] == [(Usage.AI_TRAIN, Effect.ALLOW, 3)]
    assert not allowed(r, "/never/test")
    assert r.statements(BASE + "/never/test", "fairfetch") == []
    ev = ok[0].evidence
    assert (ev.signal, ev.raw, ev.source) == (Signal.CONTENT_USAGE, "/ai-ok/ train-ai=y", SRC)


def test_content_usage_rules_are_listed_with_paths_and_lines() -> None:
    rules = robots(AIPREF_EXAMPLE).content_usage("fairfetch")
    assert [(u.path, u.prefs, u.line) for u in rules] == [
        (None, {"train-ai": False}, 2),
        ("/ai-ok/", {"train-ai": True}, 3),
    ]


def test_content_usage_identical_path_conflict_is_most_restrictive() -> None:
    r = robots("User-agent: *\nContent-Usage: /a/ train-ai=y\nContent-Usage: /a/ train-ai=n, search=y\n")
    got = {(s.usage, s.effect) for s in r.statements(BASE + "/a/x", "x")}
    assert got == {(Usage.AI_TRAIN, Effect.DENY), (Usage.SEARCH, Effect.ALLOW)}


def test_a_crawler_with_its_own_group_does_not_read_star_preferences() -> None:
    r = robots("User-agent: *\nAllow: /\nContent-Usage: train-ai=n\n\nUser-agent: fairfetch\nAllow: /\n")
    assert r.statements(BASE + "/x", "fairfetch") == []
    assert r.statements(BASE + "/x", "other") != []


def test_the_longest_rule_applies_as_a_whole() -> None:
    r = robots("User-agent: *\nContent-Usage: train-ai=n\nContent-Usage: /open/ search=y\n")
    got = [(s.usage, s.effect) for s in r.statements(BASE + "/open/x", "x")]
    assert got == [(Usage.SEARCH, Effect.ALLOW)]


def test_malformed_content_usage_line_is_skipped_and_shadows_nothing() -> None:
    r = robots("User-agent: *\nContent-Usage: train-ai=n\nContent-Usage: /x/ Train-AI=y\n")
    assert [u.line for u in r.content_usage("a")] == [2]
    got = [(s.usage, s.effect) for s in r.statements(BASE + "/x/1", "a")]
    assert got == [(Usage.AI_TRAIN, Effect.DENY)]
    assert any(w.startswith("line 3:") for w in r.warnings)


def test_content_usage_outside_a_group_is_ignored() -> None:
    r = robots("Content-Usage: train-ai=n\nUser-agent: *\nAllow: /\n")
    assert r.statements(BASE + "/x", "a") == []
    assert any(w.startswith("line 1:") for w in r.warnings)


def test_content_usage_percent_encoded_path() -> None:
    r = robots("User-agent: *\nContent-Usage: /caf%C3%A9/ train-ai=n\n")
    assert r.statements(BASE + "/café/x", "a")[0].effect is Effect.DENY
    assert r.statements(BASE + "/cafe/x", "a") == []


def test_both_standards_in_one_group() -> None:
    r = robots("User-agent: *\nContent-Signal: ai-train=yes\nContent-Usage: train-ai=n\n")
    got = {(s.evidence.signal, s.usage, s.effect) for s in r.statements(BASE + "/", "x")}
    assert got == {
        (Signal.CONTENT_SIGNAL, Usage.AI_TRAIN, Effect.ALLOW),
        (Signal.CONTENT_USAGE, Usage.AI_TRAIN, Effect.DENY),
    }


def test_statements_returns_a_fresh_list() -> None:
    r = robots(AIPREF_EXAMPLE)
    first = r.statements(BASE + "/test", "x")
    first.clear()
    assert r.statements(BASE + "/test", "x") != []


# ---------------------------------------------------------------- real-world leniency


def test_a_bom_mangled_by_latin1_is_skipped_with_a_warning() -> None:
    r = robots("\u00ef\u00bb\u00bfUser-agent: *\nDisallow: /hesap/\n".encode())
    assert not allowed(r, "/hesap/x")
    assert any("mangled" in w for w in r.warnings)


def test_a_rule_written_as_a_full_url_uses_its_path() -> None:
    r = robots("User-agent: *\nDisallow: https://news.example/social-subs\n")
    m = r.match(BASE + "/social-subs/1", "fairfetch")
    assert not m.allowed
    assert m.rule is not None and m.rule.pattern == "/social-subs"
    assert m.rule.raw == "Disallow: https://news.example/social-subs"
    assert any("full URL" in w for w in r.warnings)


def test_a_caller_passing_a_versioned_token_still_finds_its_group() -> None:
    r = robots("User-agent: *\nAllow: /\n\nUser-agent: fairfetch\nDisallow: /\n")
    assert not allowed(r, "/x", "fairfetch/1.0")
    assert r.group_for("FairFetch/1.0") == "fairfetch"
    # ... but an exact value in the file wins over the shortened reading.
    r2 = robots("User-agent: fairfetch/1.0\nDisallow: /a/\n\nUser-agent: fairfetch\nDisallow: /b/\n")
    assert not allowed(r2, "/a/x", "fairfetch/1.0")
    assert allowed(r2, "/b/x", "fairfetch/1.0")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=1000))
def test_arbitrary_text_always_gives_a_robots_txt(text: str) -> None:
    r = parse_robots(text)
    r.match(BASE + "/x", "fairfetch")
    r.statements(BASE + "/x", "fairfetch")


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.none(), st.integers(min_value=-10, max_value=1000)),
    st.one_of(st.none(), st.binary(max_size=300)),
    st.integers(min_value=-2, max_value=20),
    st.one_of(st.none(), st.text(max_size=20)),
)
def test_fetch_outcomes_are_a_robots_txt_or_a_signal_error(
    status: int | None, body: bytes | None, redirects: int, error: str | None
) -> None:
    try:
        r = robots_from_fetch(status=status, body=body, redirects=redirects, error=error)
    except SignalError:
        return
    assert r.outcome in ("parsed", "unavailable", "unreachable")
    assert r.reason
    assert r.allowed(BASE + "/robots.txt", "fairfetch")
    if r.outcome == "unreachable":
        assert r.gate(BASE + "/x", "fairfetch") is not None


def test_a_body_cut_exactly_at_the_limit_loses_its_partial_last_line() -> None:
    # The crawler caps downloads at ROBOTS_MAX_BYTES: "Allow: /public-area/" cut
    # to "Allow: /p" must not allow more than the publisher wrote.
    head = _sized(["User-agent: *\n", "Disallow: /\n"], ROBOTS_MAX_BYTES - len(b"\nAllow: /p"))
    data = head + b"\nAllow: /p"
    assert len(data) == ROBOTS_MAX_BYTES
    r = robots(data)
    assert not allowed(r, "/public-area/x")
    assert any("512000" in w for w in r.warnings)
    # One byte shorter, the body cannot have been cut: its last line counts.
    shorter = robots(head.replace(b"x", b"", 1) + b"\nAllow: /p")
    assert not allowed(shorter, "/other")  # the group is intact
    assert allowed(shorter, "/public-area/x")
    assert not any("512000" in w for w in shorter.warnings)


def test_a_body_of_exactly_the_limit_ending_in_a_line_break_is_read_whole() -> None:
    head = _sized(["User-agent: *\n", "Disallow: /\n"], ROBOTS_MAX_BYTES - len(b"Allow: /p\n"))
    data = head[:-1] + b"\n" + b"Allow: /p\n"
    assert len(data) == ROBOTS_MAX_BYTES
    r = robots(data)
    assert allowed(r, "/public-area/x")
    assert not any("512000" in w for w in r.warnings)
