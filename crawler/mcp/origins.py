"""The signal documents of an origin (robots.txt, its RSL licences, tdmrep.json), as the crawler reads them.

Same sequence and outcomes as ``crawler.middlewares.signals.SignalFetcher``:
robots.txt first (500 KiB cap, redirects counted by hand, its own timeout,
no retry; RFC 9309 outcomes through ``norms.robots.robots_from_fetch``, so a
5xx, a timeout or a redirect loop disallows everything), then the licences
robots.txt names for our token (not those robots.txt disallows), then
``/.well-known/tdmrep.json`` when robots.txt allows it (a crawl reads it
only for AI purposes; here each call may name another purpose). An origin asking for more than ``MAX_FLOOR`` seconds between
requests gets nothing but its robots.txt fetched. Each document is fetched
once per origin and reused for at most ``signal_ttl`` (24 h), and every
fetch is a signal snapshot in the ledger. Every request waits its turn
under the origin's Crawl-delay (``crawler.mcp.pacing``).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import anyio

from crawler.mcp.config import Initiated, ServerConfig
from crawler.mcp.fetcher import HttpFetcher
from crawler.mcp.pacing import OriginPacer
from crawler.mcp.recorder import Recorder
from crawler.middlewares.politeness import origin_floor, too_slow
from crawler.middlewares.signal_download import ROBOTS, RSL, TDMREP, Fetched
from crawler.middlewares.signals import TDMREP_PATH, license_from_document
from crawler.origin_cache import OriginSignals, SingleFlight, origin_of
from norms.model import LicenseRef, SignalError

if TYPE_CHECKING:
    from norms.rsl import LicenseSource
    from norms.tdmrep import TdmRepFile

# Who caused the fetch in progress: signal snapshots are recorded under that crawl.
initiated_by: ContextVar[Initiated] = ContextVar("fairfetch_mcp_initiated", default="agent")


class OriginDocs:
    def __init__(self, config: ServerConfig, http: HttpFetcher, pacer: OriginPacer, recorder: Recorder) -> None:
        self.config = config
        self.http = http
        self.pacer = pacer
        self.recorder = recorder
        ttl = config.limits.signal_ttl
        self.origins: SingleFlight[str, OriginSignals] = SingleFlight(self._fetch_origin, ttl=ttl)
        self._documents: SingleFlight[str, Fetched] = SingleFlight(self._fetch_license, ttl=ttl)

    async def for_url(self, url: str) -> OriginSignals:
        return await self.origins.get(origin_of(url))

    async def license(self, ref: LicenseRef) -> tuple[LicenseSource, int | None]:
        """The licence ``ref`` points at (fetched once per URL and TTL) and its snapshot id."""
        if ref.inline is not None:
            return license_from_document(ref, 200, ref.inline, None, False), None
        doc = await self._documents.get(ref.url)
        return license_from_document(ref, doc.status, doc.body, doc.error, doc.truncated), doc.signal_id

    # --- per origin --------------------------------------------------------------

    async def _fetch_origin(self, origin: str) -> OriginSignals:
        from norms.robots import MAX_REDIRECTS, ROBOTS_MAX_BYTES, robots_from_fetch

        limits = self.config.limits
        robots_url = f"{origin}/robots.txt"
        doc = await self._download(robots_url, kind=ROBOTS, timeout=limits.robots_timeout,
                                   max_bytes=ROBOTS_MAX_BYTES, max_redirects=MAX_REDIRECTS)
        notes: list[str] = []
        if doc.error is not None:
            notes.append(f"robots.txt unreachable ({doc.error}): everything disallowed")
        elif doc.status is not None and doc.status >= 500:
            notes.append(f"robots.txt answered HTTP {doc.status}: everything disallowed")
        robots = robots_from_fetch(status=doc.status, body=doc.body, redirects=doc.redirects,
                                   error=doc.error, source_url=robots_url)
        token = self.config.token
        floor = origin_floor(robots, token)
        self.pacer.set_floor(origin, floor)
        ids = [doc.signal_id] if doc.signal_id is not None else []
        if too_slow(floor):
            notes.append(f"robots.txt asks for {floor:g} s between requests: origin not fetched")
            return OriginSignals(origin=origin, robots=robots, signal_ids=tuple(ids), notes=tuple(notes))
        licenses: list[LicenseSource] = []
        for ref in robots.licenses(token):
            if origin_of(ref.url) == origin and not robots.allowed(ref.url, token):
                from norms.rsl import LicenseSource

                licenses.append(LicenseSource.failed(
                    ref, "the licence document is disallowed by the origin's robots.txt"))
                continue
            source, sid = await self.license(ref)
            licenses.append(source)
            if sid is not None:
                ids.append(sid)
        tdmrep: TdmRepFile | None = None
        # Unlike a crawl, whose purposes are fixed, each call may name its purpose: the file is read
        # whenever robots.txt allows it, so an AI purpose asked for later is never decided without it.
        if robots.allowed(f"{origin}{TDMREP_PATH}", token):
            tdmrep, sid, note = await self._tdmrep(origin)
            if sid is not None:
                ids.append(sid)
            if note:
                notes.append(note)
        return OriginSignals(origin=origin, robots=robots, licenses=tuple(licenses), tdmrep=tdmrep,
                             signal_ids=tuple(dict.fromkeys(ids)), notes=tuple(notes))

    async def _tdmrep(self, origin: str) -> tuple[TdmRepFile | None, int | None, str | None]:
        from norms.tdmrep import parse_tdmrep_json

        url = f"{origin}{TDMREP_PATH}"
        limits = self.config.limits
        doc = await self._download(url, kind=TDMREP, timeout=limits.signal_timeout,
                                   max_bytes=limits.tdmrep_max_bytes)
        if doc.error is not None or doc.status != 200 or doc.body is None:
            return None, doc.signal_id, None  # 404 is the common case: nothing reserved by the file
        if doc.truncated:
            return None, doc.signal_id, "tdmrep.json larger than the size limit: ignored"
        try:
            return parse_tdmrep_json(doc.body, source_url=url), doc.signal_id, None
        except SignalError as exc:
            return None, doc.signal_id, f"tdmrep.json unreadable: {exc}"

    async def _fetch_license(self, url: str) -> Fetched:
        limits = self.config.limits
        return await self._download(url, kind=RSL, timeout=limits.signal_timeout,
                                    max_bytes=limits.license_max_bytes)

    # --- one document --------------------------------------------------------------

    async def _download(self, url: str, *, kind: str, timeout: float, max_bytes: int,
                        max_redirects: int = 5) -> Fetched:
        """Fetch one signal document, redirects followed by hand and counted; recorded as a snapshot."""
        current = url
        redirects = 0
        status: int | None = None
        body: bytes | None = None
        error: str | None = None
        truncated = False
        user_agent = self.config.user_agent(initiated_by.get())
        while True:
            # Part of the origin's set-up, once a day: waits out the whole Crawl-delay (<= MAX_FLOOR).
            async with self.pacer.turn(origin_of(current), patient=True):
                answer = await self.http.get(current, timeout=timeout, max_bytes=max_bytes,
                                             user_agent=user_agent)
            status = answer.status
            if answer.error is not None:
                error = answer.error[:300]
                break
            location = answer.header("location")
            if status is not None and 300 <= status < 400 and location:
                redirects += 1
                if redirects > max_redirects:
                    break
                current = urljoin(current, location.strip())
                continue
            body, truncated = answer.body, answer.truncated
            break
        initiated = initiated_by.get()
        signal_id = await anyio.to_thread.run_sync(lambda: self.recorder.signal(
            initiated, origin=origin_of(url), kind=kind, url=url, status=status, body=body, error=error))
        return Fetched(url, current, status, body, error, redirects, truncated, signal_id)
