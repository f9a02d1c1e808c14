"""Pay Per Crawl for the MCP server, as the crawler's ``EnforceMiddleware`` pays (``crawler.payment``).

Only with a Web Bot Auth key (an unsigned price is refused by the service):
a 402 quote within ``--max-price`` is re-requested once with
``crawler-exact-price``; an origin that has charged is offered the ceiling up
front (``crawler-max-price``); nothing passes ``--budget``; every offer is
reserved in the wallet until answered, and every charge is a ledger payment.
"""

from __future__ import annotations

from decimal import Decimal

import anyio

from crawler.ledger.records import utc_now
from crawler.mcp.config import Initiated
from crawler.mcp.fetcher import Answer
from crawler.mcp.recorder import Recorder
from crawler.payment import Wallet, explain_crawler_error
from norms.access import Price, format_price


class Payer:
    def __init__(self, wallet: Wallet, recorder: Recorder) -> None:
        self.wallet = wallet
        self.recorder = recorder

    def offer(self, headers: dict[str, str], origin: str, quote: Price | None) -> Decimal | None:
        """The quote on a 402 retry, else the ceiling where the origin has charged before; what is reserved."""
        if quote is not None:  # reserved when the 402 was read
            headers["crawler-exact-price"] = format_price(quote)
            return quote[0]
        offer = self.wallet.proactive_offer(origin)
        if offer is not None:
            headers["crawler-max-price"] = format_price(offer)
            return offer[0]
        return None

    def payment_required(self, answer: Answer, quote: Price | None) -> tuple[str | None, Price | None]:
        """HTTP 402: (why not to pay, None), or (None, the quote to re-request with once, reserved)."""
        from norms.access import parse_price

        raw = (answer.header("crawler-price") or "").strip()
        price = parse_price(raw) if raw else None
        said = "".join(f"; {explain_crawler_error(v)}" for k, v in answer.headers if k == "crawler-error")
        if quote is not None:
            return f"HTTP 402 even with crawler-exact-price {raw or '(no quote)'}{said}", None
        if price is None:
            return f"HTTP 402 with no usable crawler-price ({raw or 'none'}){said}", None
        why = self.wallet.refusal(*price)
        if why is not None:
            return f"HTTP 402 ({raw}): {why[1]}", None
        self.wallet.reserve(price)
        return None, price

    async def charged(self, initiated: Initiated, url: str, origin: str, raw: str) -> None:
        from crawler.ledger.spend import record_payment
        from norms.access import parse_price

        price = parse_price(raw.strip())
        if price is None:
            return  # unreadable: norms.access records it as evidence on the page
        self.wallet.charged(origin, price)
        crawl_id = await anyio.to_thread.run_sync(self.recorder.crawl_id, initiated)
        await anyio.to_thread.run_sync(lambda: record_payment(
            self.recorder.ledger, crawl_id=crawl_id, url=url, at=utc_now(), amount=price[0], currency=price[1],
            kind="pay-per-crawl", detail=f"crawler-charged: {raw.strip()}"))
