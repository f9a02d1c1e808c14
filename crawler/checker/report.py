"""The checker's report, and the one analysis that live and offline checks share.

``live.check`` fetches a site's files, ``offline.check_files`` reads them from
disk; both hand what they got to ``analyse``, which decides every usage for
every crawler token with ``norms.evaluate`` and gathers the problems, so the
two modes cannot drift apart. ``SCHEMA_VERSION`` versions the JSON
(docs/publishers.md documents it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from crawler.checker.agents import OWN_AGENT
from crawler.checker.contradictions import contradictions
from crawler.checker.lint_page import page_problems
from crawler.checker.problems import Problem, unique
from norms import ALL_USAGES, Usage, evaluate
from norms.html import HtmlDoc, parse_html
from norms.http import HeaderLines, header_lines
from norms.model import Evidence, LicenseRef, Obligation
from norms.paywall import detect_paywall
from norms.problems import Severity
from norms.robots import RobotsTxt
from norms.robots_tags import RobotsDirectives, robots_directives
from norms.rsl import LicenseSource, discover_from_headers, discover_from_html
from norms.tdmrep import TdmRepFile
from norms.verdict import UsageDecision, Verdict

SCHEMA_VERSION = 2


class Decision(BaseModel):
    """One usage for one crawler: allowed or not, and the signal that decided (the evidence)."""

    allowed: bool
    conditional: bool = False  # allowed with obligations (attribution, payment, snippet limit...)
    signal: str | None = None  # robots.txt, rsl, tdmrep, meta-robots, ... or default
    source: str | None = None  # the URL of the document the signal is in
    line: int | None = None
    element: str | None = None
    raw: str | None = None  # what the publisher wrote, verbatim
    rule: str | None = None
    obligations: list[str] = Field(default_factory=list)


class AgentReport(BaseModel):
    """What one crawler token may do with the URL."""

    agent: str
    fetch: Decision
    usages: dict[str, Decision]


class ObligationRow(BaseModel):
    """One condition attached to an allowed use: pay, attribute, limit snippets, drop parts..."""

    usage: str
    kind: str
    detail: str
    agents: list[str]


class Document(BaseModel):
    """One document the check read (fetched, or a local file offline), and what came of it."""

    kind: str  # robots.txt, rsl, tdmrep, page, tdm-policy
    url: str
    file: str | None = None  # offline: the local file it was read from
    status: int | None = None
    error: str | None = None
    redirects: int = 0
    bytes: int = 0
    truncated: bool = False
    content_type: str | None = None
    note: str | None = None


class CheckReport(BaseModel):
    """The whole report, as ``--json``, ``/api/check`` and the page give it."""

    schema_version: int = SCHEMA_VERSION
    mode: Literal["live", "offline"] = "live"
    url: str
    checked_at: datetime
    seconds: float
    usages: list[str] = Field(default_factory=lambda: [u.value for u in ALL_USAGES])
    agents: list[AgentReport]
    obligations: list[ObligationRow] = Field(default_factory=list)
    documents: list[Document]
    problems: list[Problem]
    counts: dict[str, int] = Field(default_factory=dict)  # problems per severity

    @property
    def has_errors(self) -> bool:
        return any(p.severity is Severity.ERROR for p in self.problems)


def _decision(allowed: bool, conditional: bool, ev: Evidence | None, obligations: list[str]) -> Decision:
    if ev is None:
        return Decision(allowed=allowed, conditional=conditional, obligations=obligations)
    return Decision(allowed=allowed, conditional=conditional, signal=ev.signal.value, source=ev.source,
                    line=ev.line, element=ev.element, raw=ev.raw, rule=ev.rule, obligations=obligations)


def describe(o: Obligation) -> str:
    """An obligation in a few words: ``snippet-limit 160 characters``, ``payment 0.01 USD``..."""
    parts = [o.detail] if o.detail else []
    if o.limit is not None:
        parts.append(f"at most {o.limit} characters")
    if o.selectors:
        parts.append("drop " + ", ".join(o.selectors))
    if o.amount is not None:
        parts.append(f"{o.amount} {o.currency or ''}".strip())
    if o.url:
        parts.append(o.url)
    return "; ".join(parts)


def _usage(d: UsageDecision) -> Decision:
    obligations = [f"{o.kind.value}: {describe(o)}".rstrip(": ") for o in d.obligations]
    return _decision(d.allowed, d.conditional, d.decided_by, obligations)


def agent_report(verdict: Verdict, agent: str | None = None) -> AgentReport:
    fetch = _decision(verdict.fetch.allowed, False, verdict.fetch.decided_by, [])
    if fetch.rule is None:
        fetch.rule = verdict.fetch.reason
    return AgentReport(agent=agent or verdict.user_agent, fetch=fetch,
                       usages={u.value: _usage(verdict.usages[u]) for u in ALL_USAGES})


def obligation_rows(verdicts: list[Verdict]) -> list[ObligationRow]:
    """Each obligation of an allowed use once, with the crawlers it binds."""
    rows: dict[tuple[str, str, str], ObligationRow] = {}
    for verdict in verdicts:
        for usage in ALL_USAGES:
            decision = verdict.usages[usage]
            if not decision.allowed:
                continue
            for o in decision.obligations:
                key = (usage.value, o.kind.value, describe(o))
                row = rows.setdefault(key, ObligationRow(usage=key[0], kind=key[1], detail=key[2], agents=[]))
                if verdict.user_agent not in row.agents:
                    row.agents.append(verdict.user_agent)
    return list(rows.values())


@dataclass
class PageRead:
    """A page's response as the analysis needs it: headers, parsed HTML, licences it links, problems."""

    status: int | None = None
    headers: tuple[tuple[str, str], ...] | None = None
    html: bytes | None = None
    lines: HeaderLines = field(default_factory=lambda: header_lines([]))
    doc: HtmlDoc | None = None
    refs: list[LicenseRef] = field(default_factory=list)
    directives: RobotsDirectives | None = None
    problems: list[Problem] = field(default_factory=list)


