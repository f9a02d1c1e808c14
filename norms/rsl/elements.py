"""The typed values of an RSL document's elements: scopes, licence offers, payments.

Each ``<content>``, ``<license>``, ``<payment>``... becomes a frozen value
(``norms.rsl.reader`` builds them; nothing here reads XML). A licence offer
knows how specifically it permits or prohibits a usage and whether its
``user``/``geo`` restrictions admit a caller: the per-offer half of the
rules, which ``norms.rsl.terms`` combines across the offers of a scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from norms.model import Usage
from norms.vocabulary import usages_for

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
        if permitted is not None and not listed(rule_type, value, permitted):
            return False
        return not (prohibited is not None and listed(rule_type, value, prohibited))


def listed(rule_type: str, value: str, tokens: Sequence[str]) -> bool:
    """Does a ``user``/``geo`` token list name ``value`` (``EU`` names every member state)?"""
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

