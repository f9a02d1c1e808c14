"""Per-client concurrency and Crawl-delay pacing of the MCP server, on their real objects (no server)."""

from __future__ import annotations

import itertools
import time

import anyio
import pytest

from crawler.mcp.config import Limits
from crawler.mcp.pacing import OriginPacer, TooEarly
from crawler.mcp.pipeline import ToolFailure
from crawler.mcp.tools import ClientLimiter


class Client:  # stands for an MCP session: any weak-referenceable object
    pass


def test_one_client_gets_its_slots_and_a_bounded_queue_others_are_unaffected() -> None:
    limiter = ClientLimiter(Limits(per_client=2, per_client_queue=1))
    greedy, other = Client(), Client()
    running = 0
    peak = 0
    refused: list[str] = []

    async def work(client: Client) -> None:
        nonlocal running, peak
        try:
            async with limiter.slot(client):
                running += 1
                peak = max(peak, running)
                await anyio.sleep(0.2)
                running -= 1
        except ToolFailure as exc:
            refused.append(str(exc))

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(work, greedy)
            await anyio.sleep(0.05)
            started = time.monotonic()
            async with limiter.slot(other):  # another client is not queued behind the greedy one
                assert time.monotonic() - started < 0.1

    anyio.run(main)
    assert peak <= 3  # two of the greedy client's, one of the other's
    assert len(refused) == 2 and "too many fetches" in refused[0]


def test_pacer_spaces_requests_from_the_previous_answer_and_refuses_long_waits() -> None:
    pacer = OriginPacer(max_wait=0.5)
    pacer.set_floor("http://a.example", 0.3)
    stamps: list[float] = []

    async def main() -> None:
        for _ in range(3):
            async with pacer.turn("http://a.example"):
                stamps.append(time.monotonic())
                await anyio.sleep(0.05)  # the answer takes a while: the pause starts after it
        pacer.set_floor("http://a.example", 2.0)
        with pytest.raises(TooEarly, match="call again"):
            async with pacer.turn("http://a.example"):
                pass

    anyio.run(main)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(gap >= 0.35 for gap in gaps), gaps
