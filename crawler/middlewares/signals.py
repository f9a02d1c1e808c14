"""Fetching the signal documents an origin publishes: robots.txt, RSL licences, tdmrep.json.

Each document is fetched through Scrapy's own downloader (so the proxy,
politeness slots and download handlers apply) but outside the scheduler, once
per origin (or per licence URL) and crawl, with:

* redirects followed by hand, so that they can be counted (RFC 9309: at
  least five, then the file counts as unavailable);
* a byte cap enforced while the body streams in (``bytes_received`` +
  ``StopDownload``): robots.txt is read up to 500 KiB and the rest is never
  downloaded, rather than failing the whole fetch as ``DOWNLOAD_MAXSIZE`` would;
* its own short timeout, so that a hanging host costs seconds, not the crawl;
* no retries: a failed robots.txt is an outcome (disallow-all), not a reason
  to hammer the host.

Every fetch, good or bad, is written to the ledger as a signal snapshot and
its id travels with the pages it applied to.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, StopDownload
from scrapy.http.request import NO_CALLBACK

from crawler.faults import NETWORK, describe
from crawler.ledger.records import utc_now
from crawler.limits import too_long
from crawler.middlewares.decode import DECODED_TRUNCATED, MAX_BYTES_META
from crawler.middlewares.politeness import (
    MAX_FLOOR,
    apply_floor,
    origin_floor,
    release_turn,
    too_slow,
)
from crawler.origin_cache import (
    OriginSignals,
    SingleFlight,
    cache_seconds,
    clamp_ttl,
    origin_of,
    rsl_ttl,
)
from crawler.recrawl import revisit
from norms.model import LicenseRef, SignalError
from norms.urls import normalize_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.scaleout import ScaleOut
    from crawler.session import CrawlSession
    from norms.classify import SitemapStats
    from norms.robots import RobotsTxt
    from norms.rsl import LicenseSource
    from norms.tdmrep import TdmRepFile

logger = logging.getLogger(__name__)

SIGNAL_META = "fairfetch_signal"  # marks our own signal requests: enforcement lets them through
_MAX_BYTES_META = MAX_BYTES_META  # also caps what crawler.middlewares.decode inflates
_SEEN_BYTES_META = "_fairfetch_bytes"
_PRIORITY = 1000  # signal documents jump the queue: pages are waiting for them
ROBOTS, RSL, TDMREP, SITEMAP = "robots.txt", "rsl", "tdmrep", "sitemap"
TDMREP_PATH = "/.well-known/tdmrep.json"
# The sitemap is read once this many pages of the origin are answered (or when the
# crawl goes idle): read earlier, it took a turn of the slot's slow start from the pages.
SITEMAP_AFTER_PAGES = 4


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of fetching one signal document, as ``robots_from_fetch`` wants it."""

    url: str
    final_url: str
    status: int | None
    body: bytes | None
    error: str | None
    redirects: int
    truncated: bool
    signal_id: int | None = None
    max_age: float | None = None  # from the response's Cache-Control / Expires, seconds
    ttl: float | None = None  # how long this document is reused (None: the crawl's signal TTL)


def encode_fetched(doc: Fetched) -> dict[str, bytes]:
    """``doc`` as the Redis hash a scaled-out crawl shares it in (``crawler.scaleout``)."""
    meta = {
        "url": doc.url,
        "final_url": doc.final_url,
        "status": doc.status,
        "error": doc.error,
        "redirects": doc.redirects,
        "truncated": doc.truncated,
        "signal_id": doc.signal_id,
        "has_body": doc.body is not None,
        "max_age": doc.max_age,  # the document's own clock (crawler.recrawl) travels with it
        "ttl": doc.ttl,
    }
    return {"meta": json.dumps(meta).encode(), "body": doc.body or b""}


