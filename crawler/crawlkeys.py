"""The names a scaled-out crawl shares: its id, its Redis keys, and the error it stops with.

A leaf module (it imports nothing of fairfetch), so that the parts of
scale-out -- :mod:`crawler.scaleout` (documents, pacing) and the modules
around it (:mod:`crawler.shared_crawl`, :mod:`crawler.shared_frontier`),
:mod:`crawler.leases` (what a worker took from the frontier) and the CLI --
all name the same keys without importing each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_PREFIX = "fairfetch:"
_CRAWL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class ScaleOutError(RuntimeError):
    """Scale-out cannot start or go on (Redis unreachable, unknown crawl); the message says why in words."""


def check_crawl_id(crawl_id: str) -> str:
    """Crawl ids name Redis keys and ledger rows: letters, digits, ``.``, ``_``, ``-``; at most 100."""
    if not _CRAWL_ID.fullmatch(crawl_id):
        raise ScaleOutError(
            f"crawl id {crawl_id!r} must be 1-100 letters, digits, '.', '_' or '-' (starting with a letter or digit)"
        )
    return crawl_id


@dataclass(frozen=True, slots=True)
class CrawlKeys:
    """The Redis keys of one crawl; every key starts with ``namespace``."""

    prefix: str
    crawl_id: str

    @property
    def namespace(self) -> str:
        return f"{self.prefix}{self.crawl_id}:"

    @property
    def requests(self) -> str:
        return self.namespace + "requests"  # sorted set: scrapy-redis PriorityQueue

    @property
    def seen(self) -> str:
        return self.namespace + "seen"  # set of request fingerprints

    @property
    def seeds(self) -> str:
        return self.namespace + "seeds"  # JSON list, written by the first worker

    def document(self, kind: str, url: str) -> str:
        return f"{self.namespace}doc:{kind}:{url}"  # hash: meta (JSON) + body

    def lock(self, kind: str, url: str) -> str:
        return f"{self.namespace}lock:{kind}:{url}"

    @property
    def active(self) -> str:
        return self.namespace + "active"  # sorted set: worker -> last time it had work in flight (ms)

    def pace(self, origin: str) -> str:
        return f"{self.namespace}pace:{origin}"  # "<next allowed ms>:<holder>"

    def pause(self, origin: str) -> str:
        return f"{self.namespace}pause:{origin}"  # "<paused until ms>:<what the origin answered>"

    @property
    def workers(self) -> str:
        return self.namespace + "workers"  # set of workers that may hold leases

    def lease(self, worker: str) -> str:
        return f"{self.namespace}lease:{worker}"  # set: encoded requests the worker took and has not settled

    def alive(self, worker: str) -> str:
        return f"{self.namespace}alive:{worker}"  # present while the worker runs (expires after the lease time)


