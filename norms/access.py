"""What the HTTP response itself says about access: status gates and Cloudflare Pay Per Crawl.

A 401, 403 or 451 on the *content* URL closes the door for every usage (the
inverse of robots.txt, where 401/403 means "no rules"). A 402 is a price tag:
if the operator's ceiling covers the quoted ``crawler-price`` the caller may
re-request with ``pay_per_crawl_headers``; otherwise it is a gate. A 200 that
carries ``crawler-charged`` was paid for, which the ledger must record.

A redirect to a login page is a login wall. It is not a gate (a subscription
or licence may cover the content) but it denies the AI usages as a derived,
preference-level reading - the content is not free to use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import urljoin, urlsplit

from norms.http import HeadersLike, header_lines, header_values
from norms.model import (
    AI_USAGES,
    Effect,
    Evidence,
    Gate,
    Grants,
    Obligation,
    ObligationKind,
    Signal,
    Statement,
)

Price = tuple[Decimal, str]

_PRICE = re.compile(r"^\s*([A-Za-z]{3})\s+(\d{1,12}(?:\.\d{1,12})?)\s*$")
_STATUS_NAMES = {
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    451: "Unavailable For Legal Reasons",
}
_LOGIN_PATH = re.compile(
    r"(^|/)(login|log-in|signin|sign-in|sign_in|account/login|accounts/login|auth|oauth2?|sso|subscribe|register)"
    r"(/|$|\.|\?)",
    re.I,
)


def parse_price(value: str) -> Price | None:
    """``"USD 0.01"`` -> ``(Decimal("0.01"), "USD")``; anything else (negative, no currency, junk) -> ``None``."""
    m = _PRICE.match(value or "")
    if not m:
        return None
    try:
        amount = Decimal(m.group(2))
    except InvalidOperation:  # pragma: no cover - the pattern only admits plain decimals
        return None
    return amount, m.group(1).upper()


def format_price(price: Price) -> str:
    """The header form of a price: ``USD 0.05``."""
    amount, currency = price
    return f"{currency.upper()} {format(amount, 'f')}"


def pay_per_crawl_headers(price: Price | None, grants: Grants) -> dict[str, str]:
    """Request headers that offer to pay, within the operator's ceiling.

    ``{"crawler-max-price": "USD 0.05"}`` when the operator has a ceiling, else
    ``{}``. We always offer the ceiling rather than the exact quote so that a
    small price change does not cost a round trip; when a quoted ``price`` is
    already known to be above the ceiling (or in another currency) there is
    nothing to offer and the result is ``{}``.
    """
    if grants.max_price is None or grants.max_price <= 0:
        return {}
    if price is not None and not grants.accepts_price(*price):
        return {}
    return {"crawler-max-price": format_price((grants.max_price, grants.currency))}


@dataclass(slots=True)
class AccessResult:
    """Gates, usage statements and obligations that one response implies.

    ``price`` is the quoted ``crawler-price``; ``charged`` the ``crawler-charged``
    amount actually billed. ``evidence`` lists every access signal seen,
    including ``crawler-error`` codes.
    """

    gates: list[Gate] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    obligations: list[Obligation] = field(default_factory=list)
    price: Price | None = None
    charged: Price | None = None
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def may_retry_with_payment(self) -> bool:
        """A 402 whose quoted price the operator accepts: re-request with ``pay_per_crawl_headers``."""
        return self.price is not None and not self.gates and any(
            o.kind is ObligationKind.PAYMENT for o in self.obligations
        )


def _auth_schemes(values: list[str]) -> list[str]:
    schemes = []
    for v in values:
        head = v.strip().split(None, 1)[0] if v.strip() else ""
        if head:
            schemes.append(head.rstrip(",").lower())
    return schemes


def access_from_response(status: int | None, headers: HeadersLike, *, url: str, grants: Grants) -> AccessResult:
    """Read the access outcome of a response to ``url``. ``status=None``: no response yet."""
    lines = header_lines(headers)
    result = AccessResult()
    errors = header_values(lines, "crawler-error")
    error_note = f" (crawler-error: {', '.join(errors)})" if errors else ""
    for err in errors:
        result.evidence.append(
            Evidence(
                signal=Signal.PAY_PER_CRAWL,
                source=url,
                element="header crawler-error",
                raw=err,
                rule="Pay Per Crawl error code, recorded",
            )
        )
    quoted = [p for p in (parse_price(v) for v in header_values(lines, "crawler-price")) if p is not None]
    result.price = quoted[0] if quoted else None
    charged = [p for p in (parse_price(v) for v in header_values(lines, "crawler-charged")) if p is not None]
    result.charged = charged[0] if charged else None
    raw_charged = header_values(lines, "crawler-charged")
    if raw_charged and result.charged is None:
        result.evidence.append(
            Evidence(
                signal=Signal.PAY_PER_CRAWL,
                source=url,
                element="header crawler-charged",
                raw=raw_charged[0],
                rule="crawler-charged is not '<currency> <amount>': recorded, amount unknown",
            )
        )
    if status is None:
        return result

    schemes = _auth_schemes(header_values(lines, "www-authenticate"))
    wants_license = "license" in schemes
    status_ev = Evidence(
        signal=Signal.HTTP_STATUS,
        source=url,
        element="status",
        raw=str(status),
        rule=f"HTTP {status} {_STATUS_NAMES.get(status, '')}".rstrip() + " on the content URL",
    )

    if status in (401, 403, 451):
        reason = f"HTTP {status} {_STATUS_NAMES[status]}"
        if wants_license:
            reason += ": an RSL licence token is needed (WWW-Authenticate: License)"
        elif status == 401 and schemes:
            reason += f": credentials required ({', '.join(schemes)}); fairfetch never logs in"
        result.gates.append(Gate(reason=reason + error_note, evidence=status_ev))
    elif status == 402:
        _read_402(result, lines, url, grants, wants_license, error_note, status_ev)
    elif 300 <= status < 400:
        _read_redirect(result, lines, url, status)

    if result.charged is not None and 200 <= status < 300:
        amount, currency = result.charged
        ev = Evidence(
            signal=Signal.PAY_PER_CRAWL,
            source=url,
            element="header crawler-charged",
            raw=format_price(result.charged),
            rule="Pay Per Crawl: this response was billed",
        )
        result.evidence.append(ev)
        result.obligations.append(
            Obligation(
                kind=ObligationKind.PAYMENT,
                amount=amount,
                currency=currency,
                url=url,
                detail="charged by Pay Per Crawl for this request (Cloudflare is merchant of record)",
            )
        )
    return result


def _read_402(
    result: AccessResult,
    lines: tuple[tuple[str, str], ...],
    url: str,
    grants: Grants,
    wants_license: bool,
    error_note: str,
    status_ev: Evidence,
) -> None:
    price = result.price
    if wants_license and price is None:
        result.gates.append(
            Gate(
                reason="HTTP 402 Payment Required: an RSL licence is needed (WWW-Authenticate: License)"
                + error_note,
                evidence=status_ev,
            )
        )
        return
    if price is None:
        raw = header_values(lines, "crawler-price")
        detail = f"unreadable crawler-price {raw[0]!r}" if raw else "no crawler-price quoted"
        result.gates.append(
            Gate(reason=f"HTTP 402 Payment Required: {detail}{error_note}", evidence=status_ev)
        )
        return
    amount, currency = price
    ev = Evidence(
        signal=Signal.PAY_PER_CRAWL,
        source=url,
        element="header crawler-price",
        raw=format_price(price),
        rule="Pay Per Crawl price quoted with HTTP 402",
    )
    result.evidence.append(ev)
    if grants.accepts_price(amount, currency):
        result.obligations.append(
            Obligation(
                kind=ObligationKind.PAYMENT,
                amount=amount,
                currency=currency,
                url=url,
                detail="Pay Per Crawl: re-request with the crawler-max-price header to pay",
            )
        )
        return
    if grants.max_price is None:
        why = "the operator has set no price ceiling"
    elif currency != grants.currency.upper():
        why = f"the operator pays in {grants.currency.upper()}, not {currency}"
    else:
        why = f"above the operator's ceiling of {format_price((grants.max_price, grants.currency))}"
    result.gates.append(
        Gate(
            reason=f"HTTP 402 Payment Required: price {format_price(price)}, {why}{error_note}",
            evidence=ev,
        )
    )


def _read_redirect(result: AccessResult, lines: tuple[tuple[str, str], ...], url: str, status: int) -> None:
    locations = header_values(lines, "location")
    if not locations:
        return
    try:
        target = urljoin(url, locations[0])
        path = urlsplit(target).path
    except ValueError:
        return
    if not _LOGIN_PATH.search(path):
        return
    ev = Evidence(
        signal=Signal.HTTP_STATUS,
        source=url,
        element="header Location",
        raw=locations[0],
        rule=f"HTTP {status} redirect to a login page: a login wall (heuristic)",
    )
    result.evidence.append(ev)
    result.statements.extend(Statement(usage=u, effect=Effect.DENY, evidence=ev, derived=True) for u in AI_USAGES)
