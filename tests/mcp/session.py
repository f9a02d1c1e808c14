"""An MCP client session on the SDK's own client, driven from synchronous tests.

The session lives in a blocking portal's event loop (its own thread), so a
module-scoped fixture can keep one ``fairfetch mcp`` server for many tests:
starting one costs a second or two of imports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

from fixtures.web import FixtureWeb
from tests.crawler.crawlrun import FAIRFETCH, REPO


@dataclass
class Mcp:
    portal: BlockingPortal
    session: ClientSession

    def call(self, tool: str, **arguments: Any) -> CallToolResult:
        result: CallToolResult = self.portal.call(lambda: self.session.call_tool(tool, arguments))
        return result

    def run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.portal.call(lambda: getattr(self.session, method)(*args, **kwargs))


def text_of(result: Any) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, TextContent))


def server_env(web: FixtureWeb) -> dict[str, str]:
    return {**web.env(), "PYTHONPATH": str(REPO), "HOME": os.environ.get("HOME", "/tmp")}


@contextmanager
def session_over(transport: AbstractAsyncContextManager[Any]) -> Iterator[Mcp]:
    with start_blocking_portal() as portal, portal.wrap_async_context_manager(transport) as streams:
        read, write = streams[0], streams[1]
        with portal.wrap_async_context_manager(ClientSession(read, write)) as session:
            portal.call(session.initialize)
            yield Mcp(portal, session)


@contextmanager
def stdio_session(web: FixtureWeb, *args: str) -> Iterator[Mcp]:
    """``fairfetch mcp ARGS`` spawned by the SDK's stdio client, with the fixture web's proxy."""
    params = StdioServerParameters(command=str(FAIRFETCH), args=["mcp", *args], env=server_env(web),
                                   cwd=str(REPO))
    with session_over(stdio_client(params)) as mcp:
        yield mcp


@contextmanager
def http_session(url: str) -> Iterator[Mcp]:
    with session_over(streamable_http_client(url)) as mcp:
        yield mcp
