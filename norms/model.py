"""The shared vocabulary of the norms engine.

Every parser in ``norms`` speaks this language: a signal found somewhere
(``Evidence``) says something about one usage (``Statement``), possibly with
strings attached (``Obligation``), or closes the door on the request itself
(``Gate``). ``norms.evaluate`` combines them into a ``Verdict``.

Kept free of I/O and of any parser so that every module can import it.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class SignalError(ValueError):
    """A signal document could not be read. The message says why, in plain words.

    ``code`` and ``line``, when the reader knows them, say the same as data
    (the compliance checker's problem code and the line at fault).
    """

    def __init__(self, message: str, *, code: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.line = line


class Usage(StrEnum):
    """What content is used for. Every standard's vocabulary maps onto these four."""

    SEARCH = "search"
    AI_INDEX = "ai-index"
    AI_INPUT = "ai-input"
    AI_TRAIN = "ai-train"


ALL_USAGES: tuple[Usage, ...] = tuple(Usage)
AI_USAGES: tuple[Usage, ...] = (Usage.AI_INDEX, Usage.AI_INPUT, Usage.AI_TRAIN)


class Effect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class Signal(StrEnum):
    """Which standard or channel a piece of evidence comes from."""

    ROBOTS = "robots.txt"
    RSL = "rsl"
    CONTENT_SIGNAL = "content-signal"
    CONTENT_USAGE = "content-usage"
    TDMREP = "tdmrep"
    X_ROBOTS_TAG = "x-robots-tag"
    META_ROBOTS = "meta-robots"
    PAYWALL = "paywall"
    HTTP_STATUS = "http-status"
    PAY_PER_CRAWL = "pay-per-crawl"
    GRANT = "grant"
    DEFAULT = "default"


class Evidence(BaseModel):
    """Where a signal was found and what it said, verbatim.

    ``source`` is the URL of the document (robots.txt, RSL file, page) the
    signal came from; ``line`` (1-based) or ``element`` pin it down inside it;
    ``raw`` is the value as the publisher wrote it; ``rule`` names the rule of
    ours that turned it into an effect.
    """

    model_config = ConfigDict(frozen=True)

    signal: Signal
    source: str
    raw: str
    rule: str
    line: int | None = None
    element: str | None = None

    def where(self) -> str:
        """Human-readable location, e.g. ``https://a.example/robots.txt line 4``."""
        if self.line is not None:
            return f"{self.source} line {self.line}"
        if self.element:
            return f"{self.source} {self.element}"
        return self.source


class ObligationKind(StrEnum):
    ATTRIBUTION = "attribution"
    PAYMENT = "payment"
    LICENSE_TOKEN = "license-token"
    SNIPPET_LIMIT = "snippet-limit"
    EXCLUDE_PARTS = "exclude-parts"
    REPORTING = "reporting"
    CREDIT = "credit"
    LEGAL = "legal"


class Obligation(BaseModel):
    """A condition attached to an allowed usage (pay, attribute, limit snippets, ...)."""

    model_config = ConfigDict(frozen=True)

    kind: ObligationKind
    detail: str = ""
    url: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    limit: int | None = None
    selectors: tuple[str, ...] = ()


class Statement(BaseModel):
    """One signal's say on one usage of one URL.

    ``derived`` marks conservative inferences (e.g. ``noai`` read as denying
    ``ai-input`` too) as opposed to what the standard states directly.
    ``preference`` marks signals that an explicit grant (a licence or contract
    the operator holds) may override; prohibitions inside a licence are not
    preferences.
    """

    model_config = ConfigDict(frozen=True)

    usage: Usage
    effect: Effect
    evidence: Evidence
    obligations: tuple[Obligation, ...] = ()
    derived: bool = False
    preference: bool = True


class Gate(BaseModel):
    """An access gate: the URL must not be requested (or its response used) at all.

    Robots.txt Disallow, robots.txt unreachable, HTTP 401/403/451, 402 without
    payment, an RSL ``server`` without a licence token. A gate is final for
    every usage and no licence overrides it.
    """

    model_config = ConfigDict(frozen=True)

    reason: str
    evidence: Evidence


class Grants(BaseModel):
    """What the crawler operator holds or has agreed to.

    ``license_tokens`` maps an RSL licence server URL to a token obtained from
    it. ``max_price`` is the most the operator agrees to pay per request or
    per use (in ``currency``); ``None`` means nothing is ever paid.
    ``licensed`` maps a host (``news.example``) to usages covered by an
    out-of-band contract. ``cc_signals`` lists Creative Commons signals whose
    conditions the operator commits to (``cc-cr`` ...).
    ``license_credentials`` names the licence servers the operator holds OLP
    client credentials for (the secrets stay in the crawler): a token can be
    obtained from them. ``accepted_licenses`` are licence document URLs the
    operator has read and agreed to (``--accept-license``), whatever they cost.
    """

    license_tokens: dict[str, str] = Field(default_factory=dict)
    license_credentials: frozenset[str] = frozenset()
    accepted_licenses: frozenset[str] = frozenset()
    max_price: Decimal | None = None
    currency: str = "USD"
    licensed: dict[str, list[Usage]] = Field(default_factory=dict)
    cc_signals: list[str] = Field(default_factory=list)

    @field_validator("license_credentials", mode="after")
    @classmethod
    def _server_urls(cls, servers: frozenset[str]) -> frozenset[str]:
        # "https://lic.example/" and "https://lic.example" name one licence server
        return frozenset(s.rstrip("/") for s in servers)

    def covers(self, host: str, usage: Usage) -> bool:
        return usage in self.licensed.get(host.lower(), ())

    def accepts_price(self, amount: Decimal | None, currency: str | None) -> bool:
        """True if paying ``amount`` is within the operator's ceiling."""
        if amount is None or amount == 0:
            return True
        if self.max_price is None:
            return False
        if currency and currency.upper() != self.currency.upper():
            return False
        return amount <= self.max_price


class LicenseRef(BaseModel):
    """A pointer to an RSL licence found at one discovery point.

    ``via``: ``robots`` (a ``License:`` line), ``link-header`` (HTTP ``Link``),
    ``html-link`` (``<link rel=license type=application/rsl+xml>``),
    ``html-inline`` (``<script type=application/rsl+xml>``; ``inline`` holds the
    XML), ``rss`` (an ``rsl:content`` element in a feed item).
    ``scope``: ``group`` (robots line inside the group selected for our
    token), ``global`` (robots line outside any group), ``page`` (attached to
    one response or document).
    """

    model_config = ConfigDict(frozen=True)

    url: str
    via: str
    scope: str
    line: int | None = None
    element: str | None = None
    inline: str | None = None
