"""Outbox races between dispatchers: renewed leases, fenced outcomes, per-target order."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from bot.app import Services
from bot.clock import ManualClock
from bot.messages import Message
from bot.outbox import Outbox, OutboxMetrics
from bot.platforms.base import Outgoing, PermanentSendError, RetryAfter
from bot.ratelimit import Limit
from storage.repositories import Repos


class SlowPlatform:
    """A platform whose sends block until released (a slow API)."""

    name = "slow"
    throughput = 1000.0

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.accepted: Counter[str] = Counter()
        self.order: list[str] = []
        self.fail_with: BaseException | None = None
        self.rate_limit_first: set[str] = set()

    def limits(self, target: str) -> list[Limit]:
        return [Limit("slow:app", 1000.0, burst=100)]

    async def send(self, outgoing: Outgoing) -> str | None:
        self.started.set()
        await self.release.wait()
        if outgoing.key in self.rate_limit_first:
            self.rate_limit_first.discard(outgoing.key)
            raise RetryAfter(5)
        if self.fail_with is not None:
            raise self.fail_with
        self.accepted[outgoing.key] += 1
        self.order.append(outgoing.key)
        return f"m-{outgoing.key}"

    def dm_target(self, identity: Any) -> str:
        return "x"

    def mount(self, app: Any) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def enqueue(services: Services, key: str, target: str = "c1") -> None:
    async with services.database.transaction() as session:
        await services.outbox.enqueue(
            session,
            key=key,
            topic="t",
            platform="slow",
            target=target,
            message=Message.text(key),
            locale="nl",
        )


def second_dispatcher(services: Services, platform: SlowPlatform) -> Outbox:
    return Outbox(
        services.database,
        services.settings,
        {"slow": platform},
        services.clock,
        OutboxMetrics(CollectorRegistry()),
    )


async def status(services: Services, key: str) -> str:
    async with services.database.transaction() as session:
        delivery = await Repos(session).deliveries.by_key(key)
        assert delivery is not None
        return delivery.status


async def test_a_renewed_lease_keeps_another_dispatcher_away(services: Services, clock: ManualClock) -> None:
    a_platform, b_platform = SlowPlatform(), SlowPlatform()
    services.platforms["slow"] = a_platform
    other = second_dispatcher(services, b_platform)
    await enqueue(services, "k")
    sending = asyncio.create_task(services.outbox.deliver_due())
    await a_platform.started.wait()
    clock.advance(timedelta(seconds=40))
    await services.outbox.renew_leases()  # what the renewer does every lease/3 while sending
    clock.advance(timedelta(seconds=40))  # past the first lease, within the renewed one
    b_platform.release.set()
    assert await other.deliver_due() == 0
    a_platform.release.set()
    await sending
    assert a_platform.accepted + b_platform.accepted == Counter({"k": 1})
    assert await status(services, "k") == "sent"


async def test_a_stale_dispatcher_cannot_overwrite_the_outcome(
    services: Services, clock: ManualClock
) -> None:
    a_platform, b_platform = SlowPlatform(), SlowPlatform()
    services.platforms["slow"] = a_platform
    other = second_dispatcher(services, b_platform)
    await enqueue(services, "k")
    sending = asyncio.create_task(services.outbox.deliver_due())
    await a_platform.started.wait()
    clock.advance(timedelta(seconds=services.settings.outbox_lease_seconds + 1))  # A hung past its lease
    b_platform.release.set()
    assert await other.deliver_due() == 1
    a_platform.fail_with = PermanentSendError("late failure")
    a_platform.release.set()
    await sending
    assert await status(services, "k") == "sent", "the late failure of a stale claim must not win"


async def test_messages_to_one_target_keep_their_order(services: Services) -> None:
    platform = SlowPlatform()
    platform.release.set()
    platform.rate_limit_first = {"first"}
    services.platforms["slow"] = platform
    for key in ("first", "second", "third"):
        await enqueue(services, key)
    await services.outbox.deliver_due()
    assert platform.order == [], "nothing overtakes a message that has to wait"
    services.clock.advance(timedelta(seconds=6))  # type: ignore[attr-defined]
    services.outbox.limiter._paused_until.clear()
    await services.outbox.drain()
    assert platform.order == ["first", "second", "third"]


async def test_order_holds_across_claims_while_the_loop_keeps_sending(services: Services) -> None:
    """The production loop claims again while earlier sends are in flight; one target still keeps its order."""
    platform = SlowPlatform()
    platform.rate_limit_first = {"m0"}
    services.platforms["slow"] = platform
    services.outbox.start()
    try:
        await enqueue(services, "m0", target="c1")
        await platform.started.wait()  # m0 is being sent (and will be throttled) ...
        for n in range(1, 4):  # ... when more for the same target arrive, claimed in later rounds
            await enqueue(services, f"m{n}", target="c1")
            services.outbox.wake()
        await enqueue(services, "other", target="c2")
        services.outbox.wake()
        await asyncio.sleep(0.3)
        platform.release.set()
        for _ in range(400):  # up to 20 s on a busy machine; the order is what counts, not the speed
            if "other" in platform.order:
                break
            await asyncio.sleep(0.05)
        assert platform.order == ["other"], "c1 waits behind its throttled first message; c2 does not"
        services.clock.advance(timedelta(seconds=6))  # type: ignore[attr-defined]
        services.outbox.limiter._paused_until.clear()
        services.outbox.wake()
        for _ in range(400):
            if len(platform.order) == 5:
                break
            await asyncio.sleep(0.05)
    finally:
        await services.outbox.stop()
    assert platform.order == ["other", "m0", "m1", "m2", "m3"]


async def test_a_throttle_of_an_unknown_scope_holds_back_the_target(services: Services) -> None:
    """A platform may name a bucket we do not keep (a reply redirected elsewhere): the target waits anyway."""

    class Redirecting(SlowPlatform):
        def limits(self, target: str) -> list[Limit]:
            return [Limit(f"slow:{target}", 1000.0), Limit("slow:app", 1000.0, burst=100)]

        async def send(self, outgoing: Outgoing) -> str | None:
            if outgoing.key == "first":
                raise RetryAfter(30, scope="slow:somewhere-else")
            return await super().send(outgoing)

    platform = Redirecting()
    platform.release.set()
    services.platforms["slow"] = platform
    await enqueue(services, "first", target="c1")
    await services.outbox.drain()
    # (reserving takes a slot in every bucket named, so ask for the free target first)
    assert services.outbox.limiter.reserve(platform.limits("c2")) < 1, "others are not held back"
    assert services.outbox.limiter.reserve(platform.limits("c1")) >= 29, "c1 must be paused"
