"""The combination rules: what gates, statements and grants say about a URL, as one Verdict.

``norms.evaluate`` gathers the signal readers' gates and statements; the rules
that combine them, written down in docs/norms.md, live here:

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

Apart from the URL, a verdict depends only on which signal objects apply, so
``combine`` is memoised on their identities and ``with_url`` re-labels a
memoised verdict for the next URL: the crawler asks before every request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from norms.model import (
    ALL_USAGES,
    Effect,
    Evidence,
    Gate,
    Grants,
    Obligation,
    ObligationKind,
    Signal,
    Statement,
    Usage,
)
from norms.verdict import FetchDecision, UsageDecision, Verdict

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

CACHE_SIZE = 4096  # entries per memo (this one and norms.evaluate's before-request memo)
_combine_cache: dict[tuple[object, ...], tuple[tuple[object, ...], Verdict]] = {}
NOT_COVERED: tuple[bool, ...] = (False,) * len(ALL_USAGES)  # no grant covers any usage


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
        covered = NOT_COVERED
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
            return with_url(hit[1], url)
    verdict = build_verdict(
        url, user_agent, purposes, gates, statements, covered, defaults, exclude_selectors, common_obligations
    )
    if key is not None:
        if len(_combine_cache) >= CACHE_SIZE:
            # Distinct combinations per crawl are few (one per matching rule set);
            # starting afresh is cheaper than LRU bookkeeping on every hit.
            _combine_cache.clear()
        _combine_cache[key] = ((*gates, *statements), verdict)
    return verdict


def with_url(template: Verdict, url: str) -> Verdict:
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


def build_verdict(
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

