"""Stopping a crawl promptly: requests waiting for their origin's turn are not sent.

Scrapy's graceful close still sends every request already handed to the
downloader, each after its origin's delay: with a Crawl-delay that is minutes
of fetching after the operator (Ctrl-C) or the crawl itself (a worker that
lost Redis) said stop. :func:`drop_unsent` cancels them, unrecorded: the next
run fetches them, and a scaled-out worker hands them back to the frontier.
"""

from __future__ import annotations

from typing import Any

NOT_SENT = "not sent: the crawl is stopping"


def drop_unsent(crawler: Any) -> int:
    """Cancel the requests queued in the downloader's slots of ``crawler``; how many there were."""
    from scrapy.exceptions import IgnoreRequest
    from twisted.python.failure import Failure

    from crawler.request_meta import RECORDED_META
    from crawler.session import current_session

    engine = getattr(crawler, "engine", None)
    if engine is None:
        return 0
    dropped = 0
    for slot in list(engine.downloader.slots.values()):
        while slot.queue:
            request, waiting = slot.queue.popleft()
            request.meta[RECORDED_META] = True
            waiting.errback(Failure(IgnoreRequest(NOT_SENT)))
            dropped += 1
    session = current_session(crawler)
    if session is not None:
        session.summary.not_sent += dropped
    return dropped


def drop_unsent_soon(crawler: Any) -> None:
    """:func:`drop_unsent` now and again shortly, once the engine has stopped pulling from the frontier."""
    from twisted.internet import reactor as twisted_reactor

    reactor: Any = twisted_reactor
    for delay in (0.0, 0.2, 1.0):
        reactor.callLater(delay, drop_unsent, crawler)
