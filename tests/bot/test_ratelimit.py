"""An app-wide cap ("at most N a second") holds in every second, also when sends leave late."""

from __future__ import annotations

import asyncio
import time

from hypothesis import given
from hypothesis import strategies as st

from bot.ratelimit import Limit, RateLimiter, leaving, per_second


def most_in_window(times: list[float], seconds: float) -> int:
    return max(sum(1 for t in times if end - seconds < t <= end) for end in times)


def paced(limits: list[list[Limit]], start: float = 1000.0) -> list[float]:
    """The slots our limiter gives sends reserved one after another, each as soon as it may go."""
    limiter, now, slots = RateLimiter(), start, []
    for send in limits:
        now += limiter.reserve(send, now=now)
        slots.append(now)
    return slots


@given(cap=st.sampled_from([0.5, 1.0, 2.5, 5.0, 30.0, 50.0]), sends=st.integers(min_value=1, max_value=400))
def test_no_second_holds_more_than_the_cap(cap: float, sends: int) -> None:
    slots = paced([[per_second("app", cap)]] * sends)
    assert most_in_window(slots, 1.0) <= max(1, int(cap))
    assert most_in_window(slots, 10.0) <= max(1, cap * 10)
    # and nothing is wasted: a whole second's sends at once, then the next as soon as the first has aged; at
    # most 2 % slower than the (whole) cap allows, and a fifth of a second to spread a second's sends
    count, seconds = max(1, int(cap)), max(1.0, 1 / cap)
    assert slots[-1] - slots[0] <= (sends - 1) // count * seconds * 1.02 + 0.2


def test_a_slow_conversation_does_not_hold_back_the_others() -> None:
    """One chat's own limit pushes its second message a second later; the broadcast around it goes on."""
    app = per_second("app", 50)
    sends = [[Limit("chat:1", 1.0), app], [Limit("chat:1", 1.0), app]]
    sends += [[Limit(f"chat:{n}", 1.0), app] for n in range(2, 100)]
    slots = paced(sends)
    assert slots[1] - slots[0] >= 1.0
    assert most_in_window(slots, 1.0) <= 50
    assert max(slots) - slots[0] < 2.2  # 100 sends at 50 a second: two seconds and a little


async def test_sends_that_leave_late_do_not_crowd_the_next_window() -> None:
    """Five sends were due at once but the event loop was busy; the next five, due a window later, wait
    for the late ones to age out of the window instead of leaving right behind them."""
    limiter = RateLimiter()
    limits = [Limit("app", rate=1000.0, window=(5, 0.2))]
    left: list[float] = []

    async def send() -> None:
        await limiter.acquire(limits)
        left.append(time.monotonic())

    sends = [asyncio.create_task(send()) for _ in range(10)]
    await asyncio.sleep(0)  # every send has reserved its slot: five now, five a window later
    time.sleep(0.15)  # the point: a busy loop makes the first five leave late
    await asyncio.gather(*sends)
    assert len(left) == 10
    assert most_in_window(left, 0.2) <= 5


async def test_a_send_held_up_on_its_way_counts_from_when_it_arrived() -> None:
    """A request that left on time but reached the platform late (the event loop was busy right after it
    left) must not share its arrival's second with the sends that leave a window after it."""
    limiter = RateLimiter()
    limits = [Limit("app", rate=1000.0, window=(2, 0.2))]
    arrived: list[float] = []

    async def send(held_up: float = 0.0) -> None:
        await limiter.wait(limits)
        with limiter.departing(limits):
            await leaving()
            await asyncio.sleep(held_up)  # between leaving and reaching the platform
            arrived.append(time.monotonic())

    for _ in range(6):  # what a send usually takes
        await send()
    arrived.clear()
    await asyncio.gather(send(held_up=0.1), send(), send(), send())
    assert len(arrived) == 4
    assert most_in_window(arrived, 0.2) <= 2
