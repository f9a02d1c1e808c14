"""What an origin's signal documents say: robots.txt, its RSL licences, tdmrep.json, once per origin.

``SignalFetcher`` reads an origin's documents in the order that keeps every
request permitted: robots.txt first (its Crawl-delay floor is in place before
the next request, and an origin that asks for a floor this crawl will not
wait gets nothing more fetched), then the licences it names, then
tdmrep.json where robots.txt allows it. Each kind of document is kept on its
own clock and read again when due (``crawler.recrawl``), and what earlier
runs stored of the origin is judged again under the new signals.

How one document is downloaded (redirects, byte caps, the ledger snapshot,
sharing between scaled-out workers) is ``crawler.middlewares.signal_download``;
the sitemap read for host classification is ``crawler.middlewares.sitemap_reads``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from crawler.faults import NETWORK
from crawler.middlewares.politeness import (
    MAX_FLOOR,
    apply_floor,
    origin_floor,
    release_turn,
    too_slow,
)
from crawler.middlewares.signal_download import (
    ROBOTS,
    RSL,
    SIGNAL_META,
    TDMREP,
    DocumentDownloader,
    Fetched,
)
from crawler.middlewares.sitemap_reads import SitemapReads
from crawler.origin_cache import OriginSignals, SingleFlight, clamp_ttl, origin_of, rsl_ttl
from crawler.recrawl import revisit
from norms.model import LicenseRef, SignalError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.session import CrawlSession
    from norms.rsl import LicenseSource
    from norms.tdmrep import TdmRepFile

# SIGNAL_META: crawler.middlewares.enforce imports it from here with SignalFetcher.
__all__ = ["SIGNAL_META", "TDMREP_PATH", "SignalFetcher", "license_from_document"]

logger = logging.getLogger(__name__)

TDMREP_PATH = "/.well-known/tdmrep.json"


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
        self.downloader = DocumentDownloader(crawler, session)
        self.sitemaps = SitemapReads(crawler, session, self.downloader)

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
        doc = await self.downloader.download(
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
            self.sitemaps.due(origin, robots)
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
        """Count an answered page of ``origin`` (its sitemap read waits for the first few)."""
        self.sitemaps.page_answered(origin)

    async def _tdmrep(self, origin: str) -> tuple[TdmRepFile | None, int | None, str | None, float | None]:
        from norms.tdmrep import parse_tdmrep_json

        url = f"{origin}{TDMREP_PATH}"
        doc = await self.downloader.download(
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
        doc = await self.downloader.download(
            url,
            kind=RSL,
            origin=origin_of(url),
            timeout=self.session.signal_timeout,
            max_bytes=self.session.license_max_bytes,
        )
        usable = doc.status == 200 and doc.body is not None and not doc.truncated
        return replace(doc, ttl=rsl_ttl(doc.body if usable else None, doc.url, self.session.signal_ttl))


def _origin_or_none(url: str) -> str | None:
    """The origin of a URL a publisher wrote (robots.txt License/Sitemap), None when it is not a URL."""
    try:
        return origin_of(url)
    except ValueError:
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
