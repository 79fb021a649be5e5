"""The scheduler: each due item runs once across instances, catch-up within grace, time zones, live changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Services
from bot.clock import Clock, ManualClock
from bot.context import JobContext
from bot.recurrence import weekly
from storage.models import Schedule
from storage.repositories import Repos
from tests.conftest import make_settings

Fired = list[tuple[int, datetime]]


def recording(services: Services, fired: Fired) -> None:
    async def tick(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
        fired.append((schedule.id, fire_time))
        await ctx.repo.audit.record(None, "test.tick", f"{schedule.id}@{fire_time.isoformat()}")

    services.scheduler.handlers["test.tick"] = tick


async def put(
    services: Services, ref: str, starts_at: datetime, rrule: str | None = None, tz: str = "UTC"
) -> Schedule:
    async with services.database.transaction() as session:
        return await services.scheduler.put(
            session, kind="test.tick", ref=ref, timezone=tz, starts_at=starts_at, rrule=rrule
        )


async def test_two_instances_run_each_due_item_exactly_once(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    other = Services(make_settings(tmp_path / "b", services.settings.resolved_database_url), clock=clock)
    fired: Fired = []
    recording(services, fired)
    recording(other, fired)
    for n in range(40):
        await put(services, f"item-{n}", clock.now() + timedelta(minutes=1))
    clock.advance(timedelta(minutes=2))
    counts = await asyncio.gather(
        services.scheduler.run_due(),
        other.scheduler.run_due(),
        services.scheduler.run_due(),
        other.scheduler.run_due(),
    )
    await other.database.dispose()
    assert sum(counts) == 40
    assert len(fired) == 40 and len(set(fired)) == 40


async def test_weekly_slot_keeps_local_time_across_daylight_saving(
    services: Services, clock: ManualClock
) -> None:
    fired: Fired = []
    recording(services, fired)
    clock.set(datetime(2027, 3, 20, 12, 0, tzinfo=UTC))
    schedule = await put(services, "monday", clock.now(), weekly(["MO"], 9, 30), tz="Europe/Amsterdam")
    for _ in range(3):
        async with services.database.transaction() as session:
            current = await Repos(session).schedules.get(schedule.id)
            assert current is not None and current.next_fire_at is not None
        clock.set(current.next_fire_at + timedelta(minutes=1))
        await services.scheduler.run_due()
    hours = [moment.hour for _, moment in fired]
    assert [moment.date().isoformat() for _, moment in fired] == ["2027-03-22", "2027-03-29", "2027-04-05"]
    assert hours == [8, 7, 7], "09:30 in Amsterdam is 08:30 UTC in winter and 07:30 UTC in summer"


async def test_missed_fire_times_are_caught_up_once_within_grace(
    services: Services, clock: ManualClock
) -> None:
    fired: Fired = []
    recording(services, fired)
    start = clock.now()
    await put(services, "hourly", start + timedelta(hours=1), "FREQ=HOURLY")
    clock.advance(timedelta(hours=3, minutes=10))  # the bot was down: 3 fire times missed
    assert await services.scheduler.run_due() == 1
    assert fired == [(fired[0][0], start + timedelta(hours=3))]
    async with services.database.transaction() as session:
        schedule = await Repos(session).schedules.by_ref("test.tick", "hourly")
        assert schedule is not None and schedule.next_fire_at == start + timedelta(hours=4)


async def test_fire_times_older_than_the_grace_period_are_skipped(
    services: Services, clock: ManualClock
) -> None:
    fired: Fired = []
    recording(services, fired)
    await put(services, "once", clock.now() + timedelta(minutes=5))
    clock.advance(timedelta(hours=7))
    assert await services.scheduler.run_due() == 0
    assert fired == []
    async with services.database.transaction() as session:
        schedule = await Repos(session).schedules.by_ref("test.tick", "once")
        assert schedule is not None and not schedule.enabled


async def test_a_failing_handler_does_not_block_the_others(services: Services, clock: ManualClock) -> None:
    fired: Fired = []
    recording(services, fired)

    async def broken(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
        await ctx.repo.audit.record(None, "half-done")
        raise RuntimeError("boom")

    services.scheduler.handlers["test.broken"] = broken
    async with services.database.transaction() as session:
        await services.scheduler.put(
            session, kind="test.broken", ref="b", timezone="UTC", starts_at=clock.now()
        )
    await put(services, "fine", clock.now())
    clock.advance(timedelta(seconds=1))
    assert await services.scheduler.run_due() == 1
    async with services.database.transaction() as session:
        repos = Repos(session)
        broken_schedule = await repos.schedules.by_ref("test.broken", "b")
        assert broken_schedule is not None and "boom" in (broken_schedule.last_error or "")
        assert [entry.action for entry in await repos.audit.latest()] == ["test.tick"], (
            "the failed work was rolled back"
        )


async def test_unknown_schedule_kind_is_refused(services: Services, clock: ManualClock) -> None:
    async with services.database.transaction() as session:
        with pytest.raises(ValueError, match="no handler"):
            await services.scheduler.put(session, kind="nope", ref="x", timezone="UTC", starts_at=clock.now())


async def test_a_change_in_another_instance_takes_effect_without_restart(
    database_url: str, tmp_path: Path
) -> None:
    """Instance B runs the real clock; instance A adds a schedule; B fires it after its resync."""
    settings = make_settings(tmp_path / "b", database_url, background=True, scheduler_resync_seconds=0.3)
    runner = Services(settings, clock=Clock())
    writer = Services(make_settings(tmp_path / "a", database_url), clock=Clock())
    fired: Fired = []
    recording(runner, fired)
    recording(writer, fired)
    await runner.start()
    try:
        await put(writer, "soon", datetime.now(UTC) + timedelta(seconds=0.5))
        for _ in range(50):
            if fired:
                break
            await asyncio.sleep(0.1)
        assert len(fired) == 1
    finally:
        await runner.stop()
        await writer.database.dispose()


async def test_a_handler_that_changed_its_schedule_and_failed_blocks_nothing(
    services: Services, clock: ManualClock
) -> None:
    fired: Fired = []
    recording(services, fired)
    attempts: list[datetime] = []

    async def flaky(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
        attempts.append(fire_time)
        schedule.payload = {**schedule.payload, "cursor": len(attempts)}
        await ctx.session.flush()
        if len(attempts) < 3:
            raise RuntimeError("the LLM timed out")
        await ctx.repo.audit.record(None, "flaky.done")

    services.scheduler.handlers["test.flaky"] = flaky
    async with services.database.transaction() as session:
        await services.scheduler.put(
            session, kind="test.flaky", ref="f", timezone="UTC", starts_at=clock.now(), rrule="FREQ=DAILY"
        )
    await put(services, "fine", clock.now() + timedelta(seconds=1))
    first_fire = clock.now()
    clock.advance(timedelta(seconds=2))
    await services.scheduler.run_due()
    assert [ref for ref, _ in fired] and attempts == [first_fire], (
        "the other schedule fired despite the failure"
    )
    for minutes in (1, 2):  # retried after 1, then 2 minutes, with the original fire time
        clock.advance(timedelta(minutes=minutes, seconds=1))
        await services.scheduler.run_due()
    assert attempts == [first_fire, first_fire, first_fire]
    async with services.database.transaction() as session:
        schedule = await Repos(session).schedules.by_ref("test.flaky", "f")
        assert schedule is not None and schedule.last_error is None and schedule.retries == 0
        assert schedule.payload == {"cursor": 3} and schedule.next_fire_at == first_fire + timedelta(days=1)


async def test_catch_up_never_fires_after_the_series_ended(services: Services, clock: ManualClock) -> None:
    fired: Fired = []
    recording(services, fired)
    start = clock.now()
    async with services.database.transaction() as session:
        await services.scheduler.put(
            session,
            kind="test.tick",
            ref="until",
            timezone="UTC",
            starts_at=start + timedelta(hours=1),
            rrule="FREQ=DAILY",
            ends_at=start + timedelta(days=2, hours=2),
        )
    clock.advance(timedelta(days=3, hours=1, minutes=30))  # down until after the end
    await services.scheduler.run_due()
    assert all(moment <= start + timedelta(days=2, hours=2) for _, moment in fired)
