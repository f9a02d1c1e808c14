"""Signal-document snapshots: what robots.txt, ai.txt, a licence ... said, kept as a history of versions.

Provenance must answer "which signals were in force when we took this
page?" long after the publisher changed them, so a signal document is never
overwritten: a changed one becomes a new version, an unchanged one only
moves its version's ``last_seen_at``. Snapshot rows are never deleted (a
revocation purges page text, not the signals it was decided on), which is
what lets pages cite snapshot ids without the ledger looking them up again.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crawler.ledger.base import LedgerBase, check_length
from crawler.ledger.database import LedgerError, first_line
from crawler.ledger.export import snapshot_dict
from crawler.ledger.models import ORIGINS, SNAPSHOTS
from crawler.ledger.records import as_utc, host_of, naive_utc, storable_text, url_key

# Bodies of signal documents are kept up to this size. robots.txt parsers
# must read at least 500 KiB (RFC 9309); 1 MiB keeps every byte a parser
# could have used. ``sha256`` and ``size`` always describe the full body.
MAX_SIGNAL_BODY = 1024 * 1024

# Concurrent writers of one document race for its next version number; the loser looks again.
_SNAPSHOT_RETRIES = 20


def _fingerprint(status: int | None, sha256: str | None, error: str | None) -> str:
    parts = ("" if status is None else str(status), sha256 or "", error or "")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class SignalSnapshots(LedgerBase):
    """``Ledger``'s signal-snapshot writes and reads."""

    def record_signal(
        self,
        *,
        crawl_id: str,
        origin: str,
        kind: str,
        url: str,
        status: int | None,
        body: bytes | None,
        error: str | None,
        fetched_at: datetime,
        truncated: bool = False,
    ) -> int:
        """Keep what a signal document said at ``fetched_at``; returns the snapshot id to cite.

        A document identical to the latest version of (``kind``, ``url``) —
        same status, body and error — only moves that version's
        ``last_seen_at``; anything else becomes a new version. A body over
        ``MAX_SIGNAL_BODY`` is stored truncated (``truncated``), its hash and
        size still those of the whole body. ``truncated=True``: the fetch
        itself stopped at its byte cap (a robots.txt over 500 KiB, a gzip bomb).
        """
        origin = check_length("origin", storable_text(origin).lower().rstrip("/"), 400)
        kind = check_length("signal kind", storable_text(kind), 40)
        url = check_length("signal url", storable_text(url), 100_000)
        error = None if error is None else storable_text(error)
        if body is not None and not isinstance(body, bytes | bytearray | memoryview):
            raise LedgerError(f"signal body must be bytes, not {type(body).__name__}")
        at = as_utc(fetched_at)
        raw = bytes(body) if body is not None else None
        sha = hashlib.sha256(raw).hexdigest() if raw is not None else None
        fingerprint = _fingerprint(status, sha, error)
        key = url_key(url)
        last_exc: Exception | None = None
        for _ in range(_SNAPSHOT_RETRIES):
            try:
                with self._write() as conn:
                    self._require_crawl(conn, crawl_id)
                    self._touch_origin(conn, origin, at)
                    latest = (
                        conn.execute(
                            sa.select(SNAPSHOTS.c.id, SNAPSHOTS.c.version, SNAPSHOTS.c.fingerprint)
                            .where(SNAPSHOTS.c.kind == kind, SNAPSHOTS.c.url_key == key)
                            .order_by(SNAPSHOTS.c.version.desc())
                            .limit(1)
                        )
                        .mappings()
                        .first()
                    )
                    if latest is not None and latest["fingerprint"] == fingerprint:
                        snapshot_id: int = latest["id"]
                        conn.execute(
                            sa.update(SNAPSHOTS)
                            .where(SNAPSHOTS.c.id == snapshot_id)
                            .values(
                                last_seen_at=sa.case(
                                    (SNAPSHOTS.c.last_seen_at < at, at),
                                    else_=SNAPSHOTS.c.last_seen_at,
                                ),
                                seen_count=SNAPSHOTS.c.seen_count + 1,
                            )
                        )
                        written = snapshot_id
                    else:
                        result = conn.execute(
                            sa.insert(SNAPSHOTS).values(
                                origin=origin,
                                kind=kind,
                                url=url,
                                url_key=key,
                                version=(latest["version"] + 1) if latest is not None else 1,
                                status=status,
                                body=raw[:MAX_SIGNAL_BODY] if raw is not None else None,
                                size=len(raw) if raw is not None else None,
                                # also when the fetch itself stopped at its byte cap
                                truncated=truncated or (raw is not None and len(raw) > MAX_SIGNAL_BODY),
                                sha256=sha,
                                error=error,
                                fingerprint=fingerprint,
                                first_seen_at=at,
                                last_seen_at=at,
                                seen_count=1,
                                crawl_id=crawl_id,
                            )
                        )
                        inserted = result.inserted_primary_key
                        assert inserted is not None
                        written = int(inserted[0])
                # Committed: pages may cite it without the ledger looking it up.
                self._known_snapshots.add(written)
                return written
            except sa.exc.IntegrityError as exc:
                # Another writer stored a version of the same document first; look again.
                last_exc = exc
        raise LedgerError(f"could not record the {kind} snapshot of {url}: {first_line(last_exc)}")

    def _touch_origin(self, conn: Connection, origin: str, at: datetime) -> None:
        values = {
            "origin": origin,
            "host": host_of(origin) or origin,
            "first_seen_at": at,
            "last_seen_at": at,
        }
        self._upsert(
            conn,
            ORIGINS,
            values,
            ["origin"],
            ["last_seen_at"],
            only_if=lambda excluded: ORIGINS.c.last_seen_at < excluded.last_seen_at,
            only_if_py=lambda row: naive_utc(row["last_seen_at"]) < naive_utc(at),
        )

    def snapshot(self, snapshot_id: int) -> dict[str, Any] | None:
        """One signal snapshot with its stored body (bytes)."""
        with self._read() as conn:
            row = (
                conn.execute(sa.select(SNAPSHOTS).where(SNAPSHOTS.c.id == snapshot_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        out = snapshot_dict(row)
        out["body"] = row["body"]
        out["crawl_id"] = row["crawl_id"]
        return out

    def signal_history(self, kind: str, url: str) -> list[dict[str, Any]]:
        """Every version of one signal document, oldest first (bodies left out)."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(SNAPSHOTS)
                .where(SNAPSHOTS.c.kind == kind, SNAPSHOTS.c.url_key == url_key(url))
                .order_by(SNAPSHOTS.c.version)
            ).mappings()
            return [snapshot_dict(r) for r in rows]
