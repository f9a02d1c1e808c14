"""The work behind the MCP tools, apart from the protocol: limits per client, the page cache, check, shape.

Kept free of the SDK's registration so that each tool's logic reads as
plain functions over ``crawler.mcp.pipeline.Pipeline``.
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from pydantic import BaseModel, Field

from attribution import Action, Citation, DroppedSource, Source, SourceError, instructions, shape
from crawler.checker.report import AgentReport, agent_report
from crawler.mcp.config import Initiated, Limits
from crawler.mcp.pipeline import PageOutcome, Pipeline, ToolFailure
from crawler.origin_cache import origin_of
from norms.evaluate import evaluate
from norms.model import ALL_USAGES, Usage


class ClientLimiter:
    """At most ``per_client`` fetching calls of one client at a time, ``per_client_queue`` waiting."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._by_client: weakref.WeakKeyDictionary[Any, tuple[anyio.Semaphore, list[int]]] = (
            weakref.WeakKeyDictionary()
        )
        self._fallback: dict[int, tuple[anyio.Semaphore, list[int]]] = {}

    def _state(self, client: Any) -> tuple[anyio.Semaphore, list[int]]:
        try:
            state = self._by_client.get(client)
            if state is None:
                state = self._by_client[client] = (anyio.Semaphore(self.limits.per_client), [0])
            return state
        except TypeError:  # not weak-referenceable: keyed by identity
            key = id(client)
            if key not in self._fallback:
                self._fallback[key] = (anyio.Semaphore(self.limits.per_client), [0])
            return self._fallback[key]

    @asynccontextmanager
    async def slot(self, client: Any) -> AsyncIterator[None]:
        semaphore, pending = self._state(client)
        if pending[0] >= self.limits.per_client + self.limits.per_client_queue:
            raise ToolFailure(f"too many fetches in progress for this client (at most "
                              f"{self.limits.per_client} at a time); wait for some to finish")
        pending[0] += 1
        try:
            async with semaphore:
                yield
        finally:
            pending[0] -= 1


