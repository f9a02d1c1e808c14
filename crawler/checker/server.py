"""The checker as a web service: Starlette under uvicorn, built to face the internet.

Routes: ``GET /`` the forms; ``GET /check?url=`` the live report as HTML;
``POST /check`` (multipart: pasted or uploaded files) the offline report as
HTML; ``GET /api/check?url=`` and ``POST /api/check`` the same as JSON
(``/check.json`` is kept as an alias of ``GET /api/check``).

What an attacker meets (``ServiceConfig``; docs/publishers.md):

* a connection must deliver a whole request (head and body) within
  ``request_timeout`` seconds of connecting or of its previous response, or it
  is closed (``guarded_protocol``): idle and slow-loris connections cost a file
  descriptor for seconds, never a thread; beyond ``max_connections`` new ones
  are closed at once; request heads are capped at 16 KiB (h11) and bodies at
  ``max_body`` bytes (413);
* at most ``max_checks`` checks run at once: one more gets 503 with
  ``Retry-After``; each client address gets ``rate_per_minute`` checks per
  minute (token bucket, burst of the same size), then 429 with ``Retry-After``;
* every live check has one deadline covering every fetch whole (``fetch``),
  and a little more for the request as a whole (504 past it);
* every response, errors included, carries the security headers below.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio
import anyio.to_thread
import h11
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from crawler.checker.agents import OWN_AGENT
from crawler.checker.fetch import Limits, tls_context
from crawler.checker.guard import Refused
from crawler.checker.live import check_async
from crawler.checker.offline import LocalFile, OfflineInputs, check_files
from crawler.checker.render_html import STYLE_HASH, render_form, render_html, render_refusal
from crawler.checker.report import CheckReport

MAX_URL = 2048
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy",
     f"default-src 'none'; style-src '{STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; "
     "base-uri 'none'"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
)
_RAW_HEADERS = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS]
FILE_FIELDS = ("robots", "rsl", "tdmrep", "html", "headers")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class ServiceConfig:
    """Everything the service bounds; the defaults suit one small machine behind a reverse proxy."""

    host: str = "127.0.0.1"
    port: int = 8000
    limits: Limits = field(default_factory=Limits)
    max_checks: int = 8  # checks at once; more get 503
    rate_per_minute: float = 30.0  # checks per client address; more get 429
    trust_proxy: bool = False  # client address from X-Forwarded-For (behind your own proxy only)
    request_timeout: float = 10.0  # seconds to deliver a whole request
    keep_alive: int = 5  # seconds an idle keep-alive connection is kept
    max_connections: int = 1000
    max_body: int = 4 * 1024 * 1024  # bytes of one POST
    base: str = OWN_AGENT  # the crawl's base token (--user-agent): its purpose tokens are the first rows


class RateLimiter:
    """A token bucket per client address, in a bounded LRU map (old clients are forgotten)."""

    def __init__(self, per_minute: float, max_clients: int = 10_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1.0, per_minute)
        self.max_clients = max_clients
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """0 if ``client`` may go now (a token is taken), else the seconds until it may."""
        now = time.monotonic()
        tokens, last = self.buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self.buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
        while len(self.buckets) > self.max_clients:
            self.buckets.popitem(last=False)
        return wait


class _TooLarge(Exception):
    pass


class Guards:
    """ASGI middleware: security headers on every response, body cap, errors as plain pages."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *_RAW_HEADERS]
            await send(message)

        length = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if length.isdigit() and int(length) > self.max_body:
            await _plain(413, "request body too large\n")(scope, receive, send_with_headers)
            return
        seen = 0

        async def capped_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise _TooLarge
            return message

        try:
            await self.app(scope, capped_receive, send_with_headers)
        except _TooLarge:
            if not started:
                await _plain(413, "request body too large\n")(scope, receive, send_with_headers)


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(text, status_code=status, headers=headers)


