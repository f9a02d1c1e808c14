"""An origin's signal documents over time: every version kept, and what changed between two.

``fairfetch ledger history ORIGIN`` reads this. Versions come from the
ledger's snapshots (a new one is written only when a document changed); the
difference between two versions is given as readable lines, normalised per
kind so that reformatting is no change:

* robots.txt: each rule with the group it belongs to
  (``[User-agent: GPTBot] Disallow: /``), ``Content-Signal`` lines likewise,
  comments and blank lines dropped;
* tdmrep.json: one line per policy entry (keys sorted);
* RSL licences and anything else: the document's non-blank lines.

A change of status or fetch error (``HTTP 200`` to ``HTTP 503``, a timeout)
is a change too. Reading only: nothing here fetches or parses for decisions.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from crawler.ledger.export import snapshot_dict
from crawler.ledger.models import SNAPSHOTS
from crawler.ledger.store import Ledger

MAX_CHANGE_LINES = 200


def robots_lines(text: str) -> list[str]:
    """robots.txt as ``[group] directive: value`` lines (RFC 9309 grouping: consecutive user-agent lines)."""
    out: list[str] = []
    agents: list[str] = []
    in_rules = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or ":" not in line:
            continue
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value)
            continue
        label = _DIRECTIVES.get(name, name)
        if name in ("sitemap",):
            out.append(f"{label}: {value}")
            continue
        in_rules = True
        group = ", ".join(agents) if agents else "no group"
        out.append(f"[User-agent: {group}] {label}: {value}")
    return out


_DIRECTIVES = {
    "allow": "Allow", "disallow": "Disallow", "crawl-delay": "Crawl-delay",
    "content-signal": "Content-Signal", "content-usage": "Content-Usage", "sitemap": "Sitemap",
    "license": "License", "request-rate": "Request-rate",
}


def tdmrep_lines(text: str) -> list[str]:
    try:
        data = json.loads(text)
    except ValueError:
        return plain_lines(text)
    entries = data if isinstance(data, list) else [data]
    return [json.dumps(e, sort_keys=True, ensure_ascii=False) for e in entries]


def plain_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def normalised(kind: str, body: bytes | None) -> list[str]:
    if body is None:
        return []
    text = body.decode("utf-8", "replace")
    if kind == "robots.txt":
        return robots_lines(text)
    if kind == "tdmrep":
        return tdmrep_lines(text)
    return plain_lines(text)


def _state(row: dict[str, Any]) -> str:
    if row.get("error"):
        return f"error: {row['error']}"
    return f"HTTP {row.get('status')}"


def changes(kind: str, old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Readable lines saying how ``new`` differs from ``old`` (``+`` added, ``-`` removed)."""
    if old is None:
        return [f"first seen ({_state(new)})"]
    out: list[str] = []
    if _state(old) != _state(new):
        out.append(f"{_state(old)} -> {_state(new)}")
    before = normalised(kind, old.get("body")) if old.get("status") == 200 else []
    after = normalised(kind, new.get("body")) if new.get("status") == 200 else []
    for line in difflib.unified_diff(before, after, lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        out.append(f"{line[0]} {line[1:]}")
    if not out:
        out.append("bytes changed, no rule changed (formatting or comments)")
    if len(out) > MAX_CHANGE_LINES:
        out = [*out[:MAX_CHANGE_LINES], f"... {len(out) - MAX_CHANGE_LINES} more lines"]
    return out


def origin_history(ledger: Ledger, origin: str) -> list[dict[str, Any]]:
    """Every version of every signal document of ``origin`` (``scheme://host[:port]``, or a bare host for all
    its origins), oldest first, each with ``changes`` against the previous version of the same document."""
    wanted = origin.strip().lower().rstrip("/")
    if "://" in wanted:
        where = SNAPSHOTS.c.origin == wanted
    else:
        where = sa.or_(SNAPSHOTS.c.origin == f"http://{wanted}", SNAPSHOTS.c.origin == f"https://{wanted}",
                       SNAPSHOTS.c.origin.like(f"http://{wanted}:%"), SNAPSHOTS.c.origin.like(f"https://{wanted}:%"))
    with ledger._read() as conn:
        rows = [dict(r) for r in conn.execute(
            sa.select(SNAPSHOTS).where(where).order_by(SNAPSHOTS.c.kind, SNAPSHOTS.c.url, SNAPSHOTS.c.version)
        ).mappings()]
    return list(_with_changes(rows))


def _with_changes(rows: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    previous: dict[tuple[str, str], dict[str, Any]] = {}
    out = []
    for row in rows:
        key = (row["kind"], row["url_key"])
        item = snapshot_dict(row)
        item["changes"] = changes(row["kind"], previous.get(key), row)
        previous[key] = row
        out.append(item)
    out.sort(key=lambda r: (r["fetched_at"] or "", r["kind"], r["url"], r["version"]))
    return out
