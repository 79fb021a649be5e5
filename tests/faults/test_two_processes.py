"""Two bot processes on one PostgreSQL: every scheduled item fires once and every message is sent once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Services
from storage.models import Schedule
from tests.conftest import IN_CI, make_settings
from tests.databases import PostgresUnavailable, Templates
from tests.fakes.server import serve
from tests.fakes.slack_api import FakeSlack
from tests.faults.support import (
    SECRET_KEY,
    BotProcess,
    add_members,
    bot_environment,
    open_pulse,
    slack_dms,
    slack_settings,
    slack_users,
    wait_for,
)

PEOPLE = 40
ROUNDS = 4

pytestmark = pytest.mark.slow


@pytest.fixture
async def postgres_url(templates: Templates) -> AsyncIterator[str]:
    try:
        url = await templates.postgres()
    except PostgresUnavailable as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI: {error}")
        pytest.skip(f"PostgreSQL not available locally: {error}")
    yield url
    await templates.drop(url)


async def test_two_processes_fire_each_schedule_once_and_send_each_message_once(
    postgres_url: str, tmp_path: Path
) -> None:
    fake = FakeSlack(rate_per_channel=1.0)
    people = slack_users(fake, PEOPLE)
    with serve(fake.app) as api_url:
        platform = slack_settings(api_url)
        environment = bot_environment(
            postgres_url, tmp_path / "bot", scheduler_resync_seconds=1, web_chat="false", **platform
        )
        bots = [BotProcess(environment).start(), BotProcess(environment).start()]
        try:
            services = Services(
                make_settings(tmp_path, postgres_url, web_chat=False, secret_key=SECRET_KEY, **platform)
            )
            await add_members(services.database, "slack", people)
            opening = datetime.now(UTC) + timedelta(seconds=6)
            rounds = [
                await open_pulse(services, name=f"Ronde {n}", opens_at=opening + timedelta(seconds=n))
                for n in range(ROUNDS)
            ]
            # Both processes learn of the new schedules at their next resync and race to fire them.
            await wait_for(lambda: sum(slack_dms(fake).values()) >= PEOPLE * ROUNDS, 120, "every round's DMs")
            await asyncio.sleep(2)  # a late duplicate would show itself now
            async with services.database.transaction() as session:
                openings = (
                    await session.scalars(select(Schedule).where(Schedule.kind == "pulse.open"))
                ).all()
            await services.database.dispose()
        finally:
            outputs = [bot.stop() for bot in bots]
    cards = slack_dms(fake)
    print(f"\n{ROUNDS} rounds x {PEOPLE} people through two processes: {sum(cards.values())} cards sent")
    assert {schedule.ref for schedule in openings} == {f"round:{number}" for number in rounds}
    assert [schedule.fire_count for schedule in openings] == [1] * ROUNDS, outputs
    assert len(cards) == PEOPLE and set(cards.values()) == {ROUNDS}, "a card was lost or sent twice"
