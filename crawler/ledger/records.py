"""What the crawler hands to the ledger: one page with its provenance, one fetch-log entry.

The records accept pydantic models (``Evidence``, ``Obligation`` ...) or plain
values and turn everything into JSON-ready data at the boundary, so the
database never sees a ``Decimal`` or an enum. Strings are made storable
everywhere: PostgreSQL rejects NUL characters and no backend stores lone
surrogates, so NUL becomes U+FFFD and a lone surrogate becomes ``?`` (a
documented, lossy repair of input that was already broken).

``decisions_from_verdict`` fixes the shape of the ``decisions`` column once
for every caller: ``{usage: {"allowed", "reasons", "obligations"}}``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import to_json, to_jsonable_python

from norms.verdict import Verdict

# "dropped": kept out by the crawl's own limits (crawler.limits), never requested.
# "not-modified": a conditional re-request answered 304; the stored page row was kept as it was.
Outcome = Literal["fetched", "refused", "error", "redirected", "dropped", "not-modified"]
OUTCOMES: tuple[str, ...] = ("fetched", "refused", "error", "redirected", "dropped", "not-modified")


def storable_text(value: str) -> str:
    """``value`` with the characters no database backend can store replaced."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def storable_json(value: Any) -> Any:
    """JSON-ready copy of ``value`` (models, enums, decimals, dates converted), strings made storable.

    Almost every value is storable already. Serialising the copy in Rust shows
    that (a NUL is escaped as ``\\u0000``, a lone surrogate raises) at a third
    of the cost of walking it in Python, so only the rest is walked; a
    ``\\u0000`` written out in the text itself is walked too, harmlessly.
    """
    plain = to_jsonable_python(value, fallback=str)  # a fresh copy, keys already strings
    try:
        if b"\\u0000" not in to_json(plain):
            return plain
    except ValueError:  # a lone surrogate
        pass
    return _clean(plain)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already (that is what the ledger stores)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def url_key(url: str) -> str:
    """The indexable stand-in for a URL (see ``crawler.ledger.models``)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def naive_utc(value: datetime) -> datetime:
    """Comparable form of a stored or given time (SQLite hands back naive UTC)."""
    return as_utc(value).replace(tzinfo=None)


def host_of(url: str) -> str:
    """Lower-case host of ``url`` ('' when it has none)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


class FetchRecord(BaseModel):
    """One request made, or refused by the norms before it was made.

    ``reason`` says why in words a person can read (``robots.txt disallow``,
    ``HTTP 451``, ``ok``). Two records with the same crawl, url, outcome,
    reason and status are the same event replayed (e.g. after a crash):
    :attr:`key` is equal and the ledger keeps one row. Keep ``reason``
    free of attempt-specific details (elapsed times, retry counters), or a
    replay after a resume would count as a new event.
    """

    model_config = ConfigDict(frozen=True)

    crawl_id: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1)
    at: datetime
    outcome: Outcome
    reason: str = ""
    status: int | None = None

    @field_validator("url", "reason", "crawl_id")
    @classmethod
    def _storable(cls, value: str) -> str:
        return storable_text(value)

    @field_validator("at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)

    @property
    def key(self) -> str:
        """Idempotency key: sha256 over the fields that do not change when the same event is replayed."""
        parts = (
            self.crawl_id,
            self.url,
            self.outcome,
            self.reason,
            "" if self.status is None else str(self.status),
        )
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class PageRecord(BaseModel):
    """One fetched page with everything needed to justify its use later.

    ``decisions`` maps each usage to ``{"allowed": bool, "reasons": [...],
    "obligations": [...]}`` (build it with :func:`decisions_from_verdict`);
    ``evidence`` and ``obligations`` are lists of ``Evidence`` /
    ``Obligation`` dicts; ``signal_ids`` are the ids returned by
    ``Ledger.record_signal`` for the snapshots in force at fetch time.
    ``fetch``, when given, is written in the same transaction as the page.
    """

    model_config = ConfigDict(frozen=True)

    url: str = Field(min_length=1)
    canonical_url: str | None = None
    crawl_id: str = Field(min_length=1, max_length=200)
    fetched_at: datetime
    status: int | None = None
    content_hash: str | None = Field(default=None, max_length=128)
    text: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    decisions: dict[str, Any] = Field(default_factory=dict)
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    obligations: list[dict[str, Any]] = Field(default_factory=list)
    signal_ids: list[int] = Field(default_factory=list)
    source_class: str | None = None
    page_role: str | None = None
    platform: str | None = None
    user_agent: str
    purposes: list[str] = Field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    fetch: FetchRecord | None = None

    @field_validator("metadata", "decisions", "evidence", "obligations", "purposes", mode="before")
    @classmethod
    def _jsonable(cls, value: Any) -> Any:
        return storable_json(value)

    @field_validator(
        "url", "canonical_url", "crawl_id", "text", "content_hash", "user_agent", "etag", "last_modified"
    )
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        return None if value is None else storable_text(value)

    @field_validator("fetched_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)


def decisions_from_verdict(verdict: Verdict) -> dict[str, Any]:
    """The ``decisions`` column for a verdict: per usage, allowed + reasons + obligations."""
    return {
        str(usage): {
            "allowed": decision.allowed,
            "reasons": list(decision.reasons),
            "obligations": storable_json(list(decision.obligations)),
        }
        for usage, decision in verdict.usages.items()
    }


def evidence_from_verdict(verdict: Verdict) -> list[dict[str, Any]]:
    """The ``evidence`` column for a verdict: every piece of evidence, as dicts.

    Problems the readers found in those signals follow, shaped like evidence
    (``signal`` ``finding``, ``raw`` the message, ``rule`` the code) with the
    whole ``norms.problems.Finding`` under ``finding``.
    """
    data: list[dict[str, Any]] = storable_json(list(verdict.evidence))
    for found in verdict.findings:
        data.append({"signal": "finding", "source": found.source or verdict.url, "line": found.line,
                     "element": found.element, "raw": found.message, "rule": found.code,
                     "finding": storable_json(found)})
    return data


def obligations_from_verdict(verdict: Verdict) -> list[dict[str, Any]]:
    """The ``obligations`` column: each obligation of a permitted purpose once, with the usages it binds."""
    merged: list[dict[str, Any]] = []
    for usage in verdict.permitted_purposes:
        for obligation in verdict.usages[usage].obligations:
            item = storable_json(obligation)
            for existing in merged:
                if {k: v for k, v in existing.items() if k != "usages"} == item:
                    existing["usages"].append(str(usage))
                    break
            else:
                merged.append({**item, "usages": [str(usage)]})
    return merged


def utc_now() -> datetime:
    return datetime.now(UTC)
