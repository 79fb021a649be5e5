"""Token buckets (GCRA) per key, reserving a send slot across several limits at once.

A send to a Slack channel must respect both the channel's 1/s and the workspace's cap: the slot taken is the
earliest time all its buckets allow, so no bucket's capacity is wasted waiting for another.

A platform's app-wide cap ("50 requests a second") is a `per_second` limit, a sliding window: slots are
reserved so that no second holds more than the cap (a broadcast starts with the whole second's worth at
once, as the platform allows), and each send is counted again when it actually leaves. A send that leaves
late (the event loop was busy) would otherwise crowd the ones after it into one second; the window holds
those back instead of letting the platform refuse them.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left, bisect_right, insort
from collections import deque
from contextlib import AsyncExitStack
from dataclasses import dataclass

MARGIN = 0.01
"""A second of an app-wide cap is counted as 1.01 s: room for a request's own time to reach the platform."""


@dataclass(frozen=True)
class Limit:
    key: str
    rate: float
    """Sends per second."""
    burst: int = 1
    window: tuple[int, float] | None = None
    """(count, seconds): also a sliding window, at most ``count`` sends in any ``seconds``, both as reserved
    and as they leave."""


SPREAD = 10
"""A second's worth of sends goes out over a tenth of it, not all at once: the platform then counts each on
arrival in the order and at the pace they left, instead of after a queue of its own."""


def per_second(key: str, cap: float) -> Limit:
    """At most ``cap`` sends in any second. A cap above 1 counts whole sends (2.5 a second: 2); below 1 it is
    one send in the matching longer window (0.5 a second: one in any 2 s)."""
    count = max(1, int(cap))
    seconds = max(1.0, 1 / cap) * (1 + MARGIN)
    return Limit(key, rate=count / seconds * SPREAD, window=(count, seconds))


class RateLimiter:
    def __init__(self) -> None:
        self._tat: dict[str, float] = {}
        self._paused_until: dict[str, float] = {}
        self._slots: dict[str, list[float]] = {}  # reserved slots of a windowed limit, sorted
        self._left: dict[str, deque[float]] = {}  # when the last sends of a windowed limit left
        self._gates: dict[str, asyncio.Lock] = {}  # windowed sends leave one at a time, in order

    def reserve(self, limits: list[Limit], now: float | None = None) -> float:
        """Reserve the earliest slot all ``limits`` allow; returns the delay in seconds until it."""
        now = time.monotonic() if now is None else now
        slot = now
        for limit in limits:
            earliest = self._tat.get(limit.key, now) - (limit.burst - 1) / limit.rate
            slot = max(slot, earliest, self._paused_until.get(limit.key, 0.0))
        while True:  # a window may push the slot past another window's full second, and back again
            moved = slot
            for limit in limits:
                if limit.window is not None:
                    moved = max(moved, self._window_slot(limit.key, limit.window, moved, now))
            if moved == slot:
                break
            slot = moved
        for limit in limits:
            self._tat[limit.key] = max(self._tat.get(limit.key, now), slot) + 1.0 / limit.rate
            if limit.window is not None:
                insort(self._slots[limit.key], slot)
        return max(0.0, slot - now)

    def _window_slot(self, key: str, window: tuple[int, float], slot: float, now: float) -> float:
        """The earliest time from ``slot`` on that no window of ``seconds`` holds more than ``count`` slots."""
        count, seconds = window
        slots = self._slots.setdefault(key, [])
        del slots[: bisect_right(slots, now - seconds)]
        while True:
            before = slots[bisect_right(slots, slot - seconds) : bisect_right(slots, slot)]
            if len(before) >= count:  # the second ending at the slot is full: wait for its oldest to age
                slot = before[len(before) - count] + seconds
                continue
            later = slots[bisect_right(slots, slot) : bisect_left(slots, slot + seconds)]
            full = [
                taken
                for taken in later
                if bisect_right(slots, taken) - bisect_right(slots, taken - seconds) >= count
            ]
            if not full:  # nor would any later second the slot falls in
                return slot
            slot = full[-1]

    async def acquire(self, limits: list[Limit]) -> None:
        delay = self.reserve(limits)
        if delay > 0:
            await asyncio.sleep(delay)
        windowed = sorted((limit for limit in limits if limit.window), key=lambda limit: limit.key)
        if windowed:
            await self._leave(windowed)

    async def _leave(self, limits: list[Limit]) -> None:
        """Wait until every window has room, then count this send as leaving now."""
        async with AsyncExitStack() as gates:
            for limit in limits:  # sorted by key, so two sends never hold each other's gate
                await gates.enter_async_context(self._gates.setdefault(limit.key, asyncio.Lock()))
            while True:
                now = time.monotonic()
                wait = 0.0
                for limit in limits:
                    count, seconds = limit.window or (1, 0.0)
                    left = self._left.setdefault(limit.key, deque(maxlen=count))
                    if len(left) == count:
                        wait = max(wait, left[0] + seconds - now)
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            for limit in limits:
                self._left[limit.key].append(now)

    def pause(self, key: str, seconds: float) -> None:
        """The platform said Retry-After: nothing for ``key`` before then."""
        until = time.monotonic() + seconds
        self._paused_until[key] = max(self._paused_until.get(key, 0.0), until)

    def forget_idle(self) -> None:
        now = time.monotonic()
        for table in (self._tat, self._paused_until):
            for key in [key for key, value in table.items() if value < now - 60]:
                del table[key]
        for key in [key for key, slots in self._slots.items() if not slots or slots[-1] < now - 60]:
            del self._slots[key]
        for key in [key for key, left in self._left.items() if not left or left[-1] < now - 60]:
            del self._left[key]
