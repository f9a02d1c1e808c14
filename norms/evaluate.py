"""One decision per URL and usage, with the evidence behind it.

``evaluate`` gathers what every signal reader says about a URL and combines it
by the rules written down in docs/norms.md:

1. **Access gates first.** robots.txt Disallow (or robots.txt unreachable),
   HTTP 401/403/451, 402 without an agreed price, an RSL licence server whose
   token we do not hold. A gate denies the fetch and every usage; no licence
   overrides it (RSL: ``License`` never changes Allow/Disallow).
2. **Restrictions win.** For each usage, any applicable denial (RSL
   prohibition, Content-Signal ``no``, AI Preferences ``n``, TDMRep
   reservation, noai/noindex/nosnippet, paywall, unlicensed content) denies it:
   the most restrictive signal wins across standards. Each reader has already
   applied its own standard's specificity rule (longest path, first match,
   narrower scope...).
3. **Unless a grant covers the usage.** An operator's contract for the host,
   a licence token held for an RSL server or a payment made lifts
   *preference* denials for the usages it covers; it never lifts a prohibition
   stated in a licence itself, nor a gate.
4. **Allows carry obligations.** An allowed usage collects every obligation
   (attribution, payment, snippet limit, parts to exclude, reporting) of the
   statements that speak about it.
5. **Silence falls back to defaults** that respect the publisher: ``search``,
   ``ai-index`` and ``ai-input`` are allowed when nothing says otherwise;
   ``ai-train`` needs an explicit permission. The default used is recorded.

The fetch decision is the gate decision combined with the declared purposes: a
URL none of whose declared purposes is allowed is not requested either.

Per-URL cost matters (the crawler asks before every request), so the
combination step is memoised on the identity of the matched signal objects;
readers return the same frozen objects for the same matching rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

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
from norms.verdict import FetchDecision, UsageDecision, Verdict

if TYPE_CHECKING:
    from norms.robots import RobotsTxt
    from norms.rsl import LicenseSource
    from norms.tdmrep import TdmRepFile

DEFAULT_EFFECTS: Mapping[Usage, Effect] = {
    Usage.SEARCH: Effect.ALLOW,
    Usage.AI_INDEX: Effect.ALLOW,
    Usage.AI_INPUT: Effect.ALLOW,
    Usage.AI_TRAIN: Effect.DENY,
}

_DEFAULT_EVIDENCE: dict[tuple[Usage, Effect], Evidence] = {
    (u, e): Evidence(
        signal=Signal.DEFAULT,
        source="fairfetch",
        raw=f"{u.value}={e.value}",
        rule=(
            f"no signal speaks about {u.value}: fairfetch default is to allow it"
            if e is Effect.ALLOW
            else f"no signal permits {u.value} explicitly: fairfetch default is to refrain"
        ),
    )
    for u in Usage
    for e in Effect
}

# Obligations that show the operator holds a licence or has paid: such a
# permission is a grant and lifts preference-level denials for its usage.
_GRANT_OBLIGATIONS = frozenset({ObligationKind.LICENSE_TOKEN, ObligationKind.PAYMENT})

# Obligations that only narrow a use (which parts, how long a quote) without granting it.
_QUALIFIERS = frozenset({ObligationKind.EXCLUDE_PARTS, ObligationKind.SNIPPET_LIMIT})

_CACHE_SIZE = 4096
_combine_cache: dict[tuple[object, ...], tuple[tuple[object, ...], Verdict]] = {}
_before_request_cache: dict[tuple[object, ...], tuple[tuple[object, ...], Verdict]] = {}
_NOT_COVERED: tuple[bool, ...] = (False,) * len(ALL_USAGES)


def _describe(st: Statement) -> str:
    ev = st.evidence
    derived = " (derived)" if st.derived else ""
    verb = "allows" if st.effect is Effect.ALLOW else "denies"
    return f"{ev.signal.value} {verb} {st.usage.value}{derived}: {ev.raw!r} at {ev.where()} — {ev.rule}"


def _deny_rank(st: Statement) -> int:
    """Which denial to name as the decider: licence prohibitions, then direct, then derived."""
    if not st.preference:
        return 0
    return 2 if st.derived else 1


def _decide_usage(
    usage: Usage,
    statements: Sequence[Statement],
    covered: bool,
    default: Effect,
) -> UsageDecision:
    mine = [s for s in statements if s.usage is usage]
    grant_here = covered or any(
        s.effect is Effect.ALLOW and any(o.kind in _GRANT_OBLIGATIONS for o in s.obligations)
        for s in mine
    )
    denies = [s for s in mine if s.effect is Effect.DENY and not (grant_here and s.preference)]
    evidence = tuple(dict.fromkeys(s.evidence for s in mine))
    if denies:
        denies.sort(key=_deny_rank)
        return UsageDecision(
            usage=usage,
            effect=Effect.DENY,
            reasons=tuple(_describe(s) for s in denies),
            decided_by=denies[0].evidence,
            evidence=evidence,
        )
    allows = [s for s in mine if s.effect is Effect.ALLOW]
    obligations: tuple[Obligation, ...] = tuple(dict.fromkeys(o for s in allows for o in s.obligations))
    # A statement that only qualifies how content may be used (drop these parts,
    # quote at most n characters) is not a permission: it conditions whatever
    # else decides, including the default.
    permissions = [s for s in allows if not _only_qualifies(s)]
    overridden = [s for s in mine if s.effect is Effect.DENY]
    reasons = [_describe(s) for s in allows]
    reasons += [f"overridden by a grant: {_describe(s)}" for s in overridden]
    if permissions or covered:
        decided_by = permissions[0].evidence if permissions else None
        if covered and not permissions:
            reasons.append(f"operator grant covers {usage.value}")
        return UsageDecision(
            usage=usage,
            effect=Effect.ALLOW,
            obligations=obligations,
            reasons=tuple(reasons),
            decided_by=decided_by,
            evidence=evidence,
        )
    ev = _DEFAULT_EVIDENCE[(usage, default)]
    allowed = default is Effect.ALLOW
    return UsageDecision(
        usage=usage,
        effect=default,
        obligations=obligations if allowed else (),
        reasons=(ev.rule, *reasons) if allowed else (ev.rule,),
        decided_by=ev,
        evidence=evidence,
    )


def _only_qualifies(st: Statement) -> bool:
    return bool(st.obligations) and all(o.kind in _QUALIFIERS for o in st.obligations)


def _gated(usage: Usage, gates: Sequence[Gate]) -> UsageDecision:
    return UsageDecision(
        usage=usage,
        effect=Effect.DENY,
        reasons=tuple(g.reason for g in gates),
        decided_by=gates[0].evidence,
        evidence=tuple(dict.fromkeys(g.evidence for g in gates)),
    )


def combine(
    url: str,
    *,
    user_agent: str,
    purposes: Sequence[Usage],
    gates: Sequence[Gate],
    statements: Sequence[Statement],
    grants: Grants,
    defaults: Mapping[Usage, Effect] = DEFAULT_EFFECTS,
    exclude_selectors: Sequence[str] = (),
    common_obligations: Sequence[Obligation] = (),
) -> Verdict:
    """Combine gates and statements into a Verdict (the rules in the module docstring).

    ``common_obligations`` attach to every allowed usage (a Pay Per Crawl
    charge applies to the response as a whole) without acting as a grant:
    paying for a crawl does not buy rights the publisher has reserved.

    Everything but the URL depends only on which signal objects apply, so the
    verdict is memoised on their identities (readers hand out the same frozen
    object for the same matching rule); the cache entry keeps those objects
    alive, so an id can never be reused for a different object while cached.
    """
    covered: tuple[bool, ...]
    if grants.licensed:
        host = (urlsplit(url).hostname or "").lower()
        covered = tuple(grants.covers(host, u) for u in ALL_USAGES)
    else:
        covered = _NOT_COVERED
    key: tuple[object, ...] | None = None
    if defaults is DEFAULT_EFFECTS and not common_obligations:
        key = (
            user_agent,
            tuple(purposes),
            covered,
            tuple(exclude_selectors),
            *(map(id, gates) if gates else (id(None),)),
            None,
            *map(id, statements),
        )
        hit = _combine_cache.get(key)
        if hit is not None:
            return _with_url(hit[1], url)
    verdict = _build(
        url, user_agent, purposes, gates, statements, covered, defaults, exclude_selectors, common_obligations
    )
    if key is not None:
        if len(_combine_cache) >= _CACHE_SIZE:
            # Distinct combinations per crawl are few (one per matching rule set);
            # starting afresh is cheaper than LRU bookkeeping on every hit.
            _combine_cache.clear()
        _combine_cache[key] = ((*gates, *statements), verdict)
    return verdict


def _with_url(template: Verdict, url: str) -> Verdict:
    """A shallow copy of a memoised verdict for another URL (what model_copy does, minus its overhead)."""
    new = object.__new__(Verdict)
    state = template.__dict__.copy()
    state["url"] = url
    _setattr(new, "__dict__", state)
    _setattr(new, "__pydantic_fields_set__", template.__pydantic_fields_set__)
    _setattr(new, "__pydantic_extra__", None)
    _setattr(new, "__pydantic_private__", None)
    return new


_setattr = object.__setattr__


def _build(
    url: str,
    user_agent: str,
    purposes: Sequence[Usage],
    gates: Sequence[Gate],
    statements: Sequence[Statement],
    covered: tuple[bool, ...],
    defaults: Mapping[Usage, Effect],
    exclude_selectors: Sequence[str],
    common_obligations: Sequence[Obligation],
) -> Verdict:
    decisions: tuple[UsageDecision, ...]
    if gates:
        decisions = tuple(_gated(u, gates) for u in ALL_USAGES)
    else:
        decisions = tuple(
            _decide_usage(u, statements, covered[i], defaults[u]) for i, u in enumerate(ALL_USAGES)
        )
    if common_obligations and not gates:
        decisions = tuple(
            d.model_copy(update={"obligations": tuple(dict.fromkeys((*d.obligations, *common_obligations)))})
            if d.allowed
            else d
            for d in decisions
        )
    usages = {d.usage: d for d in decisions}
    if gates:
        fetch = FetchDecision(allowed=False, reason=gates[0].reason, decided_by=gates[0].evidence)
    else:
        permitted = [p for p in purposes if usages[p].allowed]
        if permitted or not purposes:
            reason = "allowed for " + ", ".join(p.value for p in permitted) if permitted else "no gate"
            fetch = FetchDecision(allowed=True, reason=reason)
        else:
            first = usages[purposes[0]]
            fetch = FetchDecision(
                allowed=False,
                reason="no declared purpose is allowed: "
                + "; ".join(f"{p.value}: {usages[p].reasons[0]}" for p in purposes if usages[p].reasons),
                decided_by=first.decided_by,
            )
    evidence = tuple(dict.fromkeys([*(g.evidence for g in gates), *(s.evidence for s in statements)]))
    return Verdict(
        url=url,
        user_agent=user_agent,
        purposes=tuple(purposes),
        fetch=fetch,
        usages=usages,
        evidence=evidence,
        exclude_selectors=tuple(dict.fromkeys(exclude_selectors)),
    )


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
        return _build(text, user_agent, wanted, [invalid], [], _NOT_COVERED, defaults, (), ())
    url = url if url.isascii() else scrub(url)  # a normal form is ASCII; a lone surrogate is not on the wire
    if robots is not None and not licenses and tdmrep is None and grants is None and html is None:
        # The commonest question (robots.txt alone, before a request) in one probe.
        gate, found = robots.decide(url, user_agent)
        if status is None and headers is None and defaults is DEFAULT_EFFECTS:
            hit = _before_request_cache.get((user_agent, wanted, id(gate), id(found)))
            if hit is not None:
                return _with_url(hit[1], url)
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
            return _with_url(hit[1], url)
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
        return _with_url(hit[1], url)
    verdict = combine(
        url, user_agent=user_agent, purposes=wanted, gates=gates, statements=statements, grants=grants
    )
    if len(_before_request_cache) >= _CACHE_SIZE:
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
