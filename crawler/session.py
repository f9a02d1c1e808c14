"""What one crawl shares across its components: identity, purposes, grants, ledger, tallies.

Scrapy builds middlewares, extensions, pipelines and the spider separately;
they all reach the same :class:`CrawlSession` through :func:`session_for`, so
the ledger is opened once and the summary counts every outcome exactly once.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.payment import Wallet
from norms.model import AI_USAGES, Grants, SignalError, Usage

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

    from crawler.ledger import Ledger

_ATTR = "_fairfetch_session"
CRAWL_ID_FILE = "fairfetch-crawl.json"


def parse_max_price(value: str | None) -> tuple[Decimal | None, str]:
    """``"USD 0.05"`` -> (Decimal("0.05"), "USD"). Raises SignalError on anything else."""
    if value is None or not str(value).strip():
        return None, "USD"
    parts = str(value).split()
    if len(parts) == 1:
        parts = ["USD", parts[0]]
    if len(parts) != 2 or not parts[0].isalpha():
        raise SignalError(f"price ceiling {value!r} is not of the form 'USD 0.05'")
    try:
        amount = Decimal(parts[1])
    except ArithmeticError as exc:
        raise SignalError(f"price ceiling {value!r} has no valid amount") from exc
    if not amount.is_finite() or amount < 0:
        raise SignalError(f"price ceiling {value!r} must be a non-negative amount")
    return amount, parts[0].upper()


def build_grants(max_price: str | None, license_tokens: dict[str, str], license_servers: Iterable[str] = (),
                 accepted_licenses: Iterable[str] = ()) -> Grants:
    """What the operator agreed to; ``license_servers`` are those it has OLP credentials for (no secrets)."""
    amount, currency = parse_max_price(max_price)
    return Grants(max_price=amount, currency=currency, license_tokens=dict(license_tokens),
                  license_credentials=frozenset(s.rstrip("/") for s in license_servers),
                  accepted_licenses=frozenset(accepted_licenses))


def crawl_id_for(jobdir: str | None, given: str | None) -> tuple[str, bool]:
    """The crawl id, and whether it resumes an earlier run.

    With a job directory the id is persisted there on first use, so a crawl
    resumed with the same ``--jobdir`` (even after ``kill -9``) continues the
    same ledger crawl instead of starting a second one.
    """
    if jobdir:
        path = Path(jobdir) / CRAWL_ID_FILE
        if path.exists():
            return str(json.loads(path.read_text(encoding="utf-8"))["crawl_id"]), True
        crawl_id = given or new_crawl_id()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"crawl_id": crawl_id}), encoding="utf-8")
        tmp.replace(path)  # atomic: a kill never leaves half a file
        return crawl_id, False
    return given or new_crawl_id(), False


def new_crawl_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]


@dataclass
class Summary:
    """The tallies the CLI prints at the end: what happened, in words."""

    fetched: int = 0
    stored: int = 0  # pages a declared purpose allows: stored with text (unless --no-extract)
    metadata_only: int = 0  # pages stored without text (no declared purpose allowed)
    refused: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    redirected: int = 0
    signals: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)  # URLs kept out by crawler.limits
    replayed: int = 0  # pages found already stored by an earlier run of this crawl
    not_sent: int = 0  # requests still waiting for their origin's turn when a stop signal came
    not_modified: int = 0  # conditional re-requests answered 304: the stored row kept
    unchanged: int = 0  # re-fetched pages whose body was byte-identical: stored text reused
    revoked: int = 0  # stored pages whose use newer signals revoked (crawler.recrawl)
    started: float = field(default_factory=time.monotonic)
    per_host: dict[str, Counter[str]] = field(default_factory=dict)  # host -> pages/refused/errors

    def note(self, url: str, what: str) -> None:
        """Count ``what`` (``pages``, ``refused``, ``errors``) for the host of ``url`` (progress per host)."""
        start = url.find("//") + 2
        end = len(url)
        for stop in "/?#":
            at = url.find(stop, start)
            if at != -1:
                end = min(end, at)
        host = url[start:end].rpartition("@")[2].lower()
        counts = self.per_host.get(host)
        if counts is None:
            counts = self.per_host[host] = Counter()
        counts[what] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched,
            "stored": self.stored,
            "metadata_only": self.metadata_only,
            "refused": sum(self.refused.values()),
            "refused_by_reason": dict(self.refused.most_common()),
            "errors": sum(self.errors.values()),
            "errors_by_kind": dict(self.errors.most_common()),
            "redirected": self.redirected,
            "dropped": sum(self.dropped.values()),
            "dropped_by_reason": dict(self.dropped.most_common()),
            "signal_fetches": dict(self.signals),
            "replayed": self.replayed,
            "not_sent_at_stop": self.not_sent,
            "not_modified": self.not_modified,
            "unchanged": self.unchanged,
            "revoked": self.revoked,
        }


@dataclass
class CrawlSession:
    crawl_id: str
    resumed: bool
    token: str
    user_agent: str
    purposes: tuple[Usage, ...]
    grants: Grants
    ledger: Ledger
    extract: bool
    follow_external: bool
    max_pages: int
    robots_timeout: float
    signal_timeout: float
    license_max_bytes: int
    tdmrep_max_bytes: int
    signal_ttl: float
    sitemaps: bool = True
    max_links: int = 500  # links followed per page (crawler.limits)
    max_url_length: int = 2083
    revocation: str = "newer-signal"  # crawler.recrawl.POLICIES: only ever stricter than the default
    stored_hosts: set[str] | None = None  # hosts the ledger held pages of when this run started
    summary: Summary = field(default_factory=Summary)
    wallet: Wallet = field(default_factory=lambda: Wallet(None, None, signing=False))
    license_credentials: dict[str, Any] = field(default_factory=dict)  # server -> crawler.licensing.Credentials
    # host -> the origin's sitemap footprint (norms.classify.SitemapStats), for host classification
    sitemap_stats: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    @property
    def wants_ai(self) -> bool:
        """TDMRep is only fetched when a declared purpose is an AI usage."""
        return any(p in AI_USAGES for p in self.purposes)

    def user_agent_for(self, tokens: tuple[str, ...]) -> str:
        """The User-Agent of a page request made for these purpose tokens (``fairfetch-ai/0.1.0 (+contact)``)."""
        if not tokens:
            return self.user_agent
        from crawler import __version__

        contact = self.user_agent.rsplit("(+", 1)[1].rstrip(")") if "(+" in self.user_agent else ""
        products = " ".join(f"{token}/{__version__}" for token in tokens)
        return f"{products} (+{contact})" if contact else products

    def pages_done(self) -> int:
        s = self.summary
        return s.stored + s.metadata_only + s.replayed + s.not_modified


def build_wallet(max_price: str | None, budget: str | None, signing: bool) -> Wallet:
    """The crawl's :class:`~crawler.payment.Wallet`: ceiling per request, budget per crawl, signing on or off."""
    ceiling, currency = parse_max_price(max_price)
    limit, budget_currency = parse_max_price(budget)
    if ceiling is not None and limit is not None and budget_currency != currency:
        raise SignalError(f"the budget ({budget_currency}) and the price ceiling ({currency}) differ in currency")
    return Wallet(
        (ceiling, currency) if ceiling is not None else None,
        (limit, budget_currency) if limit is not None else None,
        signing=signing,
    )


