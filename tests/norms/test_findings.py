"""Readers report structured findings (code, severity, line or element) beside their warning text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from norms import SignalError
from norms.aipref import read_content_usage
from norms.paywall import detect_paywall
from norms.problems import Severity
from norms.robots import parse_robots
from norms.rsl import parse_rsl
from norms.tdmrep import parse_tdmrep_json

ROBOTS = (
    "Disallow: /early/\n"          # 1: before any group
    "User-agent: *\n"
    "Disalow: /a/\n"               # 3: honoured misspelling
    "User-agnet: GPTBot\n"         # 4: ignored typo
    "Crawl-delay: 500\n"           # 5: too long
    "Content-Usage: train-ai=n;why=1, bots=y\n"  # 6: unknown parameter and label (info)
    "Disallow /b/\n"               # 7: no colon
)


def test_robots_findings_have_codes_lines_and_suggestions() -> None:
    robots = parse_robots(ROBOTS, source_url="https://a.example/robots.txt")
    got = {(f.code, f.line): f for f in robots.findings}
    assert got[("robots-rule-before-user-agent", 1)].severity is Severity.ERROR
    assert got[("robots-misspelt-directive", 3)].suggestion == "Disallow"
    typo = got[("robots-unknown-misspelling", 4)]
    assert typo.suggestion == "User-agent" and typo.severity is Severity.ERROR
    assert ("robots-crawl-delay-too-long", 5) in got
    assert got[("content-usage-unknown-label", 6)].severity is Severity.INFO
    assert got[("content-usage-unknown-parameter", 6)].severity is Severity.INFO
    assert got[("robots-missing-colon", 7)].suggestion == "Disallow: /b/"
    assert all(f.source == "https://a.example/robots.txt" for f in robots.findings)
    # The text warnings are still there, one per finding, for existing callers.
    assert len(robots.warnings) == len(robots.findings)
    assert robots.allowed("https://a.example/a/x", "fairfetch") is False  # Disalow is still honoured


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["User-agent: *", "Disalow: /x", "Dissallow /y", "User-agnet: a", "foo",
                                 "Crawl-delay: x", "Allow: z", "Content-Signal: a=b", ""]) | st.text(), max_size=30))
def test_every_warning_has_a_finding_with_a_line_inside_the_file(lines: list[str] | str) -> None:
    text = lines if isinstance(lines, str) else "\n".join(lines)
    robots = parse_robots(text)
    assert len(robots.findings) == len(robots.warnings)
    count = len(text.splitlines()) + 1
    for f in robots.findings:
        assert f.code and f.message
        assert f.line is None or 1 <= f.line <= count


def test_content_usage_vocab_08_unknowns_are_info() -> None:
    reading = read_content_usage("train-ai=n;x=1, future-label=y, search=maybe")
    codes = {(f.code, f.severity) for f in reading.findings}
    assert ("content-usage-unknown-label", Severity.INFO) in codes
    assert ("content-usage-unknown-parameter", Severity.INFO) in codes
    assert ("content-usage-value", Severity.WARNING) in codes
    assert reading.prefs == {"train-ai": False}


def test_tdmrep_findings_and_json_error_line() -> None:
    file = parse_tdmrep_json('[{"location": "/", "tdm-reservation": "1"}, {"location": "/x", "tdm-reservation": 5}]',
                             source_url="https://a.example/.well-known/tdmrep.json")
    assert [(f.code, f.element) for f in file.findings] == [
        ("tdmrep-reservation-string", "rule #1"), ("tdmrep-reservation-value", "rule #2")]
    with pytest.raises(SignalError) as exc:
        parse_tdmrep_json('[\n {"location": "/"},\n]')
    assert exc.value.code == "json-invalid" and exc.value.line == 3


def test_rsl_findings_name_the_element() -> None:
    doc = parse_rsl('<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
                    '<permits type="usage">search, nonsense</permits><oops/></license></content></rsl>')
    codes = {f.code: f for f in doc.findings}
    assert codes["rsl-comma-list"].severity is Severity.WARNING
    assert codes["rsl-unknown-token"].element is not None
    assert codes["rsl-unknown-element"].element == "<oops>" and codes["rsl-unknown-element"].severity is Severity.ERROR
    assert len(doc.findings) == len(doc.warnings) + len(doc.nonconformities)


def test_paywall_findings_carry_the_script_line() -> None:
    html = ('<html><head>\n<script type="application/ld+json">{"isAccessibleForFree": false, "hasPart": '
            '{"isAccessibleForFree": false, "cssSelector": "div[["}}</script></head><body></body></html>')
    report = detect_paywall(html, "https://a.example/p")
    invalid = next(f for f in report.findings if f.code == "paywall-selector-invalid")
    assert invalid.line == 2 and invalid.severity is Severity.ERROR and invalid.source == "https://a.example/p"


def test_evaluate_after_a_response_carries_the_findings_and_the_ledger_stores_them() -> None:
    from crawler.ledger.records import evidence_from_verdict
    from norms import evaluate

    robots = parse_robots("User-agent: *\nDisalow: /private/\n", source_url="https://a.example/robots.txt")
    before = evaluate("https://a.example/p", robots=robots)
    assert before.findings == ()  # the hot path before a request is untouched
    html = ('<html><head><script type="application/ld+json">{"isAccessibleForFree": "nope"}</script>'
            "</head><body>x</body></html>")
    after = evaluate("https://a.example/p", robots=robots, status=200, html=html)
    assert [f.code for f in after.findings] == ["robots-misspelt-directive", "paywall-free-value"]
    stored = evidence_from_verdict(after)
    rows = [e for e in stored if e["signal"] == "finding"]
    assert [r["rule"] for r in rows] == ["robots-misspelt-directive", "paywall-free-value"]
    assert rows[0]["line"] == 2 and rows[0]["finding"]["suggestion"] == "Disallow"


def test_robots_tag_findings_carry_the_meta_line() -> None:
    from norms.robots_tags import robots_directives

    html = "<html><head>\n<title>t</title>\n<meta name=robots content='max-snippet:lots'></head></html>"
    d = robots_directives([("X-Robots-Tag", "unavailable_after: someday")], html, "fairfetch",
                          source_url="https://a.example/p")
    got = [(f.code, f.line, f.element) for f in d.findings]
    assert ("robots-tag-value", 3, '<meta name="robots"> line 3') in got
    assert ("robots-tag-value", None, "header X-Robots-Tag #1") in got
    assert len(d.findings) == len(d.warnings)
