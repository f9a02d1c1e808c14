"""The provenance ledger: which signals were in force when a page was taken, and why it was allowed.

``Ledger`` stores crawls, signal-document snapshots (kept as history), pages
with their decisions and evidence, host classifications and a fetch log of
every request made or refused. SQLite by default, PostgreSQL at scale.
"""

from crawler.ledger.database import DEFAULT_DB_URL, LedgerError
from crawler.ledger.records import (
    OUTCOMES,
    FetchRecord,
    Outcome,
    PageRecord,
    decisions_from_verdict,
    evidence_from_verdict,
    obligations_from_verdict,
)
from crawler.ledger.snapshots import MAX_SIGNAL_BODY
from crawler.ledger.store import Ledger

__all__ = [
    "DEFAULT_DB_URL",
    "MAX_SIGNAL_BODY",
    "OUTCOMES",
    "FetchRecord",
    "Ledger",
    "LedgerError",
    "Outcome",
    "PageRecord",
    "decisions_from_verdict",
    "evidence_from_verdict",
    "obligations_from_verdict",
]
