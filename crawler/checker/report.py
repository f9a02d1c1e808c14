"""One live check of a URL: fetch what the site publishes, decide for every crawler, list problems.

The checker fetches like fairfetch crawls: robots.txt first, then only what
robots.txt allows for the ``fairfetch`` token (RSL licences on the same
origin, ``/.well-known/tdmrep.json``, the page). A site that disallows
fairfetch still gets its robots.txt analysed, but its page is not requested.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from crawler.checker.agents import CHECKED_AGENTS, OWN_AGENT
from crawler.checker.fetch import Fetched, Fetcher, Limits, proxy_for
from crawler.checker.guard import Refused, Unresolvable, guard
from crawler.checker.problems import (
    Problem,
    license_problems,
    page_problems,
    problem,
    robots_problems,
    tdmrep_problems,
)
from norms import ALL_USAGES, SignalError, Usage, evaluate
from norms.html import parse_html
from norms.http import header_lines
from norms.model import Evidence, LicenseRef
from norms.paywall import detect_paywall
from norms.robots import ROBOTS_MAX_BYTES, RobotsTxt, robots_from_fetch
from norms.robots_tags import robots_directives
from norms.rsl import MAX_DOCUMENT_BYTES, LicenseSource, discover_from_headers, discover_from_html
from norms.tdmrep import TdmRepFile, parse_tdmrep_json
from norms.verdict import UsageDecision, Verdict

TDMREP_PATH = "/.well-known/tdmrep.json"
TDMREP_MAX_BYTES = 1_000_000
REPORT_VERSION = 1


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


class Document(BaseModel):
    """One fetch the check made, and what came of it."""

    kind: str  # robots.txt, rsl, tdmrep, page
    url: str
    status: int | None = None
    error: str | None = None
    redirects: int = 0
    bytes: int = 0
    truncated: bool = False
    note: str | None = None


class CheckReport(BaseModel):
    """The whole report, as ``--json`` and ``/check.json`` give it."""

    version: int = REPORT_VERSION
    url: str
    checked_at: datetime
    seconds: float
    usages: list[str] = Field(default_factory=lambda: [u.value for u in ALL_USAGES])
    agents: list[AgentReport]
    documents: list[Document]
    problems: list[Problem]


def _decision(allowed: bool, conditional: bool, ev: Evidence | None, obligations: list[str]) -> Decision:
    if ev is None:
        return Decision(allowed=allowed, conditional=conditional, obligations=obligations)
    return Decision(
        allowed=allowed,
        conditional=conditional,
        signal=ev.signal.value,
        source=ev.source,
        line=ev.line,
        element=ev.element,
        raw=ev.raw,
        rule=ev.rule,
        obligations=obligations,
    )


def _usage(d: UsageDecision) -> Decision:
    obligations = [f"{o.kind.value} {o.detail}".strip() for o in d.obligations]
    return _decision(d.allowed, d.conditional, d.decided_by, obligations)


def agent_report(verdict: Verdict) -> AgentReport:
    fetch = _decision(verdict.fetch.allowed, False, verdict.fetch.decided_by, [])
    if fetch.rule is None:
        fetch.rule = verdict.fetch.reason
    return AgentReport(
        agent=verdict.user_agent,
        fetch=fetch,
        usages={u.value: _usage(verdict.usages[u]) for u in ALL_USAGES},
    )


def validate_target(url: str, *, allow_private: bool = False) -> None:
    """Raise ``Refused`` for a URL the checker will not fetch (before anything is fetched)."""
    # An unresolvable name is no refusal: the check runs and reports the documents unreachable.
    with contextlib.suppress(Unresolvable):
        guard(url, allow_private=allow_private, proxied=proxy_for(url) is not None, timeout=5.0)


def _document(kind: str, doc: Fetched, note: str | None = None) -> Document:
    return Document(
        kind=kind,
        url=doc.url,
        status=doc.status,
        error=doc.error,
        redirects=doc.redirects,
        bytes=len(doc.body or b""),
        truncated=doc.truncated,
        note=note,
    )


class _Check:
    def __init__(self, url: str, limits: Limits, agents: tuple[str, ...]) -> None:
        self.url = url
        self.agents = agents
        self.fetcher = Fetcher(limits)
        parts = urlsplit(url)
        self.origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        self.documents: list[Document] = []
        self.problems: list[Problem] = []
        self._licences: dict[str, Fetched | str] = {}

    def robots(self) -> RobotsTxt:
        robots_url = f"{self.origin}/robots.txt"
        doc = self.fetcher.fetch(robots_url, max_bytes=ROBOTS_MAX_BYTES)
        self.documents.append(_document("robots.txt", doc))
        robots = robots_from_fetch(
            status=doc.status,
            body=doc.body,
            redirects=doc.redirects,
            error=doc.error,
            source_url=robots_url,
        )
        self.problems.extend(robots_problems(robots, robots_url, truncated=doc.truncated))
        return robots

    def licence(self, ref: LicenseRef, robots: RobotsTxt) -> LicenseSource:
        if ref.inline is not None:
            source = _from_body(ref, ref.inline)
            self.problems.extend(license_problems(source))
            return source
        try:
            scheme = urlsplit(ref.url).scheme.lower()
        except ValueError:
            source = LicenseSource.failed(ref, f"the licence URL {ref.url[:200]!r} is not a URL")
            self.problems.extend(license_problems(source))
            return source
        if scheme in ("http", "https") and not robots.allowed(ref.url, OWN_AGENT) \
                and _origin(ref.url) == self.origin:
            source = LicenseSource.failed(ref, "the licence document is disallowed by the origin's robots.txt")
            self.problems.extend(license_problems(source, disallowed=True))
            return source
        got = self._licences.get(ref.url)
        if got is None:
            got = self.fetcher.fetch(ref.url, max_bytes=MAX_DOCUMENT_BYTES)
            self._licences[ref.url] = got
            self.documents.append(_document("rsl", got))
        assert not isinstance(got, str)
        if got.error is not None:
            source = LicenseSource.failed(ref, got.error)
        elif got.status != 200 or got.body is None:
            source = LicenseSource.failed(ref, f"HTTP {got.status} for the licence document")
        elif got.truncated:
            source = LicenseSource.failed(ref, "licence document larger than the size limit")
        else:
            source = _from_body(ref, got.body)
        self.problems.extend(license_problems(source))
        return source

    def tdmrep(self, robots: RobotsTxt) -> TdmRepFile | None:
        url = f"{self.origin}{TDMREP_PATH}"
        if not robots.allowed(url, OWN_AGENT):
            self.documents.append(Document(kind="tdmrep", url=url, note="not fetched: robots.txt disallows it"))
            return None
        doc = self.fetcher.fetch(url, max_bytes=TDMREP_MAX_BYTES)
        self.documents.append(_document("tdmrep", doc))
        if doc.error is not None or doc.status != 200 or doc.body is None:
            return None
        if doc.truncated:
            self.problems.append(problem("tdmrep-too-large", url, "tdmrep.json is larger than 1 MB; ignored"))
            return None
        try:
            file = parse_tdmrep_json(doc.body, source_url=url)
        except SignalError as exc:
            self.problems.append(problem("tdmrep-invalid", url, str(exc)))
            return None
        self.problems.extend(tdmrep_problems(file, self.url))
        return file


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _from_body(ref: LicenseRef, body: bytes | str) -> LicenseSource:
    try:
        return LicenseSource.from_body(ref, body)
    except SignalError as exc:  # from_body turns parse errors into .error; this is belt and braces
        return LicenseSource.failed(ref, str(exc))


def check(
    url: str,
    *,
    limits: Limits | None = None,
    agents: tuple[str, ...] = CHECKED_AGENTS,
) -> CheckReport:
    """Check ``url`` live. Raises ``Refused`` for a target the guard refuses; otherwise always reports."""
    limits = limits or Limits()
    validate_target(url, allow_private=limits.allow_private)
    started = time.monotonic()
    run = _Check(url, limits, agents)
    robots = run.robots()

    # robots.txt License lines: each token's group may name its own; fetch each URL once.
    per_agent: dict[str, list[LicenseSource]] = {}
    by_ref: dict[LicenseRef, LicenseSource] = {}
    for agent in agents:
        sources = []
        for ref in robots.licenses(agent):
            if ref not in by_ref:
                by_ref[ref] = run.licence(ref, robots)
            sources.append(by_ref[ref])
        per_agent[agent] = sources

    tdmrep = run.tdmrep(robots)

    status: int | None = None
    headers: tuple[tuple[str, str], ...] | None = None
    html: bytes | None = None
    page_sources: list[LicenseSource] = []
    if robots.allowed(url, OWN_AGENT):
        page = run.fetcher.fetch(url)
        run.documents.append(_document("page", page))
        if page.error is not None or page.status is None:
            run.problems.append(problem("page-unreachable", url, page.error or "no answer"))
        else:
            status, headers = page.status, page.headers
            final = page.final_url
            lines = header_lines(list(headers))
            refs = discover_from_headers(lines, final)
            doc = None
            if page.body is not None and _is_html(lines):
                html = page.body
                doc = parse_html(html)
                refs += discover_from_html(doc, final)
            for ref in refs:
                page_sources.append(run.licence(ref, robots))
            directives = robots_directives(lines, doc, OWN_AGENT, source_url=url)
            paywall = detect_paywall(doc, url) if doc is not None and doc.root is not None else None
            run.problems.extend(page_problems(url, lines, doc, directives, paywall, agents))
            if status >= 400:
                run.problems.append(problem("page-unreachable", url, f"the page answered HTTP {status}"))
    else:
        run.documents.append(
            Document(kind="page", url=url, note=f"not fetched: robots.txt disallows it for {OWN_AGENT}")
        )

    reports = []
    for agent in agents:
        verdict = evaluate(
            url,
            user_agent=agent,
            purposes=ALL_USAGES,
            robots=robots,
            licenses=[*per_agent[agent], *page_sources],
            tdmrep=tdmrep,
            status=status,
            headers=headers,
            html=html,
        )
        reports.append(agent_report(verdict))
    return CheckReport(
        url=url,
        checked_at=datetime.now(UTC),
        seconds=round(time.monotonic() - started, 3),
        agents=reports,
        documents=run.documents,
        problems=_unique(run.problems),
    )


def _is_html(lines: tuple[tuple[str, str], ...]) -> bool:
    ctype = next((v for k, v in lines if k == "content-type"), "")
    return not ctype or "html" in ctype.lower()


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[object, ...]] = set()
    out = []
    for p in problems:
        key = (p.kind, p.where, p.line, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(out, key=lambda p: order[p.severity.value])


__all__ = [
    "AgentReport",
    "CheckReport",
    "Decision",
    "Document",
    "Limits",
    "Refused",
    "Usage",
    "check",
    "validate_target",
]
