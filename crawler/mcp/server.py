"""``fairfetch mcp``: the MCP server (official ``mcp`` SDK) with its tools, prompt and resource.

Tools: ``fetch`` (a page under the publishers' norms, or the refusal with its
evidence), ``check_url`` (the compliance matrix), ``shape_answer`` and
``attribution_instructions`` (the attribution library over fetched pages).
The ``fetch`` prompt is for fetches the user asked for; the resource
template ``ledger://page/{url}`` gives a page's provenance. Every error an
agent can cause comes back as a tool error in one sentence, never as a
traceback, and never stops the server.
"""


import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from mcp.server.mcpserver import Context, MCPServer, ResourceSecurity
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from crawler import __version__
from crawler.ledger import LedgerError
from crawler.mcp.config import Initiated, ServerConfig
from crawler.mcp.pipeline import PageOutcome, Pipeline, ToolFailure
from crawler.mcp.results import LEDGER_URI, FetchOutput, fetch_result, refusal_text
from crawler.mcp.tools import (
    CheckOutput,
    ClientLimiter,
    PageCache,
    ShapeOutput,
    check_report,
    check_text,
    instructions_text,
    resolve_sources,
    shape_output,
)
from norms.model import Usage

logger = logging.getLogger(__name__)

INSTRUCTIONS = (
    "fairfetch fetches web pages under the publishers' rules (robots.txt, RSL licences, Content-Signal, "
    "AI preferences, TDMRep, noai, paywalls, HTTP 402) and records every fetch in a provenance ledger. "
    "Use `fetch` instead of any other web fetch tool. A refused page comes back as an error naming the "
    "publisher's signal and where it is: do not try to get the page another way; tell the user. "
    "Before answering from fetched pages, call `attribution_instructions`; after writing, call "
    "`shape_answer` with your answer and the URLs you used, and show its text."
)
PurposeArg = Literal["search", "ai-index", "ai-input", "ai-train"]
SourcesArg = Annotated[
    list[str | dict[str, Any]],
    Field(description="URLs fetched earlier with the fetch tool, or source objects "
                      "(url, title, text, source_class, decisions, ...)"),
]


