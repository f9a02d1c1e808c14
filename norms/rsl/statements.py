"""From discovered RSL licences to statements and gates for one URL.

``license_statements(url, sources, grants)`` is how the norms engine hears
RSL. Its rules:

1. **Which sources count.** Sources whose document says nothing about the URL
   (no ``<content>`` matches) contribute nothing. Among robots.txt licences,
   those in the group selected for our token (``scope="group"``) replace the
   global ones; global ones are used only when there is no group-scoped one.
   Page-level licences (Link header, HTML, RSS) always count.
2. **Unlicensed content.** A declared licence we could not obtain
   (``document is None``: 404, timeout, not XML, bomb refused...), a document
   that is not RSL 1.0 conformant, or matching terms that cannot be read make
   the content *unlicensed*: every AI usage (ai-index, ai-input, ai-train) is
   denied with ``preference=False`` and evidence saying why. RSL never falls
   back to "permitted" when the publisher evidently meant to license; search
   is not denied by an unlicensed state.
3. **Within a document** (``norms.rsl.document``, ``norms.rsl.terms``): the
   narrowest matching ``<content url>`` wins; prohibition beats permission; a
   closed ``permits`` list denies what it does not list; ``all``/``ai-all``
   expand through ``norms.vocabulary``. A prohibition or an unlisted usage is a denial with
   ``preference=False``: a licence's own terms are not preferences a grant
   could override.
4. **Conditions of the granting licence.** Among the offers that grant a
   usage, the cheapest one we can satisfy is taken:
   * an offer with a ``<reporting>`` profile is one we cannot satisfy (we
     implement none), and RSL says such activity is not licensed;
   * a priced offer (type other than free/attribution, with an amount) is
     acceptable only if ``grants.accepts_price(amount, currency)``; an
     offer of a type that costs money but states no amount cannot be agreed
     to automatically;
   * if no offer is acceptable the usage is denied ("payment required,
     operator has not agreed to pay" / the reporting reason), else allowed
     with the offer's obligations (attribution, payment, licence token,
     legal terms).
   A licence the operator accepted by its URL (``grants.accepted_licenses``)
   is agreed to whatever it costs: the operator has read its terms.
5. **Licence servers.** A matching ``<content server>`` is a ``Gate``
   ("licence server ... requires a licence token before access: <what is
   missing>"), even for free terms, unless a token is held
   (``grants.license_tokens``) or can be obtained: the operator has client
   credentials for the server (``grants.license_credentials``) *and* has
   agreed to the licence (:func:`consented`). Allowed usages then carry
   ``Obligation(LICENSE_TOKEN, url=server)``; the crawler presents the held
   token or obtains one (OLP) before the request.
6. **Across documents and channels** the most restrictive combination wins:
   for each usage, if any source denies it only the denials are returned,
   otherwise every source's permission (with its obligations).

Results are memoised per document and grants, so repeated calls for URLs
under the same scope return the same statement objects (``norms.combination``
memoises verdicts on their identity).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence

from norms.model import (
    AI_USAGES,
    ALL_USAGES,
    Effect,
    Evidence,
    Gate,
    Grants,
    LicenseRef,
    Signal,
    SignalError,
    Statement,
    Usage,
)
from norms.rsl.discovery import LicenseSource
from norms.rsl.elements import PaymentType, RslLicense
from norms.rsl.terms import Terms, offer_cost, offer_obligations
from norms.urls import normalize_url

RULE_UNLICENSED = "content unlicensed"
RULE_PAYMENT = "payment required, operator has not agreed to pay"
RULE_REPORTING = "reporting profile cannot be satisfied; not licensed"

_CACHE_SIZE = 4096
_cache: OrderedDict[
    tuple[object, ...], tuple[LicenseSource, Terms | None, tuple[Statement, ...], tuple[Gate, ...]]
] = OrderedDict()


def _declared_where(ref: LicenseRef) -> str:
    line = f" line {ref.line}" if ref.line is not None else ""
    return {
        "robots": f"declared in robots.txt{line}",
        "link-header": "declared in an HTTP Link header",
        "html-link": f"declared in an HTML <link>{line}",
        "html-inline": f"inline in the page{line}",
        "rss": "declared in an RSS feed item",
    }.get(ref.via, f"declared via {ref.via}")


def _line_in_source(ref: LicenseRef) -> int | None:
    """A line number for evidence only when it is a line of ``ref.url`` itself.

    For an inline licence the source is the page and the line is the page's;
    for a fetched licence ``ref.line`` is a line of robots.txt or of the
    linking page, so it stays in the rule's wording instead.
    """
    return ref.line if ref.via == "html-inline" else None


def applicable_sources(sources: Sequence[LicenseSource]) -> list[LicenseSource]:
    """Group-scoped robots.txt licences replace global ones; everything else stays."""
    has_group = any(s.ref.via == "robots" and s.ref.scope == "group" for s in sources)
    return [s for s in sources if not (has_group and s.ref.via == "robots" and s.ref.scope == "global")]


def _unlicensed(source: LicenseSource, why: str, element: str | None = None) -> list[Statement]:
    ref = source.ref
    rule = f"licence {ref.url} {_declared_where(ref)} {why}; {RULE_UNLICENSED}"
    evidence = Evidence(
        signal=Signal.RSL,
        source=ref.url,
        raw=source.error or why,
        rule=rule,
        line=_line_in_source(ref),
        element=element or ref.element,
    )
    return [
        Statement(usage=u, effect=Effect.DENY, evidence=evidence, preference=False) for u in AI_USAGES
    ]


def _satisfiable(offer: RslLicense) -> bool:
    return not offer.reporting


def _affordable(offer: RslLicense, grants: Grants) -> bool:
    pay = offer.payment
    if pay is None or pay.is_free:
        return True
    if not pay.amounts:
        # A contribution is good-faith support with no price; any other paid type
        # without an amount is a price we cannot know, so cannot agree to.
        return pay.type == PaymentType.CONTRIBUTION
    return any(grants.accepts_price(a.value, a.currency) for a in pay.amounts)


def accepted(source: LicenseSource, grants: Grants) -> bool:
    """The operator accepted this licence by its URL (``--accept-license``; compared in normal form)."""
    if not grants.accepted_licenses:
        return False
    url = source.ref.url
    with contextlib.suppress(SignalError):
        url = normalize_url(url)
    return url in grants.accepted_licenses or source.ref.url in grants.accepted_licenses


def consented(source: LicenseSource, terms: Terms, grants: Grants) -> bool:
    """Has the operator agreed to ``terms``, so that asking its licence server for a token is honest?

    Yes if the licence was accepted by URL, or if a price ceiling is set and an
    offer we can satisfy costs no more than it (a free offer is within any
    ceiling). With no ceiling and no acceptance the operator has agreed to
    nothing: a licence server's token is a contract, so none is requested.
    """
    if accepted(source, grants):
        return True
    if grants.max_price is None:
        return False
    return any(_affordable(o, grants) for o in terms.licenses if _satisfiable(o))


def _usage_statement(
    source: LicenseSource, terms: Terms, usage: Usage, grants: Grants
) -> Statement | None:
    ruling = terms.ruling(usage)
    url = source.ref.url

    def evidence(raw: str, rule: str) -> Evidence:
        return Evidence(
            signal=Signal.RSL, source=url, raw=raw, rule=rule, line=_line_in_source(source.ref), element=terms.element
        )

    if ruling.permitted is None:
        if usage not in AI_USAGES:
            return None
        rule = f"licence {url}: {ruling.reason} for this URL; {RULE_UNLICENSED}"
        return Statement(usage=usage, effect=Effect.DENY, evidence=evidence("", rule), preference=False)
    if ruling.permitted is False:
        return Statement(
            usage=usage, effect=Effect.DENY, evidence=evidence(ruling.raw, ruling.reason), preference=False
        )
    offers = [o for o in ruling.granting if _satisfiable(o)]
    if not offers:
        profiles = ", ".join(r.profile or r.type or "?" for o in ruling.granting for r in o.reporting)
        return Statement(
            usage=usage,
            effect=Effect.DENY,
            evidence=evidence(ruling.raw, f"{RULE_REPORTING} ({profiles})"),
            preference=False,
        )
    affordable = offers if accepted(source, grants) else [o for o in offers if _affordable(o, grants)]
    if not affordable:
        cheapest = min(offers, key=offer_cost)
        price = cheapest.payment.describe() if cheapest.payment else ""
        return Statement(
            usage=usage,
            effect=Effect.DENY,
            evidence=evidence(cheapest.raw(), f"{RULE_PAYMENT} ({price})"),
            preference=False,
        )
    offer = min(affordable, key=offer_cost)
    servers = [s for s in terms.servers if _obtainable(source, terms, s, grants) is None]
    return Statement(
        usage=usage,
        effect=Effect.ALLOW,
        evidence=evidence(
            offer.raw_permits.get("usage") or offer.raw(),
            f"{usage.value} permitted by licence <license> #{offer.index}",
        ),
        obligations=tuple(offer_obligations(offer, servers, terms.encrypted)),
    )


NO_CREDENTIALS = "no client credentials for it (--license-credentials SERVER=CLIENT_ID:SECRET)"
NO_CONSENT = ("the operator has not agreed to the licence (--max-price covering its payment, "
              "or --accept-license URL)")


def _obtainable(source: LicenseSource, terms: Terms, server: str, grants: Grants) -> str | None:
    """None if a token for ``server`` is held or may be requested; else what is missing, in words."""
    if server in grants.license_tokens:
        return None
    missing = []
    if server.rstrip("/") not in grants.license_credentials:
        missing.append(NO_CREDENTIALS)
    if not consented(source, terms, grants):
        missing.append(NO_CONSENT)
    return "; ".join(missing) or None


def _gates(source: LicenseSource, terms: Terms, grants: Grants) -> list[Gate]:
    gates = []
    for server in terms.servers:
        missing = _obtainable(source, terms, server, grants)
        if missing is None:
            continue
        reason = f"licence server {server} requires a licence token before access: {missing}"
        gates.append(
            Gate(
                reason=reason,
                evidence=Evidence(
                    signal=Signal.RSL,
                    source=source.ref.url,
                    raw=f'server="{server}"',
                    rule=reason,
                    line=_line_in_source(source.ref),
                    element=terms.element,
                ),
            )
        )
    return gates


def _grants_key(grants: Grants) -> tuple[object, ...]:
    return (tuple(sorted(grants.license_tokens)), grants.max_price, grants.currency.upper(),
            tuple(sorted(grants.license_credentials)), tuple(sorted(grants.accepted_licenses)))


def _compute(
    source: LicenseSource, terms: Terms | None, grants: Grants
) -> tuple[tuple[Statement, ...], tuple[Gate, ...]]:
    document = source.document
    if document is None:
        why = f"could not be fetched or read: {source.error or 'no document'}"
        return tuple(_unlicensed(source, why)), ()
    if terms is None:
        return (), ()
    if not document.conformant:
        why = f"is not a conformant RSL 1.0 document ({document.nonconformities[0]})"
        return tuple(_unlicensed(source, why, terms.element)), ()
    statements = tuple(
        st for u in ALL_USAGES if (st := _usage_statement(source, terms, u, grants)) is not None
    )
    return statements, tuple(_gates(source, terms, grants))


def _source_result(
    source: LicenseSource, url: str, grants: Grants
) -> tuple[tuple[Statement, ...], tuple[Gate, ...]]:
    """Memoised on (source, matched terms, grants): same scope, same statement objects."""
    terms = source.document.terms_for(url) if source.document is not None else None
    if source.document is not None and terms is None:
        return (), ()
    key = (id(source), id(terms), _grants_key(grants))
    hit = _cache.get(key)
    if hit is not None and hit[0] is source and hit[1] is terms:
        _cache.move_to_end(key)
        return hit[2], hit[3]
    statements, gates = _compute(source, terms, grants)
    _cache[key] = (source, terms, statements, gates)
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return statements, gates


def _most_restrictive(statements: Iterable[Statement]) -> list[Statement]:
    by_usage: dict[Usage, list[Statement]] = {}
    for st in statements:
        by_usage.setdefault(st.usage, []).append(st)
    out: list[Statement] = []
    for usage in ALL_USAGES:
        mine = by_usage.get(usage, [])
        denies = [s for s in mine if s.effect is Effect.DENY]
        out.extend(dict.fromkeys(denies or mine))
    return out


def license_statements(
    url: str, sources: Sequence[LicenseSource], grants: Grants
) -> tuple[list[Statement], list[Gate]]:
    """What the RSL licences in ``sources`` say about ``url`` (rules in the module docstring)."""
    applicable = applicable_sources(sources)
    if len(applicable) == 1:
        # One licence already yields at most one statement per usage, most restrictive first.
        only_statements, only_gates = _source_result(applicable[0], url, grants)
        return list(only_statements), list(only_gates)
    statements: list[Statement] = []
    gates: list[Gate] = []
    for source in applicable:
        st, gt = _source_result(source, url, grants)
        statements.extend(st)
        gates.extend(gt)
    return _most_restrictive(statements), list(dict.fromkeys(gates))