class Service:
    """The routes, with the concurrency cap and the rate limiter they share."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.checks = anyio.CapacityLimiter(config.max_checks)
        self.rate = RateLimiter(config.rate_per_minute)
        tls_context()  # load the CA store once, now, rather than in the first check

    def client(self, request: Request) -> str:
        if self.config.trust_proxy:
            forwarded = request.headers.get("x-forwarded-for", "")
            if forwarded:
                return forwarded.split(",")[-1].strip()
        return request.client.host if request.client else "unknown"

    async def form(self, request: Request) -> Response:
        return HTMLResponse(render_form())

    async def _admit(self, request: Request, want_json: bool) -> Response | None:
        wait = self.rate.take(self.client(request))
        if wait > 0:
            retry = str(int(wait) + 1)
            return self._error(429, f"too many checks from your address; try again in {retry} s", "",
                               want_json, {"retry-after": retry})
        return None

    def _error(self, status: int, message: str, url: str, want_json: bool,
               headers: dict[str, str] | None = None) -> Response:
        if want_json:
            return JSONResponse({"error": message}, status_code=status, headers=headers)
        title = {429: "Too many checks", 503: "Busy", 504: "Too slow"}.get(status, "Cannot check this")
        return HTMLResponse(render_refusal(message, url, title), status_code=status, headers=headers)

    async def _run(self, work: Callable[[], Awaitable[CheckReport]], url: str, want_json: bool) -> Response:
        try:
            self.checks.acquire_nowait()
        except anyio.WouldBlock:
            return self._error(503, f"{self.config.max_checks} checks are running; try again in a few seconds",
                               url, want_json, {"retry-after": "5"})
        try:
            with anyio.fail_after(self.config.limits.deadline + 5):
                report = await work()
        except Refused as exc:
            return self._error(400, str(exc), url, want_json)
        except TimeoutError:
            return self._error(504, "the check took longer than its deadline", url, want_json)
        finally:
            self.checks.release()
        if want_json:
            return Response(report.model_dump_json(indent=2), media_type="application/json")
        return HTMLResponse(render_html(report))

    async def live(self, request: Request) -> Response:
        want_json = request.url.path != "/check"
        values = request.query_params.getlist("url")
        url = values[0].strip() if values else ""
        if not url:
            return self._error(400, "give the URL to check: ?url=https://your.site/page", "", want_json)
        if len(url) > MAX_URL:
            return self._error(400, f"the URL is longer than {MAX_URL} characters", "", want_json)
        refused = await self._admit(request, want_json)
        if refused is not None:
            return refused
        return await self._run(partial(check_async, url, limits=self.config.limits, base=self.config.base), url, want_json)

    async def offline(self, request: Request) -> Response:
        want_json = request.url.path != "/check"
        try:
            form = await request.form(max_files=len(FILE_FIELDS), max_fields=20,
                                      max_part_size=self.config.max_body)
        except _TooLarge:
            return self._error(413, f"the files are larger than {self.config.max_body} bytes in all", "", want_json)
        except Exception as exc:  # the multipart parser's own errors: a malformed upload
            return self._error(400, f"unreadable form data: {exc}"[:200], "", want_json)
        url = str(form.get("url") or "").strip()
        if not url or len(url) > MAX_URL or not url.lower().startswith(("http://", "https://")):
            return self._error(400, "give the page URL the files are for (http or https)", "", want_json)
        files: dict[str, LocalFile] = {}
        for name in FILE_FIELDS:
            upload = form.get(f"{name}_file")
            if isinstance(upload, UploadFile) and upload.filename:
                files[name] = LocalFile(upload.filename, await upload.read(self.config.max_body + 1))
                continue
            text = form.get(name)
            if isinstance(text, str) and text.strip():
                files[name] = LocalFile(f"{name} (pasted)", text.replace("\r\n", "\n").encode("utf-8"))
        if not files:
            return self._error(400, "paste or upload at least one file", url, want_json)
        status_text = str(form.get("status") or "").strip()
        status = int(status_text) if status_text.isdigit() and 100 <= int(status_text) <= 599 else None
        inputs = OfflineInputs(url=url, robots=files.get("robots"), rsl=[files["rsl"]] if "rsl" in files else [],
                               tdmrep=files.get("tdmrep"), html=files.get("html"), headers=files.get("headers"),
                               status=status, base=self.config.base)
        refused = await self._admit(request, want_json)
        if refused is not None:
            return refused

        async def work() -> CheckReport:
            return await anyio.to_thread.run_sync(check_files, inputs)

        return await self._run(work, url, want_json)

    async def check(self, request: Request) -> Response:
        return await (self.offline(request) if request.method == "POST" else self.live(request))


def create_app(config: ServiceConfig | None = None) -> Guards:
    """The ASGI application (any ASGI server can run it; ``serve`` adds the connection guards)."""
    service = Service(config or ServiceConfig())

    async def not_found(request: Request, exc: Exception) -> Response:
        return _plain(404, "not found\n")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _plain(405, "method not allowed\n", {"allow": "GET, HEAD, POST"})

    async def server_error(request: Request, exc: Exception) -> Response:
        return _plain(500, "internal error\n")

    app = Starlette(
        routes=[
            Route("/", service.form, methods=["GET", "HEAD"]),
            Route("/check", service.check, methods=["GET", "HEAD", "POST"]),
            Route("/api/check", service.check, methods=["GET", "POST"]),
            Route("/check.json", service.live, methods=["GET"]),
        ],
        exception_handlers={404: not_found, 405: not_allowed, 500: server_error},
    )
    return Guards(app, service.config.max_body)


def guarded_protocol(request_timeout: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a whole-request read deadline, a connection cap, and headers on its 400s."""

    class GuardedH11(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                transport.close()
                return
            self._arm()

        def _arm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline = self.loop.call_later(request_timeout, self._expire)

        def _expire(self) -> None:
            # Still reading the request head or its body: the client is too slow (or idle). Close.
            if self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing():
                if self.cycle is not None and not self.cycle.response_complete:
                    self.cycle.disconnected = True
                    self.cycle.message_event.set()
                self.transport.close()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

        def send_400_response(self, msg: str) -> None:
            body = b"bad request\n"
            headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close"),
                       (b"content-length", str(len(body)).encode()), *_RAW_HEADERS]
            try:
                self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers)) or b"")
                self.transport.write(self.conn.send(h11.Data(data=body)) or b"")
                self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
            except h11.LocalProtocolError:
                pass
            self.transport.close()

    return GuardedH11


def uvicorn_config(config: ServiceConfig) -> Any:
    import uvicorn

    return uvicorn.Config(
        create_app(config),
        host=config.host,
        port=config.port,
        http=guarded_protocol(config.request_timeout, config.max_connections),
        ws="none",
        lifespan="off",
        interface="asgi3",
        loop="asyncio",
        timeout_keep_alive=config.keep_alive,
        h11_max_incomplete_event_size=16 * 1024,
        proxy_headers=config.trust_proxy,
        forwarded_allow_ips="*" if config.trust_proxy else None,
        server_header=False,
        date_header=True,
        access_log=False,
        log_level="warning",
    )


def bind(config: ServiceConfig) -> socket.socket:
    """The listening socket (raises ``OSError`` if the address is taken), bound before uvicorn starts."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    return socket.create_server((config.host, config.port), family=family, backlog=2048)


def serve(config: ServiceConfig, sock: socket.socket) -> None:
    """Run the service on ``sock`` until interrupted."""
    import uvicorn

    uvicorn.Server(uvicorn_config(config)).run(sockets=[sock])

