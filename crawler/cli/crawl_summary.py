"""What ``fairfetch crawl`` reports when the crawl ends: one summary, as a table or as JSON.

The summary gathers the session's counts (pages, refusals by reason,
errors, drops, payments), the extraction pool's and Scrapy's figures, so
that one JSON object on stdout says how a run went; the table shows the
same figures to a person and points at ``fairfetch ledger show`` for one
page's evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.cli.output import console, print_table

if TYPE_CHECKING:
    from crawler.session import CrawlSession


def summary_dict(session: CrawlSession, crawler: Any, seconds: float) -> dict[str, Any]:
    """The run's figures as one JSON-ready dict (``--json`` prints it as is)."""
    from crawler.extract_pool import pool_for

    data = session.summary.as_dict()
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    pool = pool_for(crawler)
    # Page-reading processes (0: on the reactor); restarts: times one died and its pages were resubmitted.
    data["extract_processes"] = pool.processes if pool is not None else 0
    data["extract_pool_restarts"] = pool.restarts if pool is not None else 0
    # CPU seconds the pool's processes spent on pages: with the crawl process's own, a page's whole cost.
    data["extract_cpu_seconds"] = round(pool.cpu_seconds, 3) if pool is not None else 0.0
    return {
        "crawl_id": session.crawl_id,
        "resumed": session.resumed,
        "user_agent": session.user_agent,
        "purposes": [p.value for p in session.purposes],
        **data,
        **session.wallet.as_dict(),
        "finish_reason": stats.get("finish_reason"),
        "seconds": round(seconds, 2),
    }


def print_summary(summary: dict[str, Any]) -> None:
    """``summary_dict``'s figures as a table on stdout, breakdowns indented under their totals."""
    rows: list[tuple[str, Any]] = [
        ("crawl", summary["crawl_id"] + (" (resumed)" if summary["resumed"] else "")),
        ("purposes", ", ".join(summary["purposes"])),
        ("fetched", summary["fetched"]),
        ("stored (usable)", summary["stored"]),
        ("stored metadata-only", summary["metadata_only"]),
        ("redirects followed", summary["redirected"]),
        ("refused", summary["refused"]),
    ]
    rows += [(f"  refused: {reason}", n) for reason, n in summary["refused_by_reason"].items()]
    rows.append(("errors", summary["errors"]))
    rows += [(f"  error: {kind}", n) for kind, n in summary["errors_by_kind"].items()]
    if summary.get("dropped"):
        rows.append(("dropped by the crawl's limits", summary["dropped"]))
        rows += [(f"  dropped: {kind}", n) for kind, n in summary["dropped_by_reason"].items()]
    if summary["replayed"]:
        rows.append(("already stored by an earlier run", summary["replayed"]))
    rows.append(("not modified (304, stored row kept)", summary["not_modified"]))
    rows.append(("unchanged (same bytes, stored text kept)", summary["unchanged"]))
    rows.append(("revoked by newer signals", summary["revoked"]))
    rows += [(f"signal fetches: {kind}", n) for kind, n in summary["signal_fetches"].items()]
    rows += [(f"paid ({currency})", amount) for currency, amount in summary.get("spent", {}).items()]
    rows += [(f"  paid to {origin}", amount) for origin, amount in summary.get("spent_by_origin", {}).items()]
    rows.append(("finished", f"{summary['finish_reason']} after {summary['seconds']} s"))
    print_table("fairfetch crawl", ("", "count"), rows)
    console.print(f"Inspect one page: fairfetch ledger show URL --db {summary['ledger']}", soft_wrap=True)
