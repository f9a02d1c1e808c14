"""The HTML report never lets a site-controlled string open a tag or leave an attribute."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.checker.problems import Problem
from crawler.checker.render_html import render_html, render_refusal
from crawler.checker.report import AgentReport, CheckReport, Decision, Document, ObligationRow
from norms.problems import Severity

hostile = st.text(alphabet=st.sampled_from(list("<>&\"'=/ ascript\n")) | st.characters(), max_size=40)


def _report(s: str) -> CheckReport:
    d = Decision(allowed=False, signal="robots.txt", source=f"http://a.example/{s}", line=3, element=s, raw=s,
                 rule=s, obligations=[s])
    return CheckReport(
        url=f"http://a.example/{s}",
        checked_at=datetime.now(UTC),
        seconds=0.1,
        agents=[AgentReport(agent=s, fetch=d, usages={u: d for u in ("search", "ai-index", "ai-input", "ai-train")})],
        documents=[Document(kind="page", url=f"http://a.example/{s}", file=s, error=s, note=s)],
        obligations=[ObligationRow(usage="ai-input", kind=s, detail=s, agents=[s])],
        problems=[Problem(code=s, severity=Severity.WARNING, where=s, file=s, line=1, element=s, message=s, fix=s)],
        counts={"error": 0, "warning": 1, "info": 0},
    )


@settings(max_examples=150, deadline=None)
@given(hostile)
def test_no_unescaped_angle_bracket_from_site_strings(s: str) -> None:
    empty = render_html(_report(""))
    html = render_html(_report(s))
    # Every '<' and '"' in the page is the renderer's own: as many as with empty values.
    assert html.count("<") == empty.count("<")
    assert html.count('"') == empty.count('"')


@settings(max_examples=100, deadline=None)
@given(hostile)
def test_refusal_page_escapes_message_and_url(s: str) -> None:
    assert render_refusal(s, s).count("<") == render_refusal("", "").count("<")