class PageCache:
    """Pages fetched in the last ``cache_seconds``, so that paging with ``start_index`` fetches once."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._pages: OrderedDict[tuple[str, str, str], tuple[float, PageOutcome]] = OrderedDict()
        self._final: dict[str, str] = {}  # requested URL -> the URL the page was stored under

    def get(self, url: str, purpose: Usage, initiated: Initiated) -> PageOutcome | None:
        key = (url, purpose.value, initiated)
        hit = self._pages.get(key)
        if hit is None or time.monotonic() - hit[0] > self.limits.cache_seconds:
            self._pages.pop(key, None)
            return None
        return hit[1]

    def put(self, out: PageOutcome) -> None:
        self._pages[(out.url, out.purpose.value, out.initiated)] = (time.monotonic(), out)
        self._pages.move_to_end((out.url, out.purpose.value, out.initiated))
        while len(self._pages) > self.limits.cache_pages:
            self._pages.popitem(last=False)
        if out.status is not None:
            self._final[out.url] = out.final_url

    def stored_url(self, url: str) -> str:
        return self._final.get(url, url)


# --- check_url ------------------------------------------------------------------------------


class CheckOutput(BaseModel):
    """Per crawler token and usage: allowed or not, and the signal that decided (file and line)."""

    url: str
    final_url: str
    page_fetched: bool = Field(description="whether the page itself was requested (page-level signals read)")
    note: str
    agents: list[AgentReport]


async def check_report(pipeline: Pipeline, out: PageOutcome, agents: tuple[str, ...]) -> CheckOutput:
    origin = out.origin
    if origin is None:
        raise ToolFailure(f"no signal documents could be read for {out.final_url}")
    robots = origin.robots
    reports = []
    for agent in agents:
        licenses = []
        for ref in robots.licenses(agent):
            if origin_of(ref.url) == origin.origin and not robots.allowed(ref.url, pipeline.config.token):
                continue  # we do not fetch what robots.txt disallows us; the crawler skips it too
            source, _sid = await pipeline.docs.license(ref)
            licenses.append(source)
        verdict = evaluate(out.final_url, user_agent=agent, purposes=ALL_USAGES, robots=robots,
                           licenses=[*licenses, *out.page_licenses], tdmrep=origin.tdmrep, status=out.status,
                           headers=out.headers, html=out.doc)
        reports.append(agent_report(verdict))
    fetched = out.status is not None
    note = ("decided from robots.txt, RSL, tdmrep.json and the page's answer"
            if fetched else f"page not requested ({out.reason}): decided from the origin's signal documents")
    return CheckOutput(url=out.url, final_url=out.final_url, page_fetched=fetched, note=note, agents=reports)


def check_text(report: CheckOutput) -> str:
    lines = [f"Compliance of {report.final_url} ({report.note}):"]
    for agent in report.agents:
        lines.append(f"- {agent.agent}: fetch {'allowed' if agent.fetch.allowed else 'refused'}")
        for usage, d in agent.usages.items():
            if d is None:
                lines.append(f"    {usage}: not applicable")
                continue
            place = ""
            if d.source:
                place = f" — {d.signal} at {d.source}" + (f" line {d.line}" if d.line else "") + (
                    f" {d.element}" if d.element and not d.line else "")
            raw = f": {d.raw!r}" if d.raw else ""
            state = "allowed" + (" with obligations" if d.conditional else "") if d.allowed else "denied"
            lines.append(f"    {usage}: {state}{place}{raw}")
    return "\n".join(lines)


# --- shape_answer and attribution_instructions ------------------------------------------------


class ShapeOutput(BaseModel):
    """The answer as it may be shown: attributed, trimmed to the norms, every change listed."""

    text: str
    kind: str
    kind_reason: str
    citations: list[Citation]
    actions: list[Action]
    dropped_sources: list[DroppedSource]
    markdown: str
    openai_annotations: list[dict[str, Any]]
    anthropic_citations: list[dict[str, Any]]


def resolve_sources(pipeline: Pipeline, cache: PageCache, items: list[str | dict[str, Any]]) -> list[Source]:
    """Sources from URLs fetched earlier (the ledger's page rows) or from full source objects."""
    if not items:
        raise ToolFailure("give at least one source: a URL fetched with the fetch tool, or a source object")
    sources: list[Source] = []
    for n, item in enumerate(items, 1):
        if isinstance(item, str):
            page = pipeline.recorder.page_row(cache.stored_url(item.strip())) or pipeline.recorder.page_row(
                item.strip())
            if page is None:
                raise ToolFailure(f"source {n} ({item}) has not been fetched: call the fetch tool on it first "
                                  "or pass a full source object")
            try:
                sources.append(Source.from_ledger_page(page))
            except SourceError as exc:
                raise ToolFailure(str(exc)) from None
        else:
            try:
                sources.append(Source.from_dict(item))
            except SourceError as exc:
                raise ToolFailure(str(exc)) from None
    return sources


def shape_output(answer: str, sources: list[Source], query: str | None, kind: str | None) -> ShapeOutput:
    try:
        shaped = shape(answer, sources, query=query, kind=kind)
    except (SourceError, ValueError) as exc:
        raise ToolFailure(str(exc)) from None
    return ShapeOutput(
        text=shaped.text,
        kind=shaped.kind.value,
        kind_reason=shaped.kind_reason,
        citations=shaped.citations,
        actions=shaped.actions,
        dropped_sources=shaped.dropped_sources,
        markdown=shaped.to_markdown(),
        openai_annotations=shaped.to_openai_annotations(),
        anthropic_citations=shaped.to_anthropic_citations(),
    )


def instructions_text(sources: list[Source], query: str | None) -> str:
    try:
        return instructions(sources, query=query)
    except (SourceError, ValueError) as exc:
        raise ToolFailure(str(exc)) from None
