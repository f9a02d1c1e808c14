"""What an RSL document's terms for one URL allow, per usage, and what the cheapest grant asks for.

``Terms`` are the licences of the narrowest ``<content>`` scope matching a
URL (``RslDocument.terms_for``); ``Terms.permits`` answers, per usage,
whether some licence in that scope grants it. The rules (RSL 1.0 §3, as
digested in docs/signals.md 2.3):

* Document order never matters; all licences of the effective scope are read
  together. Each ``<license>`` is an alternative offer: a usage is permitted
  if at least one licence grants it and nothing in the scope prohibits it.
* A licence grants a usage if its ``<permits type="usage">`` lists it, or if
  it has no usage ``permits`` at all (only restrictions, payment...). A
  ``permits`` list is closed: what it does not list, that licence does not
  grant. A licence never grants what it prohibits itself.
* Prohibition beats permission, but a specific token beats a broad one:
  ``ai-train`` outranks ``ai-all`` which outranks ``all``. At the most
  specific level that mentions the usage anywhere in the scope, any
  prohibition wins.
* ``user`` and ``geo`` restrictions are satisfied only by a caller that
  states its class / country: an unknown caller cannot show it is in a
  permitted class nor outside a prohibited one, so such a licence does not
  grant to it (never expand rights). A stated class or country that some
  licence prohibits is not licensed at all in the scope. ``EU`` covers the
  member states.
* Unknown tokens in ``permits`` grant nothing; in ``prohibits`` they are
  ignored (the parser already recorded a warning). A licence with a
  ``permits``/``prohibits`` of unknown ``type`` cannot be read safely and
  takes no part in the decision.

Among the offers that grant a usage the cheapest one is taken
(``offer_cost``), and its conditions become obligations.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from norms.model import Obligation, ObligationKind, Usage
from norms.rsl.elements import (
    Copyright,
    Legal,
    Payment,
    PaymentType,
    Reporting,
    RslContent,
    RslLicense,
    listed,
)


class Ruling(BaseModel):
    """Why ``Terms.permits`` answered as it did for one usage (and which offers grant it)."""

    model_config = ConfigDict(frozen=True)

    usage: Usage
    permitted: bool | None
    reason: str
    raw: str
    granting: tuple[RslLicense, ...] = ()


class Terms(BaseModel):
    """The effective terms of one RSL document for one URL: its narrowest matching scope.

    ``patterns`` are the ``<content url>`` values that matched (several only
    when equally narrow scopes tie; their licences are then read together).
    """

    model_config = ConfigDict(frozen=True)

    source_url: str | None = None
    patterns: tuple[str, ...]
    contents: tuple[RslContent, ...]

    _rulings: dict[tuple[Usage, str | None, str | None], Ruling] = PrivateAttr(default_factory=dict)

    @property
    def licenses(self) -> tuple[RslLicense, ...]:
        return tuple(lic for c in self.contents for lic in c.licenses)

    @property
    def servers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.server for c in self.contents if c.server))

    @property
    def server(self) -> str | None:
        """Licence server: a token from it is required before access (even if free)."""
        servers = self.servers
        return servers[0] if servers else None

    @property
    def encrypted(self) -> bool:
        return any(c.encrypted for c in self.contents)

    @property
    def element(self) -> str:
        return " ".join(c.element for c in self.contents)

    @property
    def copyright(self) -> Copyright | None:
        return next((c.copyright for c in self.contents if c.copyright), None)

    @property
    def terms_url(self) -> str | None:
        """Human-readable terms (``https://rslstandard.org/rsl/default-terms`` = RSL default terms)."""
        return next((c.terms for c in self.contents if c.terms), None)

    @property
    def standard(self) -> str | None:
        """The shared licence framework URI named by a payment (a CC licence, a collective...)."""
        return next(
            (lic.payment.standard for lic in self.licenses if lic.payment and lic.payment.standard),
            None,
        )

    @property
    def payment(self) -> Payment | None:
        """The payment of the cheapest offer that has one; see ``payment_for`` per usage."""
        offers = sorted((lic for lic in self.licenses if lic.payment), key=offer_cost)
        return offers[0].payment if offers else None

    @property
    def reporting(self) -> tuple[Reporting, ...]:
        return tuple(dict.fromkeys(r for lic in self.licenses for r in lic.reporting))

    @property
    def legal(self) -> tuple[Legal, ...]:
        return tuple(dict.fromkeys(lg for lic in self.licenses for lg in lic.legal))

    def ruling(
        self, usage: Usage | str, *, user: str | None = None, geo: str | None = None
    ) -> Ruling:
        """Decide one usage and say why (see the module docstring for the rules). Memoised."""
        key = (Usage(usage), user, geo)
        hit = self._rulings.get(key)
        if hit is None:
            hit = self._rulings[key] = self._rule(*key)
        return hit

    def _rule(self, usage: Usage, user: str | None, geo: str | None) -> Ruling:
        readable = [lic for lic in self.licenses if not lic.unreadable]
        if not readable:
            return Ruling(
                usage=usage, permitted=None, reason="no readable licence in scope", raw=""
            )
        # The most specific level at which any licence in scope names the usage.
        levels = [
            level
            for lic in readable
            for level in (lic.prohibit_level(usage), lic.permit_level(usage))
            if level is not None
        ]
        if levels:
            top = max(levels)
            prohibitors = [lic for lic in readable if lic.prohibit_level(usage) == top]
            if prohibitors:
                return Ruling(
                    usage=usage,
                    permitted=False,
                    reason=f"{usage.value} is prohibited by the licence",
                    raw=prohibitors[0].raw_prohibits.get("usage", ""),
                )
        for rule_type, value in (("user", user), ("geo", geo)):
            if value is None:
                continue
            banned = [
                lic
                for lic in readable
                if listed(rule_type, value, lic.prohibits.get(rule_type, ()))
            ]
            if banned:
                return Ruling(
                    usage=usage,
                    permitted=False,
                    reason=f"{rule_type} {value} is prohibited by the licence",
                    raw=banned[0].raw_prohibits.get(rule_type, ""),
                )
        granting = tuple(
            lic
            for lic in readable
            if lic.permit_level(usage) is not None
            and lic.prohibit_level(usage) is None
            and lic.admits("user", user)
            and lic.admits("geo", geo)
        )
        if granting:
            return Ruling(
                usage=usage,
                permitted=True,
                reason=f"{usage.value} is permitted by the licence",
                raw=granting[0].raw(),
                granting=granting,
            )
        if any(lic.permit_level(usage) is not None for lic in readable):
            reason = (
                f"{usage.value} is licensed only to some users or countries, "
                f"and user={user or 'unknown'} geo={geo or 'unknown'} is not among them"
            )
        else:
            reason = f"{usage.value} is not in the licence's closed permits list"
        return Ruling(
            usage=usage,
            permitted=False,
            reason=reason,
            raw="; ".join(lic.raw() for lic in readable),
        )

    def permits(
        self, usage: Usage | str, *, user: str | None = None, geo: str | None = None
    ) -> bool | None:
        """True permitted, False prohibited / not in a closed permits list, None = terms silent."""
        return self.ruling(usage, user=user, geo=geo).permitted

    def best_offer(
        self, usage: Usage | str, *, user: str | None = None, geo: str | None = None
    ) -> RslLicense | None:
        """The cheapest licence that grants ``usage`` (free before attribution before paid)."""
        granting = self.ruling(usage, user=user, geo=geo).granting
        return min(granting, key=offer_cost) if granting else None

    def payment_for(
        self, usage: Usage | str, *, user: str | None = None, geo: str | None = None
    ) -> Payment | None:
        offer = self.best_offer(usage, user=user, geo=geo)
        return offer.payment if offer else None

    def obligations(
        self, usage: Usage | str, *, user: str | None = None, geo: str | None = None
    ) -> list[Obligation]:
        """What the cheapest granting offer asks for; empty when the usage is not permitted."""
        offer = self.best_offer(usage, user=user, geo=geo)
        if offer is None:
            return []
        return offer_obligations(offer, self.servers, self.encrypted)


def offer_cost(lic: RslLicense) -> tuple[int, Decimal]:
    """Rank offers: no payment, attribution, contribution, priced (by amount), price unknown."""
    has_reporting = 1 if lic.reporting else 0
    pay = lic.payment
    if pay is None or pay.type == PaymentType.FREE:
        return (has_reporting, Decimal(0))
    if pay.type == PaymentType.ATTRIBUTION:
        return (2 + has_reporting, Decimal(0))
    if pay.type == PaymentType.CONTRIBUTION and not pay.amounts:
        return (4 + has_reporting, Decimal(0))
    if pay.amounts:
        return (6 + has_reporting, min(a.value for a in pay.amounts))
    return (8 + has_reporting, Decimal(0))


def payment_obligations(pay: Payment | None) -> list[Obligation]:
    """Attribution or payment owed under one offer."""
    if pay is None or pay.type == PaymentType.FREE:
        return []
    if pay.type == PaymentType.ATTRIBUTION:
        detail = "credit the publisher with a visible attribution and a link to the content"
        if pay.standard:
            detail += f" ({pay.standard})"
        return [
            Obligation(
                kind=ObligationKind.ATTRIBUTION, detail=detail, url=pay.custom or pay.standard
            )
        ]
    amount = min(pay.amounts, key=lambda a: a.value) if pay.amounts else None
    return [
        Obligation(
            kind=ObligationKind.PAYMENT,
            detail=f"{pay.type} payment" + (f" under {pay.standard}" if pay.standard else ""),
            url=pay.custom,
            amount=amount.value if amount else None,
            currency=amount.currency if amount else None,
        )
    ]


def offer_obligations(lic: RslLicense, servers: Sequence[str], encrypted: bool) -> list[Obligation]:
    """Every condition attached to one offer: token, payment/attribution, reporting, legal."""
    out: list[Obligation] = []
    for server in servers:
        detail = "present a licence token from the licence server"
        if encrypted:
            detail += "; the asset is encrypted (EMS): fetch its key from the server"
        out.append(Obligation(kind=ObligationKind.LICENSE_TOKEN, detail=detail, url=server))
    out.extend(payment_obligations(lic.payment))
    for rep in lic.reporting:
        out.append(
            Obligation(
                kind=ObligationKind.REPORTING,
                detail=f"{rep.type or 'report'} per profile {rep.profile or '(none)'}",
                url=rep.endpoint,
            )
        )
    for legal in lic.legal:
        out.append(
            Obligation(kind=ObligationKind.LEGAL, detail=f"{legal.type}: {' '.join(legal.values)}")
        )
    return out
