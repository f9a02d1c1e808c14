"""Which crawl a ``--jobdir`` run belongs to: resume the interrupted one, or start a new run.

The job directory keeps the crawl id (and the seeds and purposes it was
started with) in ``fairfetch-crawl.json``. A run that was *interrupted*
(killed, stopped by Ctrl-C, its ledger row never finished) is resumed under
that id, replaying what the ledger already holds. A run that *ended*
(finish reason ``finished`` or ``max_pages``) is not resumed: the next run
with the same job directory is a new crawl run over the seeds, with re-crawl
semantics (``crawler.recrawl``), and its id replaces the old one in the file.
That is what makes a scheduled job with a ``jobdir`` refresh its pages.

Resuming an interrupted run with other seeds or purposes would merge two
different crawls under one id; it is refused with a message saying how to go
on instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.ledger import Ledger

CRAWL_ID_FILE = "fairfetch-crawl.json"
COMPLETE_REASONS = frozenset({"finished", "max_pages"})


class JobdirError(ValueError):
    """The job directory cannot be used for this run; the message says why and what to do."""


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise JobdirError(f"{path} is unreadable ({exc}); move it aside to start a new crawl") from None
    if not isinstance(data, dict) or not isinstance(data.get("crawl_id"), str) or not data["crawl_id"]:
        raise JobdirError(f"{path} names no crawl id; move it aside to start a new crawl")
    return data


def _write(path: Path, crawl_id: str, seeds: Sequence[str] | None, purposes: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    data = {"crawl_id": crawl_id, "seeds": list(seeds) if seeds is not None else None,
            "purposes": sorted(purposes)}
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)  # atomic: a kill never leaves half a file


def resolve_crawl(
    jobdir: str,
    given: str | None,
    *,
    seeds: Sequence[str] | None,
    purposes: Sequence[str],
    ledger: Ledger,
    new_id: Any,
) -> tuple[str, bool]:
    """The crawl id for a run with ``jobdir``, and whether it resumes an interrupted run.

    ``seeds`` None means "not known here" (``scrapy crawl`` without the
    setting): they are then not compared. ``new_id`` makes a fresh crawl id.
    """
    path = Path(jobdir) / CRAWL_ID_FILE
    if not path.exists():
        crawl_id = given or new_id()
        _write(path, crawl_id, seeds, purposes)
        return crawl_id, False
    data = _read(path)
    crawl_id = data["crawl_id"]
    row = ledger.crawl(crawl_id)
    ended = (
        row is not None
        and row.get("finished_at") is not None
        and (row.get("stats") or {}).get("finish_reason") in COMPLETE_REASONS
    )
    if ended:
        fresh = new_id() if given in (None, crawl_id) else given
        _write(path, fresh, seeds, purposes)
        return fresh, False
    old_seeds = data.get("seeds") if data.get("seeds") is not None else (row or {}).get("seeds")
    old_purposes = data.get("purposes") if data.get("purposes") is not None else (row or {}).get("purposes")
    if seeds is not None and old_seeds is not None and set(old_seeds) != set(seeds):
        raise JobdirError(
            f"{jobdir} holds the interrupted crawl {crawl_id}, started with other seeds "
            f"({', '.join(sorted(old_seeds))}); resume it with the same seeds, or use another --jobdir "
            "to start a new crawl"
        )
    if old_purposes is not None and set(old_purposes) != set(purposes):
        raise JobdirError(
            f"{jobdir} holds the interrupted crawl {crawl_id}, started for purposes "
            f"{', '.join(sorted(old_purposes))}; resume it with the same --purpose, or use another --jobdir "
            "to start a new crawl"
        )
    if given is not None and given != crawl_id:
        raise JobdirError(f"{jobdir} holds the interrupted crawl {crawl_id}, not --crawl-id {given}")
    return crawl_id, True
