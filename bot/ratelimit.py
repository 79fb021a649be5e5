"""Token buckets (GCRA) per key, reserving a send slot across several limits at once.

A send to a Slack channel must respect both the channel's 1/s and the workspace's cap: the slot taken is the
earliest time all its buckets allow, so no bucket's capacity is wasted waiting for another.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    key: str
    rate: float
    """Sends per second."""
    burst: int = 1


class RateLimiter:
    def __init__(self) -> None:
        self._tat: dict[str, float] = {}
        self._paused_until: dict[str, float] = {}

    def reserve(self, limits: list[Limit], now: float | None = None) -> float:
        """Reserve the earliest slot all ``limits`` allow; returns the delay in seconds until it."""
        now = time.monotonic() if now is None else now
        slot = now
        for limit in limits:
            interval = 1.0 / limit.rate
            tolerance = interval * (limit.burst - 1)
            earliest = self._tat.get(limit.key, now) - tolerance
            slot = max(slot, earliest, self._paused_until.get(limit.key, 0.0))
        for limit in limits:
            interval = 1.0 / limit.rate
            self._tat[limit.key] = max(self._tat.get(limit.key, now), slot) + interval
        return max(0.0, slot - now)

    async def acquire(self, limits: list[Limit]) -> None:
        delay = self.reserve(limits)
        if delay > 0:
            await asyncio.sleep(delay)

    def pause(self, key: str, seconds: float) -> None:
        """The platform said Retry-After: nothing for ``key`` before then."""
        until = time.monotonic() + seconds
        self._paused_until[key] = max(self._paused_until.get(key, 0.0), until)

    def forget_idle(self) -> None:
        now = time.monotonic()
        for table in (self._tat, self._paused_until):
            for key in [key for key, value in table.items() if value < now - 60]:
                del table[key]
