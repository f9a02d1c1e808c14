"""Crawl-delay between two requests to one origin, counted from when the previous answer arrived.

The crawler's rule (``crawler.middlewares.politeness``): an origin whose
robots.txt asks for a Crawl-delay or Request-rate gets one request at a time,
each at least ``floor + ARRIVAL_MARGIN`` seconds after the previous answer
*arrived*, signal documents included. An origin asking for more than
``MAX_FLOOR`` is not fetched at all. A tool call does not hang for long: a
wait longer than ``max_wait`` is answered with "call again in N s" instead
(``TooEarly``), never with a faster request.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio

from crawler.middlewares.politeness import ARRIVAL_MARGIN


class TooEarly(Exception):
    """The origin's next turn is further away than one call waits."""

    def __init__(self, origin: str, floor: float, wait: float) -> None:
        super().__init__(
            f"{origin} asks for {floor:g} s between requests (robots.txt Crawl-delay/Request-rate); "
            f"its next request may be made in {wait:.0f} s: call again then"
        )
        self.wait = wait


@dataclass
class _Slot:
    floor: float = 0.0
    last_answer: float = float("-inf")  # time.monotonic() when the previous answer arrived
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    queued: int = 0


class OriginPacer:
    def __init__(self, max_wait: float) -> None:
        self.max_wait = max_wait
        self._slots: dict[str, _Slot] = {}

    def _slot(self, origin: str) -> _Slot:
        slot = self._slots.get(origin)
        if slot is None:
            slot = self._slots[origin] = _Slot()
        return slot

    def set_floor(self, origin: str, floor: float) -> None:
        self._slot(origin).floor = max(floor, 0.0)

    def floor(self, origin: str) -> float:
        return self._slot(origin).floor

    @asynccontextmanager
    async def turn(self, origin: str, *, patient: bool = False) -> AsyncIterator[None]:
        """Hold the origin's turn for one request; the answer's arrival time is noted on exit.

        ``patient``: wait however long the turn takes (signal documents) instead of ``TooEarly``.
        """
        slot = self._slot(origin)
        if slot.floor <= 0:
            try:
                yield
            finally:
                slot.last_answer = time.monotonic()
            return
        # Requests already queued for the origin each take a full turn before this one.
        ahead = slot.queued + (1 if slot.lock.locked() else 0)
        due = slot.last_answer + slot.floor + ARRIVAL_MARGIN - time.monotonic()
        expected = max(due, 0.0) + ahead * (slot.floor + ARRIVAL_MARGIN)
        if expected > self.max_wait and not patient:
            raise TooEarly(origin, slot.floor, expected)
        slot.queued += 1
        try:
            await slot.lock.acquire()
        finally:
            slot.queued -= 1
        try:
            wait = slot.last_answer + slot.floor + ARRIVAL_MARGIN - time.monotonic()
            if wait > 0:
                await anyio.sleep(wait)
            yield
        finally:
            slot.last_answer = time.monotonic()
            slot.lock.release()
