"""The checker's report, and the one analysis that live and offline checks share.

``live.check`` fetches a site's files, ``offline.check_files`` reads them from
disk; both hand what they got to ``analyse``, which decides every usage for
every crawler token with ``norms.evaluate`` and gathers the problems, so the
two modes cannot drift apart. fairfetch's rows are its purpose tokens, each
decided by ``norms.purposes`` exactly as the crawler decides, with the
robots.txt group that governed it (``governing_group``). ``SCHEMA_VERSION``
versions the JSON (docs/publishers.md documents it).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from crawler.checker.agents import OWN_AGENT, licence_tokens, matrix_rows
from crawler.checker.contradictions import contradictions
from crawler.checker.problems import Problem, unique
from crawler.checker.signals import SiteSignals
from norms import ALL_USAGES, Usage, evaluate
from norms.model import Evidence, Obligation
from norms.problems import Severity
from norms.purposes import evaluate_purposes, governing_group
from norms.verdict import UsageDecision, Verdict

SCHEMA_VERSION = 3


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


class RobotsGroup(BaseModel):
    """The robots.txt group a purpose token obeys: its own, the base token's, ``*``, or none."""

    chosen: Literal["purpose", "base", "*", "none"]
    user_agent: str | None = None  # the User-agent value of that group, as matched (lowercase)
    source: str | None = None  # the robots.txt URL
    file: str | None = None  # offline: the local file
    line: int | None = None  # its User-agent line (the first, if several groups name it)


class AgentReport(BaseModel):
    """What one crawler token may do with the URL (a usage it does not crawl for: None)."""

    agent: str
    fetch: Decision
    usages: dict[str, Decision | None]
    base: str | None = None  # for fairfetch's purpose tokens: the base token (--user-agent)
    group: RobotsGroup | None = None  # for fairfetch's purpose tokens: the group that decided

    def decisions(self) -> list[Decision]:
        """The fetch decision and each applicable usage's."""
        return [self.fetch, *(d for d in self.usages.values() if d is not None)]


def describe_group(group: RobotsGroup, agent: str) -> str:
    """``group 'fairfetch-train' (its own), robots.txt line 2``: the renderers' words for a group."""
    if group.chosen == "none" or group.user_agent is None:
        return "no robots.txt group applies"
    whose = {"purpose": "its own", "base": "the base token's", "*": f"no group names {agent}"}[group.chosen]
    where = f", {group.file or 'robots.txt'} line {group.line}" if group.line is not None else ""
    return f"group '{group.user_agent}' ({whose}){where}"


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


def agent_report(verdict: Verdict, agent: str | None = None, usages: tuple[Usage, ...] = ALL_USAGES) -> AgentReport:
    """One matrix row; the usages outside ``usages`` are None (not applicable)."""
    fetch = _decision(verdict.fetch.allowed, False, verdict.fetch.decided_by, [])
    if fetch.rule is None:
        fetch.rule = verdict.fetch.reason
    return AgentReport(agent=agent or verdict.user_agent, fetch=fetch,
                       usages={u.value: _usage(verdict.usages[u]) if u in usages else None for u in ALL_USAGES})


def obligation_rows(judged: list[tuple[Verdict, str, tuple[Usage, ...]]]) -> list[ObligationRow]:
    """Each obligation of an allowed use once, with the crawlers (row tokens) it binds."""
    rows: dict[tuple[str, str, str], ObligationRow] = {}
    for verdict, agent, usages in judged:
        for usage in usages:
            decision = verdict.usages[usage]
            if not decision.allowed:
                continue
            for o in decision.obligations:
                key = (usage.value, o.kind.value, describe(o))
                row = rows.setdefault(key, ObligationRow(usage=key[0], kind=key[1], detail=key[2], agents=[]))
                if agent not in row.agents:
                    row.agents.append(agent)
    return list(rows.values())


def binds_all(report: CheckReport, usage: str, agents: list[str]) -> bool:
    """Whether an obligation on ``usage`` binds every row that crawls for it ("every crawler")."""
    return set(agents) == {a.agent for a in report.agents if a.usages.get(usage) is not None}


def deciding_signals(report: CheckReport) -> list[tuple[Decision, str]]:
    """Each deciding signal of the matrix once, with where it is (``URL line 3 <meta ...>``)."""
    seen: set[tuple[str | None, str | None, int | None, str | None]] = set()
    out = []
    for agent in report.agents:
        for d in agent.decisions():
            key = (d.signal, d.source, d.line, d.raw)
            if d.signal is None or key in seen:
                continue
            seen.add(key)
            where = (d.source or "") + (f" line {d.line}" if d.line is not None else "") + (
                f" {d.element}" if d.element else "")
            out.append((d, where))
    return out


def _row(url: str, agent: str, base: str | None, usages: tuple[Usage, ...],
         site: SiteSignals) -> tuple[Verdict, AgentReport]:
    """One row: a known crawler under its token; a purpose token as the crawler judges it (norms.purposes)."""
    robots, page = site.robots, site.page
    signals: dict[str, Any] = dict(robots=robots, licenses=site.licences_for(base or agent), tdmrep=site.tdmrep,
                                   status=page.status, headers=page.headers, html=page.html)
    if base is None:
        verdict = evaluate(url, user_agent=agent, purposes=usages, **signals)
        return verdict, agent_report(verdict, agent, usages)
    verdict = evaluate_purposes(url, base_token=base, purposes=usages, **signals)
    choice = governing_group(robots, base, usages[0])
    report = agent_report(verdict, agent, usages)
    report.base = base
    report.group = RobotsGroup(chosen=choice.chosen, user_agent=choice.group,
                               source=robots.source_url if choice.lines else None,
                               line=choice.lines[0] if choice.lines else None)
    return verdict, report


def analyse(
    *,
    url: str,
    agents: tuple[str, ...],
    site: SiteSignals,
    documents: list[Document],
    problems: list[Problem],
    started: float,
    mode: Literal["live", "offline"],
    base: str = OWN_AGENT,
) -> CheckReport:
    """Decide every usage for every row and assemble the report (the step both modes share).

    ``site.licences`` are keyed by ``agents.licence_tokens``: a purpose token reads its base's.
    """
    judged, rows = [], []
    for agent, of, usages in matrix_rows(agents, base):
        verdict, row = _row(url, agent, of, usages, site)
        judged.append((verdict, agent, usages))
        rows.append(row)
    found = [*problems, *site.page.problems, *contradictions(url, licence_tokens(agents, base), site)]
    found = unique(found)
    counts = {s.value: sum(1 for p in found if p.severity is s) for s in Severity}
    return CheckReport(
        mode=mode,
        url=url,
        checked_at=datetime.now(UTC),
        seconds=round(time.monotonic() - started, 3),
        agents=rows,
        obligations=obligation_rows(judged),
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
    "RobotsGroup",
    "Usage",
    "analyse",
    "binds_all",
    "deciding_signals",
    "describe_group",
]
