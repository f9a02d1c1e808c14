"""The ``Ledger``: idempotent, transactional writes of provenance and the reads behind ``fairfetch ledger``.

Any SQLAlchemy URL works: SQLite (the default, a file in the current
directory, WAL mode, writers queue on ``BEGIN IMMEDIATE``) or PostgreSQL at
scale. Idempotency is what lets a crawl be killed (even with ``kill -9``) and
resumed: a page is keyed by its URL, a fetch-log row by a hash of its
attempt-independent fields, a signal snapshot by its content; replaying any
write leaves the ledger as it was.

The class is assembled from one part per concern, so each can be read on
its own:

* ``crawler.ledger.database`` opens the engine (SQLite's locking, ``LedgerError``);
* ``crawler.ledger.base`` creates the tables and holds transactions and upserts;
* ``crawler.ledger.writes`` writes crawls, pages, fetch-log rows, host classes;
* ``crawler.ledger.snapshots`` keeps signal documents as a history of versions;
* ``crawler.ledger.reads`` answers ``ledger show`` / ``export`` / counts.

What is not on the class takes a ``Ledger``: ``crawler.ledger.history``,
``.revocation``, ``.recrawl``, ``.refusals``, ``.spend``, ``.upgrade``.
"""

from __future__ import annotations

from crawler.ledger.reads import LedgerReads
from crawler.ledger.snapshots import SignalSnapshots
from crawler.ledger.writes import LedgerWrites


class Ledger(LedgerWrites, SignalSnapshots, LedgerReads):
    """The provenance store. One instance per process; safe to share between threads.

    Tables are created on first use (``create=False`` opens an existing
    ledger for reading only). Every public write is one transaction.
    """
