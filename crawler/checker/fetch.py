"""Fetching what a site publishes, one capped request at a time, every hop through the guard.

Each fetch has one time budget (never past the whole check's deadline) that
covers resolving, connecting, the headers and the body together, reads
the body as a stream and stops at its byte cap (the rest is never
downloaded), and follows redirects by hand, at most ``MAX_REDIRECTS``, so the
guard checks every hop: a public page cannot redirect the checker to
``http://127.0.0.1/``. Without a proxy the connection goes to the address the
guard checked, with the name in ``Host`` and as the TLS server name (SNI and
certificate check), so DNS cannot answer differently the second time.

Proxies come from the standard environment (``http_proxy``, ``https_proxy``,
``all_proxy``, ``no_proxy``), read here rather than by httpx so the guard
knows whether a proxy will connect.
"""

from __future__ import annotations

import ssl
import time
import urllib.request
from dataclasses import dataclass, field
from functools import cache, partial
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit, urlunsplit

import anyio
import anyio.to_thread
import certifi
import httpx

from crawler.checker.guard import Refused, Target, Unresolvable, guard

if TYPE_CHECKING:
    from crawler.identity.signing import RequestSigner

MAX_REDIRECTS = 5
USER_AGENT = "fairfetch-checker/1.0 (+https://github.com/fairfetch/fairfetch)"


@dataclass(frozen=True, slots=True)
class Limits:
    """How much one check may cost: per request, in bytes, and in total."""

    timeout: float = 10.0  # seconds per request
    deadline: float = 30.0  # seconds for the whole check
    max_bytes: int = 2 * 1024 * 1024  # per page (signal documents have their own, smaller caps)
    allow_private: bool = False
    signer: RequestSigner | None = None  # Web Bot Auth: sign every request (crawler.identity)


@dataclass(frozen=True, slots=True)
class Fetched:
    """What one fetch gave: the final status, headers and (capped) body, or the error that stopped it."""

    url: str
    final_url: str
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    error: str | None = None
    redirects: int = 0
    truncated: bool = False
    refused: str | None = None  # a hop the guard refused (then ``error`` says so too)
    hops: tuple[str, ...] = field(default_factory=tuple)


@cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every fetch: building one costs ~0.15 s (loading the CA store)."""
    return ssl.create_default_context(cafile=certifi.where())


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (None: connect directly)."""
    proxies = urllib.request.getproxies()
    parts = urlsplit(url)
    if proxies.get("no") and urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxies.get(parts.scheme.lower()) or proxies.get("all") or None


class Fetcher:
    """Fetches for one check; ``deadline`` is shared by every fetch of the check.

    Async, so that one deadline (``anyio.fail_after``) covers each request
    whole: resolving, connecting, the status line and headers, and the body.
    A server that sends its headers one byte at a time cannot stretch a
    fetch past its budget, because no per-read timeout is involved.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.started = time.monotonic()
        self.deadline_at = self.started + limits.deadline

    def remaining(self) -> float:
        return self.deadline_at - time.monotonic()

    async def fetch(self, url: str, *, max_bytes: int | None = None) -> Fetched:
        """GET ``url`` with redirects followed by hand; never raises for network or guard failures."""
        cap = self.limits.max_bytes if max_bytes is None else max_bytes
        current = url
        hops: list[str] = []
        redirects = 0
        while True:
            budget = min(self.limits.timeout, self.remaining())
            if budget <= 0:
                return Fetched(url, current, error="timeout: the check's deadline has passed",
                               redirects=redirects, hops=tuple(hops))
            proxy = proxy_for(current)
            hops.append(current)
            try:
                with anyio.fail_after(budget):
                    target = await anyio.to_thread.run_sync(partial(
                        guard, current, allow_private=self.limits.allow_private, proxied=proxy is not None,
                        timeout=budget))
                    status, headers, body, truncated = await self._one(target, proxy, cap, budget)
            except Refused as exc:
                hops.pop()
                return Fetched(url, current, error=f"refused: {exc}", refused=str(exc),
                               redirects=redirects, hops=tuple(hops))
            except Unresolvable as exc:
                return Fetched(url, current, error=f"dns: {exc}", redirects=redirects, hops=tuple(hops))
            except (TimeoutError, httpx.TimeoutException):
                return Fetched(url, current, error=f"timeout: no complete answer within {budget:.3g} s",
                               redirects=redirects, hops=tuple(hops))
            except (httpx.HTTPError, OSError, ValueError) as exc:
                text = str(exc).strip() or type(exc).__name__
                return Fetched(url, current, error=f"connection: {text}"[:300],
                               redirects=redirects, hops=tuple(hops))
            location = next((v for k, v in headers if k == "location"), None)
            if 300 <= status < 400 and location:
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    return Fetched(url, current, status=status, headers=headers, redirects=redirects,
                                   hops=tuple(hops))
                current = urljoin(current, location.strip())
                continue
            return Fetched(url, current, status=status, headers=headers, body=body, redirects=redirects,
                           truncated=truncated, hops=tuple(hops))

    async def _one(
        self, target: Target, proxy: str | None, cap: int, budget: float
    ) -> tuple[int, tuple[tuple[str, str], ...], bytes, bool]:
        parts = urlsplit(target.url)
        path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        request_url = f"{target.scheme}://{target.connect_host}:{target.port}{path}"
        extensions: dict[str, object] = {}
        if target.pinned and target.scheme == "https":
            extensions["sni_hostname"] = target.host
        async with httpx.AsyncClient(
            proxy=proxy, trust_env=False, follow_redirects=False, timeout=httpx.Timeout(budget), verify=tls_context(),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=0),
        ) as client:
            sent = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
            if self.limits.signer is not None:  # @authority is the named host, not a pinned address
                sent.update(self.limits.signer.sign("GET", target.url, sent))
            request = client.build_request(
                "GET", request_url, headers={"Host": target.host_header, **sent}, extensions=extensions,
            )
            response = await client.send(request, stream=True)
            body, truncated = await read_capped(response, cap)
            headers = tuple((k.lower(), v) for k, v in response.headers.multi_items())
            return response.status_code, headers, body, truncated


async def read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    """At most ``cap`` bytes of a streamed body, and whether there was more; the response is closed."""
    try:
        chunks: list[bytes] = []
        size = 0
        truncated = False
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= cap:
                truncated = size > cap or _more(response, cap)
                break
    finally:
        await response.aclose()
    return b"".join(chunks)[:cap], truncated


def _more(response: httpx.Response, cap: int) -> bool:
    """True if a body that reached the cap exactly has more to come (length unknown: assume so)."""
    length = response.headers.get("content-length", "")
    return not (length.isascii() and length.isdigit()) or int(length) > cap
