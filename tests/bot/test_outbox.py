"""The outbox: idempotent, rate-limit aware, retrying, and losing nothing when a dispatcher dies."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Services
from bot.clock import ManualClock
from bot.messages import Message
from storage.repositories import Repos
from tests.fakes.echo_api import EchoPlatform, FakeEchoApi
from tests.fakes.server import serve

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake() -> FakeEchoApi:
    return FakeEchoApi()


@pytest.fixture
def fake_url(fake: FakeEchoApi) -> Iterator[str]:
    with serve(fake.app) as url:
        yield url


@pytest.fixture
def echo(services: Services, fake_url: str) -> EchoPlatform:
    platform = EchoPlatform(fake_url)
    services.platforms["echo"] = platform
    return platform


async def enqueue(services: Services, key: str, target: str = "user:1", text: str = "hallo") -> bool:
    async with services.database.transaction() as session:
        return await services.outbox.enqueue(
            session,
            key=key,
            topic="test",
            platform="echo",
            target=target,
            message=Message.text(text),
            locale="nl",
        )


async def status_of(services: Services, key: str) -> tuple[str, int]:
    async with services.database.transaction() as session:
        delivery = await Repos(session).deliveries.by_key(key)
        assert delivery is not None
        return delivery.status, delivery.attempts


async def test_the_same_idempotency_key_twice_sends_one_message(
    services: Services, echo: EchoPlatform, fake: FakeEchoApi
) -> None:
    assert await enqueue(services, "story:1:2026-11-23T08:30:00+00:00:7")
    assert not await enqueue(services, "story:1:2026-11-23T08:30:00+00:00:7")
    await services.outbox.drain()
    await services.outbox.drain()
    assert fake.delivered() == {"story:1:2026-11-23T08:30:00+00:00:7": 1}
    assert await status_of(services, "story:1:2026-11-23T08:30:00+00:00:7") == ("sent", 1)


async def test_retry_after_is_honoured_without_counting_an_attempt(
    services: Services, echo: EchoPlatform, fake: FakeEchoApi, clock: ManualClock
) -> None:
    fake.fail_next(429, retry_after=30)
    await enqueue(services, "k1")
    await services.outbox.drain()
    assert fake.delivered() == {}
    assert await status_of(services, "k1") == ("pending", 0)
    clock.advance(timedelta(seconds=20))
    await services.outbox.drain()
    assert fake.delivered() == {}, "sent before Retry-After passed"
    clock.advance(timedelta(seconds=11))
    echo_limits = echo.limits("user:1")
    for limit in echo_limits:  # the in-process pause mirrors the platform's; real seconds are not simulated
        services.outbox.limiter._paused_until.pop(limit.key, None)
    await services.outbox.drain()
    assert fake.delivered() == {"k1": 1}
    assert await status_of(services, "k1") == ("sent", 1)


async def test_transient_failures_back_off_then_succeed(
    services: Services, echo: EchoPlatform, fake: FakeEchoApi, clock: ManualClock
) -> None:
    fake.fail_next(503, times=2)
    await enqueue(services, "k2")
    await services.outbox.drain()
    assert await status_of(services, "k2") == ("pending", 1)
    clock.advance(timedelta(seconds=5))
    await services.outbox.drain()
    assert await status_of(services, "k2") == ("pending", 2)
    clock.advance(timedelta(minutes=1))
    await services.outbox.drain()
    assert fake.delivered() == {"k2": 1}
    assert await status_of(services, "k2") == ("sent", 3)


async def test_a_permanent_error_gives_up_at_once(
    services: Services, echo: EchoPlatform, fake: FakeEchoApi
) -> None:
    fake.fail_next(404)
    await enqueue(services, "k3")
    await services.outbox.drain()
    assert await status_of(services, "k3") == ("failed", 1)


async def test_a_burst_to_many_targets_is_delivered_exactly_once(
    services: Services, echo: EchoPlatform, fake: FakeEchoApi
) -> None:
    async with services.database.transaction() as session:
        items = [
            dict(
                key=f"b:{n}",
                topic="test",
                platform="echo",
                target=f"user:{n}",
                message=Message.text("x"),
                locale="nl",
            )
            for n in range(500)
        ]
        assert await services.outbox.enqueue_many(session, items) == 500
        assert await services.outbox.enqueue_many(session, items) == 0
    await services.outbox.drain()
    delivered = fake.delivered()
    assert len(delivered) == 500 and set(delivered.values()) == {1}


async def test_a_dispatcher_killed_mid_batch_loses_nothing(
    services: Services, settings: object, fake: FakeEchoApi, fake_url: str, tmp_path: Path
) -> None:
    """SIGKILL a real dispatcher process mid-broadcast; a new one delivers the rest after the lease."""
    services.platforms["echo"] = EchoPlatform(fake_url)
    fake.delay = 0.02
    total = 400
    async with services.database.transaction() as session:
        await services.outbox.enqueue_many(
            session,
            [
                dict(
                    key=f"kill:{n}",
                    topic="test",
                    platform="echo",
                    target=f"user:{n}",
                    message=Message.text("x"),
                    locale="nl",
                )
                for n in range(total)
            ],
        )
    # The subprocess uses the real clock; deliveries were stamped with the test's clock (in the past: due).
    command = [
        sys.executable,
        "-m",
        "tests.fakes.dispatcher_process",
        services.settings.resolved_database_url,
        fake_url,
        str(tmp_path),
    ]
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while len(fake.delivered()) < 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = len(fake.delivered())
    assert 0 < killed_at < total, "the dispatcher was not killed mid-broadcast"
    second = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while len(fake.delivered()) < total and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)
    delivered = fake.delivered()
    duplicates = sum(count - 1 for count in delivered.values())
    print(f"\nkilled after {killed_at}/{total}; duplicates after restart: {duplicates} (in-flight window)")
    assert set(delivered) == {f"kill:{n}" for n in range(total)}, "a delivery was lost"
    assert duplicates <= services.settings.outbox_batch_size, "duplicates beyond the in-flight window"


async def test_an_answer_to_a_person_does_not_wait_behind_a_broadcast(
    services: Services, fake: FakeEchoApi, fake_url: str
) -> None:
    """While 300 broadcast DMs go out at 50 a second, a reply to someone's command overtakes the queue."""
    services.platforms["echo"] = EchoPlatform(fake_url, rate=50.0)
    async with services.database.transaction() as session:
        await services.outbox.enqueue_many(
            session,
            [
                dict(
                    key=f"pulse:{n}",
                    topic="pulse",
                    platform="echo",
                    target=f"user:{n}",
                    message=Message.text("x"),
                    locale="nl",
                )
                for n in range(300)
            ],
        )
    services.outbox.start()
    try:
        while len(fake.delivered()) < 20:
            await asyncio.sleep(0.02)
        await enqueue(services, "in:echo:evt-1:1", target="user:asker")  # the answer to a command
        services.outbox.wake()
        while "in:echo:evt-1:1" not in fake.delivered():
            await asyncio.sleep(0.02)
        position = len(fake.delivered())
    finally:
        await services.outbox.stop()
    # 20 had gone and at most two seconds' worth (100) were claimed ahead of it; the rest of 300 waited.
    assert position <= 20 + 100 + 10, f"the answer went out as number {position} of 301"