def decode_fetched(raw: Mapping[bytes, bytes]) -> Fetched:
    """The document :func:`encode_fetched` stored; ScaleOutError if the hash is not one of ours."""
    from crawler.crawlkeys import ScaleOutError

    try:
        meta = json.loads(raw[b"meta"])
        body = raw.get(b"body", b"")
        doc = Fetched(
            url=str(meta["url"]),
            final_url=str(meta["final_url"]),
            status=None if meta["status"] is None else int(meta["status"]),
            body=bytes(body) if meta["has_body"] else None,
            error=None if meta["error"] is None else str(meta["error"]),
            redirects=int(meta["redirects"]),
            truncated=bool(meta["truncated"]),
            signal_id=None if meta["signal_id"] is None else int(meta["signal_id"]),
            max_age=None if meta.get("max_age") is None else float(meta["max_age"]),
            ttl=None if meta.get("ttl") is None else float(meta["ttl"]),
        )
    except (KeyError, TypeError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ScaleOutError(f"a shared signal document in Redis is not one fairfetch wrote ({exc!r})") from exc
    return doc


def describe_error(exc: BaseException) -> str:
    """A short, stable phrase for a download failure (``timeout``, ``dns``, ...) plus its message."""
    kind, text = describe(exc)
    return f"{kind}: {text}"[:300]


class SignalFetcher:
    """Fetches and caches the signal documents of origins and licence URLs for one crawl."""

    def __init__(self, crawler: Crawler, session: CrawlSession) -> None:
        self.crawler = crawler
        self.session = session
        # Each kind of document on its own clock (crawler.recrawl): robots.txt at most every
        # signal_ttl (24 h), tdmrep.json per its cache headers, RSL per its max-age, all
        # within [MIN_SIGNAL_TTL, signal_ttl]. An origin's signals are read again when the
        # first of its documents is due.
        self.origins: SingleFlight[str, OriginSignals] = SingleFlight(
            self._fetch_origin, ttl=session.signal_ttl, ttl_of=lambda o: o.ttl
        )
        self._documents: SingleFlight[str, Fetched] = SingleFlight(
            self._fetch_license_document, ttl=session.signal_ttl, ttl_of=lambda d: d.ttl
        )
        self._background: set[asyncio.Future[None]] = set()  # sitemap reads in flight
        self._sitemaps_due: dict[str, RobotsTxt] = {}  # origins whose sitemap read waits for pages
        self._answered: dict[str, int] = {}  # answered pages per origin, until its sitemap read starts
        crawler.signals.connect(self._start_due_sitemaps, signal=signals.spider_idle)
        crawler.signals.connect(self._cap_bytes, signal=signals.bytes_received)
        # Scale-out: documents are fetched once per crawl across all workers (crawler.scaleout).
        # Imported here, one way only: crawler.scaleout never imports this module, and a
        # crawl on one machine never imports Redis.
        self.shared: ScaleOut | None = None
        if crawler.settings.get("FAIRFETCH_REDIS_URL"):
            from crawler.scaleout import scaleout_for

            self.shared = scaleout_for(crawler)

    # --- public ----------------------------------------------------------------

    async def for_url(self, url: str) -> OriginSignals:
        return await self.origins.get(origin_of(url))

    async def license(self, ref: LicenseRef) -> tuple[LicenseSource, int | None]:
        """The licence ``ref`` points at (fetched once per crawl per URL) and its snapshot id."""
        if ref.inline is not None:
            return _license_from_body(ref, ref.inline), None
        doc = await self._documents.get(ref.url)
        return license_from_document(ref, doc.status, doc.body, doc.error, doc.truncated), doc.signal_id

    async def license_body(self, url: str) -> bytes | None:
        """A licence document's bytes as fetched (the cached copy): OLP sends its ``<license>`` element."""
        return (await self._documents.get(url)).body

    # --- per origin --------------------------------------------------------------

    async def _fetch_origin(self, origin: str) -> OriginSignals:
        from norms.robots import MAX_REDIRECTS, ROBOTS_MAX_BYTES, robots_from_fetch

        robots_url = f"{origin}/robots.txt"
        doc = await self._download(
            robots_url,
            kind=ROBOTS,
            origin=origin,
            timeout=self.session.robots_timeout,
            max_bytes=ROBOTS_MAX_BYTES,
            max_redirects=MAX_REDIRECTS,
        )
        notes: list[str] = []
        kind = (doc.error or "").partition(":")[0]
        failure = kind if kind in NETWORK else None
        if doc.error is not None:
            notes.append(f"robots.txt unreachable ({doc.error}): everything disallowed")
        elif doc.status is not None and doc.status >= 500:
            notes.append(f"robots.txt answered HTTP {doc.status}: everything disallowed")
        elif doc.redirects > MAX_REDIRECTS:
            notes.append(f"robots.txt redirected more than {MAX_REDIRECTS} times")
        if doc.truncated:
            # norms reads the first ROBOTS_MAX_BYTES and drops the line cut in two (RFC 9309 2.5).
            notes.append(f"robots.txt larger than {ROBOTS_MAX_BYTES} bytes (decoded): truncated, "
                         "rules after the cap ignored")
        robots = robots_from_fetch(
            status=doc.status,
            body=doc.body,
            redirects=doc.redirects,
            error=doc.error,
            source_url=robots_url,
        )
        # The floor must be in place before the next request to this origin
        # (tdmrep.json, licences on the same host, the first page).
        floor = origin_floor(robots, self.session.token)
        apply_floor(self.crawler, origin, min(floor, MAX_FLOOR))
        release_turn(self.crawler, origin)
        ids = [doc.signal_id] if doc.signal_id is not None else []
        if too_slow(floor):
            # No page of this origin will be requested: fetch nothing more from it.
            notes.append(f"robots.txt asks for {floor:g} s between requests: origin not crawled")
            return OriginSignals(
                origin=origin,
                robots=robots,
                licenses=(),
                tdmrep=None,
                signal_ids=tuple(ids),
                notes=tuple(notes),
                failure=failure,
            )

        licenses: list[LicenseSource] = []
        for ref in robots.licenses(self.session.token):
            if _origin_or_none(ref.url) is None:
                # A declared licence that cannot be fetched: the content is unlicensed, never "no licence".
                licenses.append(_failed(ref, f"the licence URL {ref.url[:200]!r} is not a URL"))
                continue
            if origin_of(ref.url) == origin and not robots.allowed(ref.url, self.session.token):
                licenses.append(_failed(ref, "the licence document is disallowed by the origin's robots.txt"))
                continue
            source, sid = await self.license(ref)
            release_turn(self.crawler, origin)
            licenses.append(source)
            if sid is not None:
                ids.append(sid)

        tdmrep: TdmRepFile | None = None
        ttl = self.session.signal_ttl
        if self.session.wants_ai and robots.allowed(f"{origin}{TDMREP_PATH}", self.session.token):
            # robots.txt governs every request to the origin, ours included: an
            # origin that disallows everything gets nothing but its robots.txt fetched.
            tdmrep, sid, note, tdmrep_age = await self._tdmrep(origin)
            ttl = clamp_ttl(tdmrep_age, ttl)
            release_turn(self.crawler, origin)
            if sid is not None:
                ids.append(sid)
            if note:
                notes.append(note)
        if self.session.sitemaps:
            # Only host classification needs it, at the end: read after the first pages.
            self._sitemaps_due[origin] = robots
        for note in notes:
            logger.info("%s: %s", origin, note)
        signals = OriginSignals(
            origin=origin,
            robots=robots,
            licenses=tuple(licenses),
            tdmrep=tdmrep,
            signal_ids=tuple(dict.fromkeys(ids)),
            notes=tuple(notes),
            failure=failure,
            ttl=ttl,
        )
        # What earlier runs stored of this origin is judged again under these signals (crawler.recrawl).
        await revisit(self.session, signals, unreachable=doc.error is not None or (doc.status or 0) >= 500)
        return signals

    def page_answered(self, origin: str) -> None:
        """Count an answered page of ``origin``; its sitemap read starts after ``SITEMAP_AFTER_PAGES``."""
        if origin not in self._sitemaps_due:
            return
        answered = self._answered[origin] = self._answered.get(origin, 0) + 1
        if answered >= SITEMAP_AFTER_PAGES:
            self._start_sitemaps(origin)

    def _start_sitemaps(self, origin: str) -> None:
        robots = self._sitemaps_due.pop(origin, None)
        self._answered.pop(origin, None)
        if robots is None:
            return
        task = asyncio.ensure_future(self._collect_sitemaps(origin, robots))
        self._background.add(task)
        task.add_done_callback(self._sitemap_done)

    def _sitemap_done(self, task: asyncio.Future[None]) -> None:
        self._background.discard(task)
        if not self._background:
            # A crawl kept open for these reads looks again at once, not at the next heartbeat.
            slot = getattr(self.crawler.engine, "_slot", None)
            if slot is not None:
                slot.nextcall.schedule()

    def _start_due_sitemaps(self) -> None:
        """spider_idle: read the sitemaps still waiting for pages; the crawl stays open until they are in."""
        for origin in list(self._sitemaps_due):
            self._start_sitemaps(origin)
        if self._background:
            raise DontCloseSpider

    async def _collect_sitemaps(self, origin: str, robots: RobotsTxt) -> None:
        try:
            stats = await self._sitemaps(origin, robots)
        except Exception:  # classification loses one input; the crawl must not notice
            logger.exception("reading the sitemaps of %s failed", origin)
            return
        if stats:
            self.session.sitemap_stats[urlsplit(origin).hostname or origin] = stats

    async def _sitemaps(self, origin: str, robots: RobotsTxt) -> tuple[SitemapStats, ...]:
        """The origin's sitemap footprint: its first own sitemap and, for an index, one child.

        Source classification tells a platform of millions of templated pages
        from a small canonical site by it. Two capped requests at most, only on
        the origin itself and only where robots.txt allows them.
        """
        from norms.classify import sitemap_stats
        from norms.classify.footprint import MAX_BYTES

        # Sitemap URLs (from robots.txt, and an index's children) are decided
        # and requested in normal form, like page URLs; each redirect hop too.
        own = [u for u in map(_normal, robots.sitemaps) if u is not None and origin_of(u) == origin]
        stats: list[SitemapStats] = []
        url = own[0] if own else None

        def permitted(target: str) -> bool:
            return origin_of(target) == origin and robots.allowed(target, self.session.token)

        while url is not None and len(stats) < 2:
            if not permitted(url):
                break
            doc = await self._download(url, kind=SITEMAP, origin=origin,
                                       timeout=self.session.signal_timeout, max_bytes=MAX_BYTES, record=False,
                                       hop_allowed=permitted)
            if doc.error is not None or doc.status != 200 or not doc.body:
                break
            try:
                found = sitemap_stats(doc.body, url=url)
            except SignalError as exc:
                logger.info("%s: sitemap %s unreadable: %s", origin, url, exc)
                break
            stats.append(found)
            url = _normal(found.children[0]) if found.children else None
            if url is not None and too_long(self.session, url, "sitemap child"):
                break
        return tuple(stats)

    async def _tdmrep(self, origin: str) -> tuple[TdmRepFile | None, int | None, str | None, float | None]:
        from norms.tdmrep import parse_tdmrep_json

        url = f"{origin}{TDMREP_PATH}"
        doc = await self._download(
            url,
            kind=TDMREP,
            origin=origin,
            timeout=self.session.signal_timeout,
            max_bytes=self.session.tdmrep_max_bytes,
        )
        if doc.error is not None or doc.status != 200 or doc.body is None:
            # 404 is the common case: the origin reserves nothing through the file.
            return None, doc.signal_id, None, doc.max_age
        if doc.truncated:
            return None, doc.signal_id, "tdmrep.json larger than the size limit: ignored", doc.max_age
        try:
            return parse_tdmrep_json(doc.body, source_url=url), doc.signal_id, None, doc.max_age
        except SignalError as exc:
            return None, doc.signal_id, f"tdmrep.json unreadable: {exc}", doc.max_age

    async def _fetch_license_document(self, url: str) -> Fetched:
        doc = await self._download(
            url,
            kind=RSL,
            origin=origin_of(url),
            timeout=self.session.signal_timeout,
            max_bytes=self.session.license_max_bytes,
        )
        usable = doc.status == 200 and doc.body is not None and not doc.truncated
        return replace(doc, ttl=rsl_ttl(doc.body if usable else None, doc.url, self.session.signal_ttl))

    # --- one document --------------------------------------------------------------

    async def _download(
        self,
        url: str,
        *,
        kind: str,
        origin: str,
        timeout: float,
        max_bytes: int,
        max_redirects: int = 5,
        record: bool = True,
        hop_allowed: Callable[[str], bool] | None = None,
    ) -> Fetched:
        async def here() -> Fetched:
            return await self._download_here(url, kind=kind, origin=origin, timeout=timeout,
                                             max_bytes=max_bytes, max_redirects=max_redirects, record=record,
                                             hop_allowed=hop_allowed)

        if self.shared is not None:
            # Another worker may have it already; the parsed objects are rebuilt from these bytes.
            return await self.shared.fetch_once(kind, url, here, encode=encode_fetched, decode=decode_fetched)
        return await here()

    async def _download_here(
        self,
        url: str,
        *,
        kind: str,
        origin: str,
        timeout: float,
        max_bytes: int,
        max_redirects: int,
        record: bool,
        hop_allowed: Callable[[str], bool] | None = None,
    ) -> Fetched:
        current = url
        redirects = 0
        status: int | None = None
        body: bytes | None = None
        error: str | None = None
        truncated = False
        max_age: float | None = None
        while True:
            request = Request(
                current,
                callback=NO_CALLBACK,
                priority=_PRIORITY,
                dont_filter=True,
                meta={
                    SIGNAL_META: kind,
                    "dont_redirect": True,
                    "dont_retry": True,
                    "handle_httpstatus_all": True,
                    "download_timeout": timeout,
                    "download_maxsize": 0,  # the byte cap below truncates instead of failing
                    _MAX_BYTES_META: max_bytes,
                    "download_slot": origin_of(current),
                },
            )
            try:
                response: Response = await self.crawler.engine.download_async(request)
            except Exception as exc:
                error = describe_error(exc)
                break
            status = response.status
            location = response.headers.get(b"Location")
            if 300 <= status < 400 and location:
                redirects += 1
                if redirects > max_redirects:
                    break
                target = _normal(urljoin(current, location.decode("latin-1").strip()))
                if target is None:
                    error = f"protocol: redirect to an invalid URL {location[:200]!r}"
                    break
                if hop_allowed is not None and not hop_allowed(target):
                    error = f"redirect to {target[:200]} which robots.txt does not permit"
                    break
                current = target
                continue
            body = response.body[:max_bytes]
            truncated = (len(response.body) >= max_bytes or "download_stopped" in response.flags
                         or DECODED_TRUNCATED in response.flags)
            max_age = cache_seconds(_header(response, b"Cache-Control"), _header(response, b"Expires"),
                                    _header(response, b"Date"))
            break
        self.session.summary.signals[kind] += 1
        if not record:  # a sitemap is no usage signal: counted, not kept as a snapshot
            return Fetched(url, current, status, body, error, redirects, truncated, max_age=max_age)
        signal_id = self.session.ledger.record_signal(
            crawl_id=self.session.crawl_id,
            origin=origin,
            kind=kind,
            url=url,
            status=status,
            body=body,
            error=error,
            fetched_at=utc_now(),
            truncated=truncated,
        )
        return Fetched(url, current, status, body, error, redirects, truncated, signal_id, max_age=max_age)

    def _cap_bytes(self, data: bytes, request: Request, **_: Any) -> None:
        cap = request.meta.get(_MAX_BYTES_META)
        if not cap:
            return
        seen = request.meta.get(_SEEN_BYTES_META, 0) + len(data)
        request.meta[_SEEN_BYTES_META] = seen
        if seen >= cap:
            raise StopDownload(fail=False)


def _origin_or_none(url: str) -> str | None:
    """The origin of a URL a publisher wrote (robots.txt License/Sitemap), None when it is not a URL."""
    try:
        return origin_of(url)
    except ValueError:
        return None


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _normal(url: str) -> str | None:
    """``url`` in RFC 3986 normal form, None when it is no valid URL."""
    try:
        return normalize_url(url)
    except SignalError:
        return None


def _failed(ref: LicenseRef, error: str) -> LicenseSource:
    from norms.rsl import LicenseSource

    return LicenseSource.failed(ref, error)


def license_from_document(
    ref: LicenseRef, status: int | None, body: str | bytes | None, error: str | None, truncated: bool
) -> LicenseSource:
    """The licence a fetched RSL document means: unreadable (so unlicensed) unless a complete 200."""
    from norms.rsl import LicenseSource

    if error is not None:
        return LicenseSource.failed(ref, error)
    if status != 200 or body is None:
        return LicenseSource.failed(ref, f"HTTP {status} for the licence document")
    if truncated:
        return LicenseSource.failed(ref, "licence document larger than the size limit")
    return _license_from_body(ref, body)


def _license_from_body(ref: LicenseRef, body: str | bytes) -> LicenseSource:
    from norms.rsl import LicenseSource

    try:
        return LicenseSource.from_body(ref, body)
    except SignalError as exc:
        return LicenseSource.failed(ref, str(exc))