def read_page(
    url: str, final_url: str, status: int, headers: tuple[tuple[str, str], ...], body: bytes | None,
    agents: tuple[str, ...],
) -> PageRead:
    """Parse a page response (from the network or from files) and list its markup problems."""
    lines = header_lines(list(headers))
    page = PageRead(status=status, headers=headers, lines=lines, refs=discover_from_headers(lines, final_url))
    if body is not None and _is_html(lines):
        page.html = body
        page.doc = parse_html(body)
        page.refs += discover_from_html(page.doc, final_url)
    page.directives = robots_directives(lines, page.doc, OWN_AGENT, source_url=url)
    paywall = detect_paywall(page.doc, url) if page.doc is not None and page.doc.root is not None else None
    page.problems = page_problems(url, lines, page.doc, page.directives, paywall, agents)
    return page


def _is_html(lines: HeaderLines) -> bool:
    ctype = next((v for k, v in lines if k == "content-type"), "")
    return not ctype or "html" in ctype.lower()


def _evaluate(url: str, agent: str, **signals: Any) -> Verdict:
    return evaluate(url, user_agent=agent, purposes=ALL_USAGES, **signals)


def evaluate_purposes(url: str, agent: str, **signals: Any) -> Verdict:
    from norms.purposes import evaluate_purposes as by_purpose

    return by_purpose(url, base_token=agent, purposes=ALL_USAGES, **signals)


def analyse(
    *,
    url: str,
    agents: tuple[str, ...],
    robots: RobotsTxt,
    licences: dict[str, list[LicenseSource]],
    page_licences: list[LicenseSource],
    tdmrep: TdmRepFile | None,
    page: PageRead | None,
    documents: list[Document],
    problems: list[Problem],
    started: float,
    mode: Literal["live", "offline"],
) -> CheckReport:
    """Decide every usage for every token and assemble the report (the step both modes share)."""
    page = page or PageRead()
    verdicts = [
        # fairfetch crawls each purpose under its own token (fairfetch-search, -ai, -train), each
        # judged by its own robots.txt group when one names it (norms.purposes).
        (evaluate_purposes if agent == OWN_AGENT else _evaluate)(
            url, agent, robots=robots, licenses=[*licences.get(agent, []), *page_licences], tdmrep=tdmrep,
            status=page.status, headers=page.headers, html=page.html)
        for agent in agents
    ]
    found = [*problems, *page.problems,
             *contradictions(url, agents, robots, licences, page_licences, tdmrep, page.lines, page.doc,
                             page.directives)]
    found = unique(found)
    counts = {s.value: sum(1 for p in found if p.severity is s) for s in Severity}
    return CheckReport(
        mode=mode,
        url=url,
        checked_at=datetime.now(UTC),
        seconds=round(time.monotonic() - started, 3),
        agents=[agent_report(v, agent) for v, agent in zip(verdicts, agents, strict=True)],
        obligations=obligation_rows(verdicts),
        documents=documents,
        problems=found,
        counts=counts,
    )


__all__ = [
    "SCHEMA_VERSION",
    "AgentReport",
    "CheckReport",
    "Decision",
    "Document",
    "ObligationRow",
    "PageRead",
    "Usage",
    "analyse",
    "read_page",
]
