"""What the spider hands to the pipeline for one page: the ledger's page row, not yet written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from norms.classify import Classification


@dataclass(slots=True)
class PageItem:
    """One answered page request with its verdict.

    ``text`` is None when no declared purpose allows keeping the text
    (``permitted`` false: a metadata-only row) or extraction was switched off. ``outcome`` and
    ``reason`` become the page's fetch-log row, written in the same
    transaction as the page.
    """

    url: str
    status: int
    fetched_at: Any  # datetime (UTC)
    text: str | None
    content_hash: str | None
    metadata: dict[str, Any]
    decisions: dict[str, Any]
    evidence: list[dict[str, Any]]
    obligations: list[dict[str, Any]]
    signal_ids: list[int]
    outcome: str
    reason: str
    permitted: bool = False  # a declared purpose allows using the page (text kept unless --no-extract)
    canonical_url: str | None = None
    source_class: str | None = None
    page_role: str | None = None
    platform: str | None = None
    host: str = ""
    classification: Classification | None = None  # for the host profile
    links: list[str] = field(default_factory=list)
    etag: str | None = None  # HTTP validators, sent back on the next crawl run (crawler.recrawl)
    last_modified: str | None = None
    revocation: Any = None  # crawler.ledger.revocation.RevocationRecord when the refetch revokes the page
