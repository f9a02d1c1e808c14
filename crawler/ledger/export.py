"""The ledger's export shape: one JSON-ready dict per page, the contract ``fairfetch ledger`` and others build on.

Each page dict carries at least ``url``, ``canonical_url``, ``fetched_at``
(ISO 8601, UTC), ``status``, ``source_class`` (null until classified),
``platform``, ``text`` (null when not stored), ``content_hash``,
``metadata``, ``decisions`` (per usage ``{"allowed", "reasons",
"obligations"}``), ``evidence``, ``obligations`` and ``signals`` (the
snapshots in force: ``kind``, ``url``, ``sha256``, ``fetched_at``,
``status`` ...). Signal bodies are left out: they can be large and are
reachable through ``Ledger.snapshot(id)``. A page whose use newer signals
revoked (``crawler.ledger.revocation``) has ``revoked: true``, its
``revoked_at`` and never any text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC. Naive values come from SQLite, which stores our UTC times without the zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def snapshot_dict(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A signal snapshot without its body. ``fetched_at`` is when this version was first seen."""
    return {
        "id": row["id"],
        "kind": row["kind"],
        "url": row["url"],
        "origin": row["origin"],
        "version": row["version"],
        "status": row["status"],
        "sha256": row["sha256"],
        "size": row["size"],
        "truncated": row["truncated"],
        "error": row["error"],
        "fetched_at": iso(row["first_seen_at"]),
        "last_seen_at": iso(row["last_seen_at"]),
        "seen_count": row["seen_count"],
    }


def fetch_dict(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "crawl_id": row["crawl_id"],
        "url": row["url"],
        "at": iso(row["at"]),
        "outcome": row["outcome"],
        "reason": row["reason"],
        "status": row["status"],
    }


def page_dict(
    row: Mapping[Any, Any],
    host: Mapping[Any, Any] | None,
    snapshots: Mapping[int, Mapping[Any, Any]],
) -> dict[str, Any]:
    """The export dict of one page row.

    ``source_class`` and ``platform`` are the page's own when the crawler
    set them, else the host's classification (``Ledger.set_host_class``),
    else null. A snapshot id that no longer resolves is listed under
    ``missing_signal_ids`` rather than silently dropped.
    """
    host_class = None
    if host is not None:
        host_class = {
            "host": host["host"],
            "source_class": host["source_class"],
            "platform": host["platform"],
            "evidence": host["evidence"],
            "classified_at": iso(host["classified_at"]),
        }
    signal_ids = list(row["signal_ids"] or [])
    revoked_at = row.get("revoked_at")
    text = None if revoked_at is not None else row["text"]
    out: dict[str, Any] = {
        "url": row["url"],
        "canonical_url": row["canonical_url"],
        "host": row["host"],
        "crawl_id": row["crawl_id"],
        "fetched_at": iso(row["fetched_at"]),
        "first_seen_at": iso(row["first_seen_at"]),
        "status": row["status"],
        "source_class": row["source_class"]
        if row["source_class"] is not None
        else (host or {}).get("source_class"),
        "platform": row["platform"]
        if row["platform"] is not None
        else (host or {}).get("platform"),
        "page_role": row["page_role"],
        "host_class": host_class,
        "user_agent": row["user_agent"],
        "purposes": row["purposes"],
        "text": text,
        "text_length": None if text is None else len(text),
        "revoked": revoked_at is not None,
        "revoked_at": iso(revoked_at),
        "etag": row.get("etag"),
        "last_modified": row.get("last_modified"),
        "content_hash": row["content_hash"],
        "metadata": row["metadata"],
        "decisions": row["decisions"],
        "evidence": row["evidence"],
        "obligations": row["obligations"],
        "signal_ids": signal_ids,
        "signals": [snapshot_dict(snapshots[i]) for i in signal_ids if i in snapshots],
    }
    missing = [i for i in signal_ids if i not in snapshots]
    if missing:
        out["missing_signal_ids"] = missing
    return out


def write_jsonl(pages: Iterable[Mapping[Any, Any]], stream: TextIO) -> int:
    """Write one JSON object per line; returns how many were written."""
    count = 0
    for page in pages:
        stream.write(json.dumps(page, ensure_ascii=False, sort_keys=False, default=str))
        stream.write("\n")
        count += 1
    return count
