"""Token buckets (GCRA) per key, reserving a send slot across several limits at once.

A send to a Slack channel must respect both the channel's 1/s and the workspace's cap: the slot taken is the
earliest time all its buckets allow, so no bucket's capacity is wasted waiting for another.

A platform's app-wide cap ("50 requests a second") is a `per_second` limit, a sliding window: slots are
reserved so that no second holds more than the cap (a broadcast starts with the whole second's worth at
once, as the platform allows), and each send is counted again when it actually leaves (the platform calls
`leaving()` right before its request) and, once answered, from when it most likely arrived. A send that
leaves or arrives late (a busy event loop, a slow lookup) would otherwise share a second with the sends
after it; the window holds those back instead of letting the platform refuse them.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from contextvars import ContextVar
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


TYPICAL_OF = 63
"""How many recent sends the usual time from leaving to an answer is the median of."""


class _Left:
    """A send counted in a window: when it left, later when it most likely arrived."""

    __slots__ = ("at", "key")

    def __init__(self, at: float, key: str) -> None:
        self.at, self.key = at, key


_LEAVING: ContextVar[Callable[[], Awaitable[None]] | None] = ContextVar("klantpet_leaving", default=None)


async def leaving() -> None:
    """A platform calls this right before a paced send's request goes out (after its own lookups, which
    may take a while): the send is counted in its windows now, waiting while one is full. Once per send;
    outside the outbox's `RateLimiter.departing`, nothing."""
    leave = _LEAVING.get()
    if leave is not None:
        _LEAVING.set(None)
        await leave()


class RateLimiter:
    def __init__(self) -> None:
        self._tat: dict[str, float] = {}
        self._paused_until: dict[str, float] = {}
        self._slots: dict[str, list[float]] = {}  # reserved slots of a windowed limit, sorted
        self._left: dict[str, list[_Left]] = {}  # the sends of a windowed limit still in its last second
        self._took: dict[str, deque[float]] = {}  # how long the last sends took, leaving to answer
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
        """Wait for a slot and count the send as leaving (for a send that goes out at once)."""
        await self.wait(limits)
        await self.leave(limits)

    async def wait(self, limits: list[Limit]) -> None:
        """Wait for the slot reserved for the send."""
        delay = self.reserve(limits)
        if delay > 0:
            await asyncio.sleep(delay)

    @contextmanager
    def departing(self, limits: list[Limit]) -> Iterator[None]:
        """Around a platform's send: its `leaving()`, right before the request goes out, counts it. When the
        send is over, its count moves to when the request most likely arrived (see `_answered`)."""
        left: list[_Left] = []

        async def leave() -> None:
            departure = await self.leave(limits)
            if departure is not None:
                left.append(departure)

        token = _LEAVING.set(leave)
        try:
            yield
        finally:
            _LEAVING.reset(token)
            if left:
                self._answered(left[0])

    async def leave(self, limits: list[Limit]) -> _Left | None:
        """Wait until every window of ``limits`` has room, then count the send as leaving now."""
        windowed = sorted((limit for limit in limits if limit.window), key=lambda limit: limit.key)
        if not windowed:
            return None
        async with AsyncExitStack() as gates:
            for limit in windowed:  # sorted by key, so two sends never hold each other's gate
                await gates.enter_async_context(self._gates.setdefault(limit.key, asyncio.Lock()))
            while True:
                now = time.monotonic()
                wait = 0.0
                for limit in windowed:
                    count, seconds = limit.window or (1, 0.0)
                    left = self._left.setdefault(limit.key, [])
                    left[:] = [sent for sent in left if sent.at > now - seconds]  # still in this second
                    if len(left) >= count:  # wait for enough of them to age out of it
                        ages = sorted(sent.at for sent in left)
                        wait = max(wait, ages[len(ages) - count] + seconds - now)
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            departure = _Left(now, windowed[0].key)
            for limit in windowed:
                self._left[limit.key].append(departure)
            return departure

    def _answered(self, departure: _Left) -> None:
        """The platform answered: the request arrived between leaving and now. A send that took about as
        long as sends usually do arrived about when it left; one that took longer was held up somewhere (a
        busy event loop, a busy platform) and is counted as arriving that much later, so that the sends a
        second after it do not arrive within the same second as it."""
        now = time.monotonic()
        took = self._took.setdefault(departure.key, deque(maxlen=TYPICAL_OF))
        took.append(now - departure.at)
        typical = sorted(took)[len(took) // 2]
        departure.at = max(departure.at, now - typical)

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
        for key in [key for key, left in self._left.items() if all(sent.at < now - 60 for sent in left)]:
            del self._left[key]
