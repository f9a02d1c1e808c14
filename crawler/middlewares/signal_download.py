"""Downloading one signal document (robots.txt, an RSL licence, tdmrep.json, a sitemap) for the crawl.

Each document is fetched through Scrapy's own downloader (so the proxy,
politeness slots and download handlers apply) but outside the scheduler, with:

* redirects followed by hand, so that they can be counted (RFC 9309: at
  least five, then the file counts as unavailable);
* a byte cap enforced while the body streams in (``bytes_received`` +
  ``StopDownload``): robots.txt is read up to 500 KiB and the rest is never
  downloaded, rather than failing the whole fetch as ``DOWNLOAD_MAXSIZE`` would;
* its own short timeout, so that a hanging host costs seconds, not the crawl;
* no retries: a failed robots.txt is an outcome (disallow-all), not a reason
  to hammer the host.

Every fetch, good or bad, is written to the ledger as a signal snapshot and
its id travels with the pages it applied to. Scaled out, one worker fetches a
document and the others read its bytes from Redis (:func:`encode_fetched`).
What the documents mean for an origin is ``crawler.middlewares.signals``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from scrapy import Request, signals
from scrapy.exceptions import StopDownload
from scrapy.http.request import NO_CALLBACK

from crawler.faults import describe
from crawler.ledger.records import utc_now
from crawler.middlewares.decode import DECODED_TRUNCATED, MAX_BYTES_META
from crawler.origin_cache import cache_seconds, origin_of
from norms.model import SignalError
from norms.urls import normalize_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.scaleout import ScaleOut
    from crawler.session import CrawlSession

SIGNAL_META = "fairfetch_signal"  # marks our own signal requests: enforcement lets them through
_MAX_BYTES_META = MAX_BYTES_META  # also caps what crawler.middlewares.decode inflates
_SEEN_BYTES_META = "_fairfetch_bytes"
_PRIORITY = 1000  # signal documents jump the queue: pages are waiting for them
ROBOTS, RSL, TDMREP, SITEMAP = "robots.txt", "rsl", "tdmrep", "sitemap"


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


class DocumentDownloader:
    """Downloads signal documents for one crawl, once per crawl across workers when scaled out."""

    def __init__(self, crawler: Crawler, session: CrawlSession) -> None:
        self.crawler = crawler
        self.session = session
        crawler.signals.connect(self._cap_bytes, signal=signals.bytes_received)
        # Scale-out: documents are fetched once per crawl across all workers (crawler.scaleout).
        # Imported here, one way only: a crawl on one machine never imports Redis.
        self.shared: ScaleOut | None = None
        if crawler.settings.get("FAIRFETCH_REDIS_URL"):
            from crawler.scaleout import scaleout_for

            self.shared = scaleout_for(crawler)

    async def download(
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
        """The document at ``url``, recorded as a ``kind`` snapshot unless ``record`` is False."""

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
                target = normal_or_none(urljoin(current, location.decode("latin-1").strip()))
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


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def normal_or_none(url: str) -> str | None:
    """``url`` in RFC 3986 normal form, None when it is no valid URL."""
    try:
        return normalize_url(url)
    except SignalError:
        return None
