"""The live progress line of ``fairfetch crawl``: rate, elapsed time, queue, refusals and errors so far.

Read from the session's tallies and Scrapy's engine (its scheduler queue and
the requests in flight) on the reactor thread, four times a second; nothing
here touches the ledger. What was paid comes from the crawl's wallet
(``crawler.payment``). ``hosts`` > 0 adds the busiest hosts, each with its
pages, refusals and errors, from ``Summary.per_host``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.session import CrawlSession


def queue_size(crawler: Any) -> int | None:
    """Requests waiting in the scheduler plus those in flight; None before the engine runs."""
    slot = getattr(getattr(crawler, "engine", None), "_slot", None)
    if slot is None:
        return None
    try:
        return len(slot.scheduler) + len(slot.inprogress)
    except TypeError:  # a scheduler without __len__
        return len(slot.inprogress)


def elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_text(session: CrawlSession, crawler: Any = None, *, hosts: int = 0) -> str:
    s = session.summary
    seconds = max(time.monotonic() - s.started, 1e-9)
    answered = s.fetched + s.not_modified
    queue = queue_size(crawler)
    line = (
        f"{elapsed(seconds)}  {answered / seconds:.1f} pages/s  queue {'?' if queue is None else queue}  "
        f"fetched {s.fetched}  stored {s.stored}  metadata-only {s.metadata_only}  "
        f"not-modified {s.not_modified}  refused {sum(s.refused.values())}  "
        f"errors {sum(s.errors.values())}  revoked {s.revoked}"
    )
    spent = getattr(getattr(session, "wallet", None), "spent", None)
    if spent:
        line += "  paid " + ", ".join(f"{c} {a}" for c, a in sorted(spent.items()) if a)
    if hosts <= 0 or not s.per_host:
        return line
    busiest = sorted(s.per_host.items(), key=lambda item: (-sum(item[1].values()), item[0]))[:hosts]
    rows = [
        f"  {host}: pages {c['pages']}  refused {c['refused']}  errors {c['errors']}"
        for host, c in busiest
    ]
    return "\n".join([line, *rows])