def session_from_settings(settings: BaseSettings) -> CrawlSession:
    from crawler.jobdir import resolve_crawl
    from crawler.ledger import DEFAULT_DB_URL, Ledger
    from crawler.recrawl import check_policy

    purposes = tuple(Usage(p) for p in settings.getlist("FAIRFETCH_PURPOSES") or ["ai-input"])
    tokens = settings.getdict("FAIRFETCH_LICENSE_TOKENS")
    # crawler.licensing.Credentials objects (their repr hides the secret), never written anywhere
    credentials = dict(settings.getdict("FAIRFETCH_LICENSE_CREDENTIALS"))
    ledger = Ledger(settings.get("FAIRFETCH_DB") or DEFAULT_DB_URL)
    resumed_setting = settings.get("FAIRFETCH_RESUMED")
    if resumed_setting is not None:  # decided by `fairfetch crawl` before Scrapy started
        crawl_id, resumed = settings.get("FAIRFETCH_CRAWL_ID"), settings.getbool("FAIRFETCH_RESUMED")
    elif settings.get("FAIRFETCH_JOBDIR"):
        crawl_id, resumed = resolve_crawl(
            settings.get("FAIRFETCH_JOBDIR"), settings.get("FAIRFETCH_CRAWL_ID"),
            seeds=settings.getlist("FAIRFETCH_SEEDS") or None, purposes=[p.value for p in purposes],
            ledger=ledger, new_id=new_crawl_id,
        )
    else:
        crawl_id, resumed = crawl_id_for(None, settings.get("FAIRFETCH_CRAWL_ID"))
    return CrawlSession(
        crawl_id=crawl_id,
        resumed=resumed,
        token=settings.get("FAIRFETCH_TOKEN"),
        user_agent=settings.get("USER_AGENT"),
        purposes=purposes,
        grants=build_grants(settings.get("FAIRFETCH_MAX_PRICE"), {str(k): str(v) for k, v in tokens.items()},
                            credentials, settings.getlist("FAIRFETCH_ACCEPT_LICENSES")),
        license_credentials=credentials,
        ledger=ledger,
        extract=settings.getbool("FAIRFETCH_EXTRACT", True),
        follow_external=settings.getbool("FAIRFETCH_FOLLOW_EXTERNAL"),
        max_pages=settings.getint("FAIRFETCH_MAX_PAGES"),
        robots_timeout=settings.getfloat("FAIRFETCH_ROBOTS_TIMEOUT"),
        signal_timeout=settings.getfloat("FAIRFETCH_SIGNAL_TIMEOUT"),
        license_max_bytes=settings.getint("FAIRFETCH_LICENSE_MAX_BYTES"),
        tdmrep_max_bytes=settings.getint("FAIRFETCH_TDMREP_MAX_BYTES"),
        signal_ttl=settings.getfloat("FAIRFETCH_SIGNAL_TTL"),
        sitemaps=settings.getbool("FAIRFETCH_SITEMAPS", True),
        wallet=build_wallet(settings.get("FAIRFETCH_MAX_PRICE"), settings.get("FAIRFETCH_BUDGET"),
                            signing=bool(settings.get("FAIRFETCH_SIGNING_KEY"))),
        max_links=settings.getint("FAIRFETCH_MAX_LINKS", 500),
        max_url_length=settings.getint("FAIRFETCH_MAX_URL_LENGTH", 2083),
        revocation=check_policy(settings.get("FAIRFETCH_REVOCATION") or "newer-signal"),
    )


def current_session(crawler: Crawler) -> CrawlSession | None:
    """The session if the crawl has created it already (for progress and the summary)."""
    session: CrawlSession | None = getattr(crawler, _ATTR, None)
    return session


def session_for(crawler: Crawler) -> CrawlSession:
    """The crawl's one session, created on first use from the crawler's settings."""
    session: CrawlSession | None = getattr(crawler, _ATTR, None)
    if session is None:
        session = session_from_settings(crawler.settings)
        setattr(crawler, _ATTR, session)
    return session
