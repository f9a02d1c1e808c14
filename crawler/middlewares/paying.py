"""Pay Per Crawl on the wire (``crawler.payment``): price headers on requests, 402s and charges on responses.

Each attempt carries at most one price header: the exact quote on the one
retry of a 402 the wallet accepted, or the ceiling up front where the origin
has charged before. A 402 is paid only within the ceiling and budget and
never twice; a ``crawler-charged`` answer is counted against the budget and
appended to the ledger's spend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.ledger.records import utc_now
from crawler.middlewares.fetch_log import log_fetch, refuse
from crawler.payment import OFFER_META, explain_crawler_error

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

    from crawler.session import CrawlSession

PAID_META = "fairfetch_paid_attempt"  # the quoted price this HTTP 402 retry offers exactly
PRICE_HEADERS = ("crawler-max-price", "crawler-exact-price")


def offer_price(session: CrawlSession, request: Request, origin: str) -> None:
    """Set this attempt's price header: the quote on a 402 retry, the ceiling where the origin charges.

    A retry or redirect copy of an earlier attempt arrives with that
    attempt's header and reservation: both are dropped first.
    """
    from norms.access import format_price

    wallet = session.wallet
    wallet.release(request.meta.pop(OFFER_META, None))
    for name in PRICE_HEADERS:
        request.headers.pop(name, None)
    quote = request.meta.get(PAID_META)
    if isinstance(quote, tuple):  # reserved when the 402 was read
        request.headers["crawler-exact-price"] = format_price(quote)
        request.meta[OFFER_META] = quote[0]
        return
    offer = wallet.proactive_offer(origin)
    if offer is not None:
        request.headers["crawler-max-price"] = format_price(offer)
        request.meta[OFFER_META] = offer[0]


def payment_required(session: CrawlSession, request: Request, response: Response) -> Request:
    """HTTP 402: re-request once with the exact quote if we may pay it, else refuse; never store unpaid."""
    from norms.access import parse_price

    raw = (response.headers.get(b"crawler-price") or b"").decode("latin-1").strip()
    price = parse_price(raw) if raw else None
    errors = [c.decode("latin-1") for c in response.headers.getlist(b"crawler-error")]
    said = "".join(f"; {explain_crawler_error(c)}" for c in errors)
    if request.meta.get(PAID_META):
        refuse(session, request, f"HTTP 402 even with crawler-exact-price {raw or '(no quote)'}{said}",
               "payment", 402)
    if price is None:
        refuse(session, request, f"HTTP 402 with no usable crawler-price ({raw or 'none'}){said}", "payment", 402)
    why = session.wallet.refusal(*price)
    if why is not None:
        kind, reason = why
        refuse(session, request, f"HTTP 402 ({raw}): {reason}", kind, 402)
    session.wallet.reserve(price)
    log_fetch(session, request, "fetched",
              f"HTTP 402 payment required ({raw}): re-requested with crawler-exact-price", 402)
    return request.replace(dont_filter=True, meta={**request.meta, PAID_META: price})


def settle(session: CrawlSession, request: Request, response: Response) -> None:
    """Any other answer: a payment error (``crawler-error``) refuses the page, a charge is recorded."""
    status = response.status
    crawler_errors = response.headers.getlist(b"crawler-error")
    if crawler_errors and not 200 <= status < 300:
        codes = [c.decode("latin-1") for c in crawler_errors]
        refuse(session, request, f"HTTP {status} " + "; ".join(explain_crawler_error(c) for c in codes),
               "payment", status)
    if 200 <= status < 300 and response.headers.get(b"crawler-charged"):
        record_charge(session, request, response)


def record_charge(session: CrawlSession, request: Request, response: Response) -> None:
    """A 2xx carrying ``crawler-charged``: count it against the budget and append it to the ledger."""
    from crawler.ledger.spend import record_payment
    from crawler.origin_cache import origin_of
    from norms.access import parse_price

    raw = (response.headers.get(b"crawler-charged") or b"").decode("latin-1").strip()
    price = parse_price(raw)
    if price is None:
        return  # unreadable: norms.access records it as evidence on the page
    origin = origin_of(request.url)
    session.wallet.charged(origin, price)
    record_payment(session.ledger, crawl_id=session.crawl_id, url=request.url, at=utc_now(),
                   amount=price[0], currency=price[1], kind="pay-per-crawl",
                   detail=f"crawler-charged: {raw}")
