"""One decision per URL and usage, with the evidence behind it.

``evaluate`` gathers what every signal reader says about a URL (robots.txt,
RSL licences, TDMRep, the response's status, headers and markup) and hands the
gates and statements to ``norms.combination``, which combines them by the
rules written down in docs/norms.md.

Per-URL cost matters (the crawler asks before every request), so the question
asked before a request, from the origin's cached signal documents alone, is
memoised here on the identity of the matched signal objects (readers return
the same frozen objects for the same matching rule); the combination step is
memoised the same way in ``norms.combination``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from norms.combination import (
    CACHE_SIZE,
    DEFAULT_EFFECTS,
    NOT_COVERED,
    build_verdict,
    combine,
    with_url,
)
from norms.html import HtmlDoc, parse_html
from norms.http import HeadersLike, header_lines
from norms.lenient import scrub
from norms.model import (
    ALL_USAGES,
    Effect,
    Evidence,
    Gate,
    Grants,
    Obligation,
    ObligationKind,
    Signal,
    SignalError,
    Statement,
    Usage,
)
from norms.page_facts import PageFacts
from norms.problems import Finding, Severity
from norms.urls import normalize_url
from norms.verdict import Verdict

if TYPE_CHECKING:
    from norms.robots import RobotsTxt
    from norms.rsl import LicenseSource
    from norms.tdmrep import TdmRepFile

__all__ = ["DEFAULT_EFFECTS", "combine", "evaluate", "signal_findings"]

_before_request_cache: dict[tuple[object, ...], tuple[tuple[object, ...], Verdict]] = {}


def evaluate(
    url: str,
    *,
    user_agent: str = "fairfetch",
    purposes: Iterable[Usage | str] = ALL_USAGES,
    robots: RobotsTxt | None = None,
    licenses: Sequence[LicenseSource] = (),
    tdmrep: TdmRepFile | None = None,
    status: int | None = None,
    headers: HeadersLike = None,
    html: str | bytes | HtmlDoc | PageFacts | None = None,
    grants: Grants | None = None,
    defaults: Mapping[Usage, Effect] = DEFAULT_EFFECTS,
) -> Verdict:
    """Decide, for every usage, whether ``url`` may be used, and whether it may be fetched.

    Call it before a request with what is known per origin (``robots``,
    ``licenses`` from robots.txt, ``tdmrep``) and again after the response with
    ``status``, ``headers`` and ``html`` (and any licences discovered on the
    page). ``html`` is the markup, its ``HtmlDoc``, or the ``PageFacts`` read
    from it in another process (``norms.page_facts``). ``user_agent`` is the
    product token robots.txt groups are matched against. Pure: no I/O, never
    raises on odd signal values.

    ``url`` is decided in its RFC 3986 normal form (``norms.urls``): dot
    segments, escapes of unreserved characters, host case and default port
    cannot change the answer, and the verdict carries the normal form. A
    string that is not an absolute URL gets a verdict that denies the fetch
    and every usage (nothing can be requested for it).
    """
    wanted = _purposes(purposes)
    try:
        url = normalize_url(url)
    except SignalError as exc:
        text = scrub(str(url))
        invalid = Gate(
            reason=f"not a valid URL: {exc}",
            evidence=Evidence(signal=Signal.DEFAULT, source="fairfetch", raw=text[:200],
                              rule="a URL that cannot be normalised (RFC 3986) cannot be decided: refused"),
        )
        return build_verdict(text, user_agent, wanted, [invalid], [], NOT_COVERED, defaults, (), ())
    url = url if url.isascii() else scrub(url)  # a normal form is ASCII; a lone surrogate is not on the wire
    if robots is not None and not licenses and tdmrep is None and grants is None and html is None:
        # The commonest question (robots.txt alone, before a request) in one probe.
        gate, found = robots.decide(url, user_agent)
        if status is None and headers is None and defaults is DEFAULT_EFFECTS:
            hit = _before_request_cache.get((user_agent, wanted, id(gate), id(found)))
            if hit is not None:
                return with_url(hit[1], url)
    if (
        status is None
        and headers is None
        and html is None
        and defaults is DEFAULT_EFFECTS
        and (grants is None or not grants.licensed)
    ):
        return _before_request(url, user_agent, wanted, robots, licenses, tdmrep, grants or _NO_GRANTS)
    grants = grants if grants is not None else _NO_GRANTS
    gates: list[Gate] = []
    statements: list[Statement] = []
    exclude: list[str] = []
    common: list[Obligation] = []

    if robots is not None:
        gate, robot_statements = robots.decide(url, user_agent)
        if gate is not None:
            gates.append(gate)
        statements.extend(robot_statements)

    if licenses:
        from norms.rsl import license_statements

        lic_statements, lic_gates = license_statements(url, licenses, grants)
        statements.extend(lic_statements)
        gates.extend(lic_gates)

    responded = status is not None or headers is not None or html is not None
    problems = signal_findings(robots, licenses, tdmrep) if responded else []
    lines = header_lines(headers)
    # Markup read in another process arrives as PageFacts (norms.page_facts): its tree stayed there.
    facts: PageFacts | None = None
    doc: HtmlDoc | None = None
    if isinstance(html, PageFacts):
        facts, doc = html, html.doc
    elif html is not None:
        doc = parse_html(html)

    if tdmrep is not None or responded:
        from norms.tdmrep import tdmrep_statements

        statements.extend(
            tdmrep_statements(url, file=tdmrep, headers=lines, html=doc, source_url=url)
        )

    if responded:
        from norms.access import access_from_response
        from norms.aipref import content_usage_header_statements
        from norms.content_signal import content_signal_header_statements
        from norms.robots_tags import robots_directives

        access = access_from_response(status, lines, url=url, grants=grants)
        gates.extend(access.gates)
        statements.extend(access.statements)
        common.extend(access.obligations)
        directives = robots_directives(lines, doc, user_agent, source_url=url)
        problems.extend(directives.findings)
        statements.extend(directives.statements())
        statements.extend(content_usage_header_statements(lines, url))
        statements.extend(content_signal_header_statements(lines, url))
        report = None
        if facts is not None:
            report = facts.paywall
        elif doc is not None and doc.root is not None:
            from norms.paywall import detect_paywall

            report = detect_paywall(doc, url)
        if report is not None:
            problems.extend(report.findings)
            statements.extend(report.statements())
            exclude.extend(report.selectors)

    for st in statements:
        for ob in st.obligations:
            if ob.kind is ObligationKind.EXCLUDE_PARTS:
                exclude.extend(ob.selectors)

    verdict = combine(
        url,
        user_agent=user_agent,
        purposes=wanted,
        gates=gates,
        statements=statements,
        grants=grants,
        defaults=defaults,
        exclude_selectors=exclude,
        common_obligations=common,
    )
    return verdict.model_copy(update={"findings": tuple(problems)}) if problems else verdict


_NO_GRANTS = Grants()


def signal_findings(
    robots: RobotsTxt | None, licenses: Sequence[LicenseSource], tdmrep: TdmRepFile | None
) -> list[Finding]:
    """What the readers found wrong in the signal documents a verdict is decided from (norms.problems)."""
    out: list[Finding] = list(robots.findings) if robots is not None else []
    for source in licenses:
        if source.document is not None:
            out.extend(source.document.findings)
        elif source.error is not None:
            out.append(Finding(code=source.error_code or "rsl-unreadable", severity=Severity.ERROR,
                               message=source.error, source=source.ref.url))
    if tdmrep is not None:
        out.extend(tdmrep.findings)
    return out


def _before_request(
    url: str,
    user_agent: str,
    wanted: tuple[Usage, ...],
    robots: RobotsTxt | None,
    licenses: Sequence[LicenseSource],
    tdmrep: TdmRepFile | None,
    grants: Grants,
) -> Verdict:
    """The question asked before every request, from the origin's cached signal documents.

    Each reader hands out one cached object per matching rule (robots group and
    line, licence scope, tdmrep rule), so the verdict is memoised on those
    identities; the entry keeps the objects alive, so an id cannot be reused
    for another object while it is cached. The rules are those of ``combine``.
    """
    gate, found = robots.decide(url, user_agent) if robots is not None else (None, ())
    if not licenses and tdmrep is None:
        # robots.txt alone: the commonest case, kept to a single dictionary probe.
        hit = _before_request_cache.get((user_agent, wanted, id(gate), id(found)))
        if hit is not None:
            return with_url(hit[1], url)
    parts: list[object] = [gate, found]
    gates: list[Gate] = [] if gate is None else [gate]
    statements: list[Statement] = list(found)
    if licenses:
        from norms.rsl import license_statements

        lic_statements, lic_gates = license_statements(url, licenses, grants)
        parts.extend(lic_statements)
        parts.append(None)
        parts.extend(lic_gates)
        statements.extend(lic_statements)
        gates.extend(lic_gates)
    if tdmrep is not None:
        tdm = tdmrep.statements_for(url)
        parts.append(tdm)
        statements.extend(tdm)
    key = (user_agent, wanted, *map(id, parts))
    hit = _before_request_cache.get(key)
    if hit is not None:
        return with_url(hit[1], url)
    verdict = combine(
        url, user_agent=user_agent, purposes=wanted, gates=gates, statements=statements, grants=grants
    )
    if len(_before_request_cache) >= CACHE_SIZE:
        _before_request_cache.clear()
    _before_request_cache[key] = (tuple(parts), verdict)
    return verdict


_PURPOSES: dict[object, tuple[Usage, ...]] = {}


def _purposes(purposes: Iterable[Usage | str]) -> tuple[Usage, ...]:
    """Validated purposes; memoised for the hashable tuples callers pass on every request."""
    if isinstance(purposes, tuple):
        known = _PURPOSES.get(purposes)
        if known is not None:
            return known
        _PURPOSES[purposes] = wanted = tuple(Usage(p) for p in purposes)
        return wanted
    return tuple(Usage(p) for p in purposes)
