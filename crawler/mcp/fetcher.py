"""One bounded HTTP GET on an agent's behalf, every hop through the checker's SSRF guard.

The MCP server fetches URLs a language model chose, so it takes the
checker's precautions (``crawler.checker.guard``): private, loopback and
link-local targets are refused unless the server runs with
``--allow-private``, a name is resolved once and the connection goes to the
address checked, and proxies come from the environment exactly as the
checker reads them (``crawler.checker.fetch.proxy_for``).

Unlike the checker this one is async and its time bound is a hard deadline
for the whole request (connect, headers and body: a server dribbling its
headers one byte at a time is cut off too), enforced by cancellation. The
body is read as a stream and never past its byte cap; the headers are
bounded by httpcore's parser (100 KiB for the status line and headers).

Redirects are *not* followed here: the caller checks each target against
the norms like a new URL, as the crawler does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx

from crawler.checker.fetch import proxy_for, read_capped
from crawler.checker.guard import Refused, Target, Unresolvable, guard

if TYPE_CHECKING:
    from crawler.identity.signing import RequestSigner

__all__ = ["Answer", "HttpFetcher", "Refused", "Unresolvable"]


@dataclass(frozen=True, slots=True)
class Answer:
    """One response (or the failure that replaced it). ``error`` starts with a kind: ``timeout:``, ``dns:`` ..."""

    url: str
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()  # lowercase names, repeats kept, in order
    body: bytes = b""
    truncated: bool = False  # the body went on past the cap (the rest was never read)
    error: str | None = None
    refused: str | None = None  # the guard refused the target (``error`` says so too)
    seconds: float = 0.0

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)


class HttpFetcher:
    """Async GETs with the guard, a deadline and a byte cap; one connection pool per proxy."""

    def __init__(self, *, user_agent: str, allow_private: bool = False, signer: RequestSigner | None = None) -> None:
        self.user_agent = user_agent
        self.allow_private = allow_private
        self.signer = signer  # Web Bot Auth: every request signed as it leaves, as the crawler does
        self._clients: dict[str | None, httpx.AsyncClient] = {}

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def validate(self, url: str, timeout: float = 5.0) -> None:
        """Raise ``Refused`` for a URL the guard refuses, ``Unresolvable`` for a name that resolves nowhere."""
        proxy = proxy_for(url)
        await anyio.to_thread.run_sync(
            lambda: guard(url, allow_private=self.allow_private, proxied=proxy is not None, timeout=timeout)
        )

    async def get(
        self,
        url: str,
        *,
        timeout: float,
        max_bytes: int,
        headers: dict[str, str] | None = None,
        user_agent: str | None = None,
    ) -> Answer:
        """GET ``url`` (no redirect followed); never raises for network or guard failures."""
        started = time.monotonic()
        proxy = proxy_for(url)
        try:
            target = await anyio.to_thread.run_sync(
                lambda: guard(url, allow_private=self.allow_private, proxied=proxy is not None,
                              timeout=max(timeout, 0.1))
            )
        except Refused as exc:
            return Answer(url, error=f"refused: {exc}", refused=str(exc))
        except Unresolvable as exc:
            return Answer(url, error=f"dns: {exc}")
        try:
            with anyio.fail_after(max(timeout - (time.monotonic() - started), 0.01)):
                status, lines, body, truncated = await self._one(
                    target, proxy, max_bytes, headers or {}, user_agent or self.user_agent
                )
        except TimeoutError:
            return Answer(url, error=f"timeout: no complete answer within {timeout:g} s",
                          seconds=time.monotonic() - started)
        except (httpx.HTTPError, OSError, ValueError) as exc:
            text = str(exc).strip() or type(exc).__name__
            return Answer(url, error=f"connection: {text}"[:300], seconds=time.monotonic() - started)
        return Answer(url, status, lines, body, truncated, seconds=time.monotonic() - started)

    def _client(self, proxy: str | None) -> httpx.AsyncClient:
        client = self._clients.get(proxy)
        if client is None:
            client = self._clients[proxy] = httpx.AsyncClient(
                proxy=proxy,
                trust_env=False,
                follow_redirects=False,
                timeout=httpx.Timeout(60.0),  # the deadline above is the real bound
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
            )
        return client

    async def _one(
        self, target: Target, proxy: str | None, cap: int, extra: dict[str, str], user_agent: str
    ) -> tuple[int, tuple[tuple[str, str], ...], bytes, bool]:
        parts = urlsplit(target.url)
        path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        request_url = f"{target.scheme}://{target.connect_host}:{target.port}{path}"
        extensions: dict[str, object] = {}
        if target.pinned and target.scheme == "https":
            extensions["sni_hostname"] = target.host
        client = self._client(proxy)
        headers = {**extra, "Host": target.host_header, "User-Agent": user_agent, "Accept-Encoding": "identity"}
        if self.signer is not None:
            headers.update(self.signer.sign("GET", target.url, headers))
        request = client.build_request("GET", request_url, headers=headers, extensions=extensions)
        response = await client.send(request, stream=True)
        body, truncated = await read_capped(response, cap)
        lines = tuple((k.lower(), v) for k, v in response.headers.multi_items())
        return response.status_code, lines, body, truncated
