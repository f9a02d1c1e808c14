"""What an RSL document says, as typed values: contents, licences, payments.

``RslDocument.terms_for(url)`` picks the narrowest ``<content>`` scope that
matches a URL and returns ``Terms``; ``Terms.permits`` answers, per usage,
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
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from norms.lenient import scrub
from norms.model import Obligation, ObligationKind, Usage
from norms.problems import Finding
from norms.rsl.patterns import UrlPattern, collapsed, split_url
from norms.vocabulary import usages_for

RSL_NAMESPACE = "https://rslstandard.org/rsl"
DEFAULT_MAX_AGE_DAYS = 30

RULE_TYPES = ("usage", "user", "geo")
USER_CLASSES = frozenset({"commercial", "non-commercial", "education", "government", "personal"})
EU_MEMBERS = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    }
)  # fmt: skip
# Specificity of a usage token: how few usages it names (ai-train 1 > ai-all 3 > all 4).
_IMPLICIT = -100


class PaymentType(StrEnum):
    PURCHASE = "purchase"
    SUBSCRIPTION = "subscription"
    TRAINING = "training"
    CRAWL = "crawl"
    USE = "use"
    CONTRIBUTION = "contribution"
    ATTRIBUTION = "attribution"
    FREE = "free"


class Amount(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: Decimal
    currency: str


class Accepts(BaseModel):
    """A payment protocol the publisher accepts (``application/x402+json`` ...) and its payload."""

    model_config = ConfigDict(frozen=True)

    type: str
    payload: str = ""


class Payment(BaseModel):
    """``<payment>``: what using the content under one licence costs.

    ``type`` is kept as written when it is not an RSL 1.0 payment type (the
    parser records that as a non-conformity); such a payment is treated as
    one whose price we cannot know.
    """

    model_config = ConfigDict(frozen=True)

    type: str
    amounts: tuple[Amount, ...] = ()
    standard: str | None = None
    custom: str | None = None
    accepts: tuple[Accepts, ...] = ()

    @property
    def is_free(self) -> bool:
        """Nothing to pay: ``free``, or ``attribution`` (credit is owed, not money)."""
        return self.type in (PaymentType.FREE, PaymentType.ATTRIBUTION)

    @property
    def priced(self) -> bool:
        """Money is due and the document states how much."""
        return not self.is_free and bool(self.amounts)

    def describe(self) -> str:
        price = ", ".join(f"{a.currency} {a.value}" for a in self.amounts)
        parts = [self.type, price, self.standard or "", self.custom or ""]
        return " ".join(p for p in parts if p)


class Reporting(BaseModel):
    """``<reporting>``: usage the licensee must report (telemetry, provenance, audit)."""

    model_config = ConfigDict(frozen=True)

    type: str | None = None
    profile: str | None = None
    endpoint: str | None = None


class Legal(BaseModel):
    """``<legal type>``: warranties, disclaimers, attestation, contact, proof."""

    model_config = ConfigDict(frozen=True)

    type: str
    values: tuple[str, ...] = ()


class Copyright(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    type: str | None = None
    contact_email: str | None = None
    contact_url: str | None = None


class Alternate(BaseModel):
    """Another representation of the content (``text/markdown`` ...); it inherits the terms."""

    model_config = ConfigDict(frozen=True)

    url: str
    type: str | None = None


class RslLicense(BaseModel):
    """One ``<license>`` offer. ``permits``/``prohibits`` map a type to its known tokens.

    ``raw_permits``/``raw_prohibits`` keep the text as written for evidence;
    ``unreadable`` is set when a rule of unknown type makes the offer
    impossible to read safely.
    """

    model_config = ConfigDict(frozen=True)

    permits: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    prohibits: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    raw_permits: dict[str, str] = Field(default_factory=dict)
    raw_prohibits: dict[str, str] = Field(default_factory=dict)
    payment: Payment | None = None
    reporting: tuple[Reporting, ...] = ()
    legal: tuple[Legal, ...] = ()
    unreadable: bool = False
    index: int = 0

    def raw(self) -> str:
        """The rules as written, for evidence: ``permits usage: search; prohibits usage: ai-train``."""
        parts = [f"permits {t}: {v}" for t, v in self.raw_permits.items()]
        parts += [f"prohibits {t}: {v}" for t, v in self.raw_prohibits.items()]
        if self.payment is not None:
            parts.append(f"payment: {self.payment.describe()}")
        return "; ".join(parts) or "<license/>"

    def _mention(self, kind: dict[str, tuple[str, ...]], usage: Usage) -> int | None:
        """Specificity of the most specific token naming ``usage`` in ``kind``, or None."""
        best: int | None = None
        for token in kind.get("usage", ()):
            named = usages_for("rsl", token)
            if any(u is usage for u, _ in named):
                spec = -len(named)
                best = spec if best is None else max(best, spec)
        return best

    def permit_level(self, usage: Usage) -> int | None:
        """How specifically this licence permits ``usage`` (None: its closed list omits it)."""
        if "usage" not in self.permits:
            return _IMPLICIT
        return self._mention(self.permits, usage)

    def prohibit_level(self, usage: Usage) -> int | None:
        return self._mention(self.prohibits, usage)

    def admits(self, rule_type: str, value: str | None) -> bool:
        """Does this licence's ``user``/``geo`` restriction admit the caller's ``value``?"""
        permitted = self.permits.get(rule_type)
        prohibited = self.prohibits.get(rule_type)
        if permitted is None and prohibited is None:
            return True
        if value is None:
            return False
        if permitted is not None and not _listed(rule_type, value, permitted):
            return False
        return not (prohibited is not None and _listed(rule_type, value, prohibited))


def _listed(rule_type: str, value: str, tokens: Sequence[str]) -> bool:
    if rule_type == "geo":
        code = value.upper()
        return code in tokens or ("EU" in tokens and code in EU_MEMBERS)
    return value.lower() in tokens


class RslContent(BaseModel):
    """One ``<content>`` scope and the licences offered for it."""

    model_config = ConfigDict(frozen=True)

    url: str
    server: str | None = None
    encrypted: bool = False
    lastmod: str | None = None
    licenses: tuple[RslLicense, ...] = ()
    alternates: tuple[Alternate, ...] = ()
    schema_ref: str | None = None
    copyright: Copyright | None = None
    terms: str | None = None

    @property
    def element(self) -> str:
        """How evidence names this scope: ``<content url="/news/*">``."""
        server = f' server="{self.server}"' if self.server else ""
        return f'<content url="{self.url}"{server}>'


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
                if _listed(rule_type, value, lic.prohibits.get(rule_type, ()))
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


class _Matcher:
    __slots__ = ("content_index", "pattern")

    def __init__(self, content_index: int, pattern: UrlPattern) -> None:
        self.content_index = content_index
        self.pattern = pattern


def _narrowest(matchers: list[_Matcher], origin: str, path: str) -> list[int]:
    """Content indexes of the narrowest scopes matching ``path`` (matchers sorted narrowest first)."""
    best = -1
    chosen: list[int] = []
    for m in matchers:
        p = m.pattern
        if p.specificity < best:
            break
        if (p.origin and origin and p.origin != origin) or not p.match_path(path):  # p.matches(), inline
            continue
        best = p.specificity
        if m.content_index not in chosen:
            chosen.append(m.content_index)
    return chosen


class RslDocument(BaseModel):
    """A parsed RSL document.

    ``warnings`` note what we read leniently (0.9 comma lists, unknown
    tokens, ignored extensions). ``nonconformities`` list what makes the
    document non-conformant to RSL 1.0 (unknown RSL element or attribute,
    bad values): its terms are still extracted for reporting, but a crawler
    must treat content under a non-conformant document as unlicensed.
    ``legacy`` marks a 0.9-style document (comma-separated lists).
    """

    source_url: str | None = None
    max_age_days: int = DEFAULT_MAX_AGE_DAYS
    contents: list[RslContent] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    nonconformities: list[str] = Field(default_factory=list)
    legacy: bool = False
    findings: list[Finding] = Field(default_factory=list)  # warnings and non-conformities as data

    _matchers: list[_Matcher] = PrivateAttr(default_factory=list)
    _terms: dict[tuple[int, ...], Terms] = PrivateAttr(default_factory=dict)

    def model_post_init(self, __context: object) -> None:
        self._compile()

    def _compile(self) -> None:
        matchers: list[_Matcher] = []
        for i, content in enumerate(self.contents):
            matchers.append(_Matcher(i, UrlPattern(content.url)))
            for alt in content.alternates:
                matchers.append(_Matcher(i, UrlPattern(alt.url, exact=True)))
        # Narrowest first, so the scan can stop once a match is found and narrower ones are done.
        matchers.sort(key=lambda m: -m.pattern.specificity)
        self._matchers = matchers
        self._terms = {}

    @property
    def conformant(self) -> bool:
        return not self.nonconformities

    def terms_for(self, url: str) -> Terms | None:
        """Effective terms for ``url`` (narrowest matching scope); None = the document says nothing about it."""
        origin, path = split_url(url if url.isascii() else scrub(url))  # ASCII holds no lone surrogate
        # Private attributes read through pydantic's __getattr__ are slow; this runs per page.
        private = self.__pydantic_private__ or {}
        matchers: list[_Matcher] = private["_matchers"]
        chosen = _narrowest(matchers, origin, path)
        other = collapsed(path) if "//" in path else None
        if other is not None:
            # Empty segments: the scopes of both readings apply (norms.urls).
            chosen += [i for i in _narrowest(matchers, origin, other) if i not in chosen]
        if not chosen:
            return None
        cache: dict[tuple[int, ...], Terms] = private["_terms"]
        key = tuple(sorted(chosen))
        terms = cache.get(key)
        if terms is None:
            contents = tuple(self.contents[i] for i in key)
            terms = Terms(
                source_url=self.source_url,
                patterns=tuple(c.url for c in contents),
                contents=contents,
            )
            cache[key] = terms
        return terms
