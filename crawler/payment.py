"""Pay Per Crawl as the service specifies it: signed price headers, one retry, a budget.

Cloudflare's Pay Per Crawl accepts a price header only when a verified Web Bot
Auth signature covers it (an unsigned one gets 400 ``StrongAuthRequired``), so
without a signing key nothing is offered and a 402 is refused with that reason.
With a key and a ceiling (``--max-price``):

* **reactive**: a 402 quoting ``crawler-price`` within the ceiling is
  re-requested once with ``crawler-exact-price`` equal to the quote;
* **proactive**: once an origin has shown that it charges, its later page
  requests carry ``crawler-max-price`` (the ceiling) up front and save the 402
  round trip. Origins that never charged are sent no price at all: an offer is
  a promise to pay, made only where payment is expected.

The two headers are never sent together. ``--budget`` caps what the whole crawl
(this process) may spend: a price that would pass it is not offered, and the
page is refused with reason ``budget``. Offers reserve their worst case until
answered, so concurrent requests cannot overshoot the budget together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from norms.access import Price, format_price

# Cloudflare's documented ``crawler-error`` codes, in words an operator can act on.
CRAWLER_ERRORS = {
    "CrawlerForbidden": "the publisher does not admit this crawler at any price",
    "StrongAuthRequired": "the price header must be covered by a verified Web Bot Auth signature",
    "InvalidSignature": "the publisher could not verify our Web Bot Auth signature",
    "InvalidCrawlerPriceValue": "the price header was not understood",
    "MissingCrawlerPrice": "the publisher expects a price header",
    "PaymentFailed": "the payment could not be completed",
    "InvalidCrawlerExactPrice": "crawler-exact-price did not equal the current price",
    "InvalidCrawlerMaxPrice": "the current price is above our crawler-max-price",
    "ConflictingPriceHeaders": "both crawler-exact-price and crawler-max-price were sent",
    "InvalidContentPrice": "the publisher's price configuration is broken",
}
NEEDS_SIGNING_KEY = "payment needs a signing key (--signing-key): Pay Per Crawl only accepts a signed price"
OFFER_META = "fairfetch_price_offer"  # the amount this request promises at most (reserved in the wallet)


def explain_crawler_error(code: str) -> str:
    meaning = CRAWLER_ERRORS.get(code.strip())
    return f"crawler-error {code.strip()}" + (f": {meaning}" if meaning else " (undocumented code)")


@dataclass
class Wallet:
    """What this crawl may pay and has paid. ``ceiling``/``budget`` are (amount, currency) or None."""

    ceiling: Price | None
    budget: Price | None
    signing: bool
    spent: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    spent_by_origin: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    reserved: Decimal = Decimal(0)
    charging: set[str] = field(default_factory=set)

    def refusal(self, amount: Decimal, currency: str) -> tuple[str, str] | None:
        """Why ``amount`` cannot be paid now, as (summary kind, reason), or None if it can."""
        if self.ceiling is None:
            return "payment", "HTTP 402 payment required and no price ceiling (--max-price) set"
        if not self.signing:
            return "payment", NEEDS_SIGNING_KEY
        ceiling, ceiling_currency = self.ceiling
        if currency.upper() != ceiling_currency.upper() or amount > ceiling:
            return "payment", f"price {format_price((amount, currency))} above the ceiling {format_price(self.ceiling)}"
        if self.budget is not None:
            limit, _ = self.budget
            committed = self.spent[currency.upper()] + self.reserved
            if committed + amount > limit:
                return "budget", (f"paying {format_price((amount, currency))} would pass the crawl's budget "
                                  f"{format_price(self.budget)} ({format_price((committed, currency))} spent or promised)")
        return None

    def proactive_offer(self, origin: str) -> Price | None:
        """The ``crawler-max-price`` to send up front to ``origin`` (it has charged before), reserving it."""
        if origin not in self.charging or self.ceiling is None:
            return None
        if self.refusal(*self.ceiling) is not None:
            return None
        self.reserved += self.ceiling[0]
        return self.ceiling

    def reserve(self, price: Price) -> None:
        self.reserved += price[0]

    def release(self, offered: Decimal | None) -> None:
        if offered:
            self.reserved = max(Decimal(0), self.reserved - offered)

    def charged(self, origin: str, price: Price) -> None:
        amount, currency = price
        self.spent[currency.upper()] += amount
        self.spent_by_origin[origin] += amount
        self.charging.add(origin)

    def as_dict(self) -> dict[str, object]:
        return {
            "spent": {c: format(a, "f") for c, a in self.spent.items() if a},
            "spent_by_origin": {o: format(a, "f") for o, a in sorted(self.spent_by_origin.items()) if a},
        }