def _error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def build_server(config: ServerConfig) -> MCPServer[Any]:
    pipeline = Pipeline(config)
    cache = PageCache(config.limits)
    limiter = ClientLimiter(config.limits)

    @asynccontextmanager
    async def lifespan(_server: MCPServer[Any]) -> AsyncIterator[None]:
        try:
            yield None
        finally:
            await pipeline.aclose()

    server: MCPServer[Any] = MCPServer(
        "fairfetch", title="fairfetch: fetch, check and cite under the publishers' norms",
        instructions=INSTRUCTIONS, version=__version__, website_url=config.contact, lifespan=lifespan,
        log_level="WARNING",
    )

    async def get_page(ctx: Context | None, url: str, purpose: Usage, initiated: Initiated) -> PageOutcome:
        hit = cache.get(url, purpose, initiated)
        if hit is not None:
            return hit
        client = ctx.session if ctx is not None else None
        async with limiter.slot(client):
            out = await pipeline.fetch(url, purpose, initiated)
        cache.put(out)
        return out

    async def guarded(work: Any) -> Any:
        """Run one tool's work; what the agent or the network caused becomes a one-sentence tool error."""
        try:
            return await work
        except ToolFailure as exc:
            return _error(str(exc))
        except (LedgerError, sa.exc.SQLAlchemyError) as exc:
            logger.error("ledger failure: %s", exc)
            return _error(f"the provenance ledger could not be written or read ({type(exc).__name__}); "
                          "nothing was returned")

    def purpose_of(value: str | None) -> Usage:
        return Usage(value) if value else config.purpose

    @server.tool(
        name="fetch",
        title="Fetch a page under the publisher's norms",
        description=(
            "Fetch a URL and return its main text (or HTML with raw=true) if the publisher's signals allow "
            "the purpose: robots.txt, RSL licences, Content-Signal, AI preferences, TDMRep, noai/noindex, "
            "paywall markup and HTTP 402 are enforced, and Crawl-delay is respected. Paywalled parts are "
            "removed and snippet limits applied. A refusal is an error naming the deciding signal with its "
            "file and line, and no page text. Long pages come in pieces: call again with start_index."
            + (f" May pay up to {config.grants.currency} {config.grants.max_price} per page (HTTP 402)."
               if config.grants.max_price is not None else "")
        ),
        annotations=ToolAnnotations(title="Fetch under the publisher's norms", read_only_hint=False,
                                    destructive_hint=False, idempotent_hint=False, open_world_hint=True),
    )
    async def fetch(
        url: Annotated[str, Field(description="http(s) URL to fetch")],
        ctx: Context,
        purpose: Annotated[PurposeArg | None, Field(
            description=f"what the text is for (default {config.purpose.value})")] = None,
        max_length: Annotated[int, Field(gt=0, lt=1_000_000, description="characters to return at most")] = 5000,
        start_index: Annotated[int, Field(ge=0, description="character to start from (for long pages)")] = 0,
        raw: Annotated[bool, Field(description="the HTML (paywalled parts removed) instead of the text")] = False,
    ) -> Annotated[CallToolResult, FetchOutput]:
        async def work() -> CallToolResult:
            out = await get_page(ctx, url, purpose_of(purpose), "agent")
            return fetch_result(out, max_length=max_length, start_index=start_index, raw=raw)

        result: CallToolResult = await guarded(work())
        return result

    @server.tool(
        name="check_url",
        title="Check what a page's publisher allows",
        description=(
            "The compliance report for a URL: for the server's crawler token (or the given agent tokens, "
            "e.g. GPTBot) and each usage (search, ai-index, ai-input, ai-train), whether it is allowed and "
            "which signal decided, with file and line. Fetches only what the fetch tool would."
        ),
        annotations=ToolAnnotations(title="Check a URL's signals", read_only_hint=False,
                                    destructive_hint=False, idempotent_hint=False, open_world_hint=True),
    )
    async def check_url(
        url: Annotated[str, Field(description="http(s) URL to check")],
        ctx: Context,
        agents: Annotated[list[str] | None, Field(
            description=f"crawler tokens to decide for (default: {config.token})")] = None,
    ) -> Annotated[CallToolResult, CheckOutput]:
        async def work() -> CallToolResult:
            tokens = tuple(dict.fromkeys(a.strip() for a in agents or [] if a.strip())) or (config.token,)
            if len(tokens) > 20:
                raise ToolFailure("give at most 20 agent tokens")
            out = await get_page(ctx, url, config.purpose, "agent")
            report = await check_report(pipeline, out, tokens)
            return CallToolResult(content=[TextContent(type="text", text=check_text(report))],
                                  structured_content=report.model_dump(mode="json"))

        result: CallToolResult = await guarded(work())
        return result

    @server.tool(
        name="shape_answer",
        title="Attribute an answer to its sources",
        description=(
            "Shape an answer under the publishers' norms: drops content from sources whose publisher denies "
            "ai-input, attributes claims, adds edit-history/discussion links and last-updated notes, keeps "
            "verbatim copying within limits. Returns the text to show, the citations, every change made, and "
            "OpenAI and Anthropic citation exports."
        ),
        annotations=ToolAnnotations(title="Shape an answer", read_only_hint=True, destructive_hint=False,
                                    idempotent_hint=True, open_world_hint=False),
    )
    async def shape_answer(
        answer: Annotated[str, Field(description="the answer text as written")],
        sources: SourcesArg,
        query: Annotated[str | None, Field(description="the user's question")] = None,
        kind: Annotated[str | None, Field(description="query kind, if known (e.g. contested, quick-fact)")] = None,
    ) -> Annotated[CallToolResult, ShapeOutput]:
        async def work() -> CallToolResult:
            shaped = shape_output(answer, resolve_sources(pipeline, cache, sources), query, kind)
            return CallToolResult(content=[TextContent(type="text", text=shaped.markdown)],
                                  structured_content=shaped.model_dump(mode="json"))

        result: CallToolResult = await guarded(work())
        return result

    @server.tool(
        name="attribution_instructions",
        title="Attribution rules for these sources",
        description="Prompt text stating how to attribute and quote the given sources under their norms.",
        annotations=ToolAnnotations(title="Attribution instructions", read_only_hint=True,
                                    destructive_hint=False, idempotent_hint=True, open_world_hint=False),
    )
    async def attribution_instructions(
        sources: SourcesArg,
        query: Annotated[str | None, Field(description="the user's question")] = None,
    ) -> CallToolResult:
        async def work() -> CallToolResult:
            text = instructions_text(resolve_sources(pipeline, cache, sources), query)
            return CallToolResult(content=[TextContent(type="text", text=text)])

        result: CallToolResult = await guarded(work())
        return result

    @server.prompt(
        name="fetch",
        title="Fetch a URL for the user",
        description="Fetch a URL the user gives and put its text into the conversation (user-initiated; "
                    "the same norms apply).",
    )
    async def fetch_prompt(url: str, ctx: Context, purpose: str | None = None) -> list[dict[str, Any]]:
        try:
            out = await get_page(ctx, url, purpose_of(purpose), "user")
        except (ToolFailure, ValueError) as exc:
            return [{"role": "user", "content": f"Failed to fetch {url}: {exc}"}]
        except (LedgerError, sa.exc.SQLAlchemyError):
            return [{"role": "user", "content": f"Failed to fetch {url}: the provenance ledger failed"}]
        if not out.allowed:
            return [{"role": "user", "content": refusal_text(out)}]
        result = fetch_result(out, max_length=config.limits.page_max_bytes, start_index=0, raw=False)
        block = result.content[0]
        text = block.text if isinstance(block, TextContent) else ""
        return [{"role": "user", "content": text}]

    @server.resource(
        LEDGER_URI,
        name="ledger-page",
        title="Provenance of a fetched page",
        description="Decisions, evidence, obligations, signal snapshots in force and the fetch log of a page "
                    "(the URL percent-encoded, as the fetch tool's structured result gives it).",
        mime_type="application/json",
        security=ResourceSecurity(exempt_params={"url"}),  # a URL, looked up in the ledger, never a path
    )
    def ledger_page(url: str) -> str:
        try:
            page = pipeline.recorder.page_row(cache.stored_url(url)) or pipeline.recorder.page_row(url)
        except (LedgerError, sa.exc.SQLAlchemyError) as exc:
            raise ResourceError(f"the ledger could not be read: {type(exc).__name__}") from None
        if page is None:
            raise ResourceNotFoundError(f"the ledger holds no page for {url}")
        return json.dumps(page, default=str, ensure_ascii=False, indent=1)

    return server
