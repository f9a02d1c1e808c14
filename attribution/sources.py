"""A source an answer may draw on: its text, its class, its licence and the publisher's decisions.

``decisions`` holds, per usage (``ai-input``, ``ai-train`` ...), whether the
publisher's signals allow it; a usage that is not listed is allowed. Shaping
only ever asks about ``ai-input``: using a page to ground an answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from attribution.index import SourceIndex
from attribution.links import SourceLinks, derived_links, merge_links
from attribution.policy import SourceClass
from norms.model import Obligation, ObligationKind, SignalError, Usage

if TYPE_CHECKING:
    from norms.verdict import Verdict


class SourceError(SignalError):
    """A source could not be built from the given data. The message says why."""


class SourceNotFound(LookupError):
    """The ledger holds no page for the requested URL."""


_CLASSES = ("canonical", "aggregator", "community", "unknown")


class SourceRevoked(SourceNotFound):
    """The ledger holds the page, but newer publisher signals revoked its use; there is no text to use."""


class Source(BaseModel):
    """One retrieved page, as the attribution library sees it.

    Frozen so that its word index (built on first use and kept) can never go
    stale. ``disputed`` records that the source itself marks a dispute (e.g. a
    Wikipedia neutrality tag) when a classifier knows it; dispute phrases in
    the text are detected anyway. ``permalink``, ``edit_history_url`` and
    ``discussion_url`` override what ``norms.classify.links_for`` derives.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(min_length=1)
    title: str | None = None
    text: str = ""
    source_class: SourceClass = "unknown"
    platform: str | None = None
    publisher: str | None = None
    license: str | None = None
    license_url: str | None = None
    attribution: str | None = None
    obligations: tuple[Obligation, ...] = ()
    decisions: dict[str, bool] = Field(default_factory=dict)
    decision_reasons: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    last_modified: datetime | None = None
    retrieved_at: datetime | None = None
    disputed: bool = False
    permalink: str | None = None
    edit_history_url: str | None = None
    discussion_url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_decisions(cls, data: Any) -> Any:
        """Accept ledger-style decisions ``{"allowed": bool, "reasons": [...]}`` as well as booleans."""
        if not isinstance(data, dict) or not isinstance(data.get("decisions"), dict):
            return data
        data = dict(data)
        flat: dict[str, Any] = {}
        reasons: dict[str, Any] = dict(data.get("decision_reasons") or {})
        for usage, value in data["decisions"].items():
            if isinstance(value, dict):
                flat[usage] = value.get("allowed", True)
                if value.get("reasons"):
                    reasons[usage] = tuple(value["reasons"])
            else:
                flat[usage] = value
        data["decisions"] = flat
        data["decision_reasons"] = reasons
        return data

    @field_validator("source_class", mode="before")
    @classmethod
    def _known_class(cls, value: Any) -> Any:
        if value is None:
            return "unknown"
        if isinstance(value, str) and value.lower() in _CLASSES:
            return value.lower()
        return value

    @field_validator("last_modified", "retrieved_at", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        if isinstance(value, str) and value.endswith("Z"):
            return value[:-1] + "+00:00"
        return value

    @field_validator("last_modified", "retrieved_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    # --- decisions -------------------------------------------------------

    def allowed(self, usage: Usage | str = Usage.AI_INPUT) -> bool:
        """Whether the publisher allows ``usage``; an unlisted usage is allowed."""
        return self.decisions.get(str(usage), True)

    def denial_reasons(self, usage: Usage | str = Usage.AI_INPUT) -> tuple[str, ...]:
        return self.decision_reasons.get(str(usage), ())

    def snippet_limit(self) -> int | None:
        """The smallest ``snippet-limit`` obligation (characters), if the publisher set one."""
        limits = [
            o.limit
            for o in self.obligations
            if o.kind is ObligationKind.SNIPPET_LIMIT and o.limit is not None
        ]
        return min(limits) if limits else None

    # --- derived data (cached; the model is frozen) ------------------------

    # cached_property stores in the instance dict without going through the
    # frozen model's __setattr__, and is not a field (not dumped, not compared).
    @cached_property
    def index(self) -> SourceIndex:
        """The word index of ``text``, built on first use and kept."""
        return SourceIndex(self.text)

    @cached_property
    def links(self) -> SourceLinks:
        """Permalink, history, discussion, licence and credit text for this source."""
        explicit = SourceLinks(
            permalink=self.permalink,
            edit_history_url=self.edit_history_url,
            discussion_url=self.discussion_url,
            last_modified=self.last_modified.date().isoformat() if self.last_modified else None,
            license=self.license,
            license_url=self.license_url,
            attribution=self.attribution,
        )
        return merge_links(explicit, derived_links(self.url, self.platform))

    @cached_property
    def _marker_cache(self) -> dict[tuple[str, ...], list[int]]:
        return {}

    def marker_positions(self, markers: tuple[str, ...]) -> list[int]:
        """Sorted offsets in ``text`` where any of ``markers`` (casefolded phrases) starts.

        Scanned once per source and marker set, so checking a region for a
        dispute phrase costs a binary search afterwards.
        """
        cache = self._marker_cache
        found = cache.get(markers)
        if found is None:
            found = cache[markers] = _find_all(self.text, markers)
        return found

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Source:
        """A copy; with ``update`` the cached index and links are rebuilt for the new values."""
        copy = super().model_copy(update=update, deep=deep)
        if update:
            copy.__dict__.pop("index", None)
            copy.__dict__.pop("links", None)
            copy.__dict__.pop("_marker_cache", None)
        return copy

    # --- constructors ----------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        """Build a source from plain data (JSON), with a plain-words error on bad input."""
        if not isinstance(data, dict):
            raise SourceError(
                f"a source must be an object with at least a 'url', not {type(data).__name__}"
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise SourceError(_explain(exc, data.get("url"))) from None

    @classmethod
    def from_verdict(
        cls,
        verdict: Verdict,
        *,
        text: str,
        title: str | None = None,
        classification: Any = None,
        source_class: SourceClass | None = None,
        platform: str | None = None,
        publisher: str | None = None,
        license: str | None = None,
        last_modified: datetime | None = None,
        retrieved_at: datetime | None = None,
    ) -> Source:
        """A source from a ``norms`` verdict and the page text.

        A verdict whose fetch decision is negative (robots.txt gate, 401/403/451,
        unpaid 402) forbids using the response at all, so every usage is then
        recorded as denied with the fetch reason. ``classification`` is a
        ``norms.classify.Classification`` (or anything with ``source_class``,
        ``platform`` and ``links``); explicit arguments win over it.
        """
        decisions: dict[str, bool] = {}
        reasons: dict[str, tuple[str, ...]] = {}
        for usage, decision in verdict.usages.items():
            decisions[str(usage)] = decision.allowed and verdict.fetch.allowed
            why = tuple(decision.reasons)
            if not verdict.fetch.allowed:
                why = (verdict.fetch.reason, *why)
            if why:
                reasons[str(usage)] = why
        ai_input = verdict.usages.get(Usage.AI_INPUT)
        links: Any = getattr(classification, "links", None)
        data: dict[str, Any] = {
            "url": verdict.url,
            "title": title,
            "text": text,
            "source_class": source_class
            or getattr(classification, "source_class", None)
            or "unknown",
            "platform": platform or getattr(classification, "platform", None),
            "publisher": publisher,
            "license": license or getattr(links, "license", None),
            "license_url": getattr(links, "license_url", None),
            "attribution": getattr(links, "attribution", None),
            "obligations": ai_input.obligations if ai_input else (),
            "decisions": decisions,
            "decision_reasons": reasons,
            "last_modified": last_modified or _date_or_none(getattr(links, "last_modified", None)),
            "retrieved_at": retrieved_at,
            "permalink": getattr(links, "permalink", None),
            "edit_history_url": getattr(links, "edit_history_url", None),
            "discussion_url": getattr(links, "discussion_url", None),
        }
        return cls.from_dict(data)

    @classmethod
    def from_ledger(cls, db_url: str, url: str) -> Source:
        """The page stored for ``url`` in the fairfetch ledger at ``db_url``.

        Raises ``SourceNotFound`` when the ledger has no page for the URL and
        ``SourceRevoked`` when newer publisher signals revoked its use (its
        text was purged; see docs/operators.md, "Revocation").
        """
        from crawler.ledger import Ledger  # the crawler is optional for library users

        # Opened read-only: a mistyped path must not conjure an empty ledger.
        # ``LedgerError`` (unreadable database) propagates with its own message.
        with Ledger(db_url, create=False) as ledger:
            page = ledger.page(url)
        if page is None:
            raise SourceNotFound(f"the ledger at {db_url} has no page for {url}; crawl it first")
        return cls.from_ledger_page(page)

    @classmethod
    def from_ledger_page(cls, page: dict[str, Any]) -> Source:
        """A source from one ``Ledger.page`` record (a dict), without touching the database.

        Raises ``SourceRevoked`` for a page the ledger marks revoked.
        """
        if page.get("revoked") or page.get("revoked_at"):
            raise SourceRevoked(
                f"{page.get('url')} was revoked at {page.get('revoked_at')}: the publisher's newer "
                "signals deny its use and its text was purged (fairfetch ledger revocations lists why)"
            )
        metadata: dict[str, Any] = page.get("metadata") or {}
        obligations = []
        for item in page.get("obligations") or []:
            usages = item.get("usages")
            if usages is None or str(Usage.AI_INPUT) in usages:
                obligations.append({k: v for k, v in item.items() if k != "usages"})
        # The extractor's ``date`` is the page's most recent date (updated, else published).
        modified = _date_or_none(
            metadata.get("last_modified") or metadata.get("date_modified") or metadata.get("date")
        )
        data: dict[str, Any] = {
            "url": page.get("canonical_url") or page.get("url"),
            "title": metadata.get("title"),
            "text": page.get("text") or "",
            "source_class": page.get("source_class"),
            "platform": page.get("platform"),
            "publisher": metadata.get("site_name") or metadata.get("sitename"),
            "license": metadata.get("license"),
            "license_url": metadata.get("license_url"),
            # Links the page itself declared, when the writer kept them (the MCP server does).
            "attribution": metadata.get("attribution"),
            "permalink": metadata.get("permalink"),
            "edit_history_url": metadata.get("edit_history_url"),
            "discussion_url": metadata.get("discussion_url"),
            "obligations": obligations,
            "decisions": page.get("decisions") or {},
            "last_modified": modified,
            "retrieved_at": page.get("fetched_at"),
        }
        return cls.from_dict(data)


def _find_all(text: str, phrases: tuple[str, ...]) -> list[int]:
    """Start offsets of every case-insensitive occurrence of ``phrases`` in ``text``.

    ASCII text is lowercased (offsets unchanged) and searched with
    ``str.find``, far faster than one alternation regex; other text uses a
    case-insensitive regex so offsets stay those of the original.
    """
    needles = [p for p in phrases if p]
    if not needles:
        return []
    if text.isascii():
        low = text.lower()
        hits: list[int] = []
        for phrase in needles:
            needle = phrase.lower()
            at = low.find(needle)
            while at != -1:
                hits.append(at)
                at = low.find(needle, at + 1)
        return sorted(hits)
    pattern = re.compile("|".join(re.escape(p) for p in needles), re.IGNORECASE)
    return [m.start() for m in pattern.finditer(text)]


def _date_or_none(value: Any) -> datetime | None:
    """A stored date, or None when it cannot be read (an odd date must not lose the page)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _explain(exc: ValidationError, url: Any) -> str:
    where = f"source {url}" if isinstance(url, str) and url else "source"
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}" for err in exc.errors()
    )
    return f"{where} is not valid: {problems}"
