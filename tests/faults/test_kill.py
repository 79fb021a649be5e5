"""A bot process killed with SIGKILL in the middle of a broadcast loses nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Services
from tests.conftest import make_settings
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

PEOPLE = 2000

pytestmark = pytest.mark.slow


async def test_a_bot_killed_mid_broadcast_delivers_everything_after_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    fake = FakeSlack(rate_per_channel=1.0)
    identities = slack_users(fake, PEOPLE)
    with serve(fake.app) as api_url:
        platform = slack_settings(api_url)
        services = Services(
            make_settings(tmp_path, database_url, web_chat=False, secret_key=SECRET_KEY, **platform)
        )
        await add_members(services.database, "slack", identities)
        await open_pulse(services)  # 2,000 pulse DMs wait in the outbox
        await services.database.dispose()

        environment = bot_environment(
            database_url, tmp_path / "bot", outbox_lease_seconds=3, web_chat="false", **platform
        )
        first = BotProcess(environment).start()
        try:
            await wait_for(lambda: sum(slack_dms(fake).values()) >= 300, 120, "the broadcast to start")
        finally:
            first.kill()
        killed_at = len(slack_dms(fake))
        assert killed_at < PEOPLE, "the broadcast was over before the kill"

        second = BotProcess(environment).start()
        try:
            await wait_for(lambda: len(slack_dms(fake)) == PEOPLE, 180, "every DM after the restart")
        finally:
            output = second.stop()

    received = slack_dms(fake)
    duplicates = sum(received.values()) - len(received)
    print(
        f"\nkilled after {killed_at} of {PEOPLE} DMs; after the restart all {len(received)} arrived, "
        f"{duplicates} twice (sent but not yet recorded when the process died)"
    )
    assert len(received) == PEOPLE, f"lost: {PEOPLE - len(received)}\n{output}"
    window = services.settings.outbox_batch_size  # at most what one process holds claimed at once
    assert duplicates <= window, "duplicates beyond the in-flight window"
