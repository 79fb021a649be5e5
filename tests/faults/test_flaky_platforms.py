"""A platform that answers one call in five with 429, a 5xx or no answer at all still gets every message once.

Each platform's real SDK client talks to its local fake through `Unreliable`, which fails a fifth of the
send calls before the fake sees them: 429 with ``Retry-After``, 500/502/503, or silence longer than our
client waits (a timeout), then 504. The production dispatcher loop runs on the real clock.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import Services
from tests.conftest import make_settings
from tests.fakes.server import serve
from tests.fakes.slack_api import FakeSlack
from tests.fakes.teams_api import FakeTeams
from tests.fakes.telegram_api import FakeTelegram
from tests.faults.support import (
    SECRET_KEY,
    Unreliable,
    add_members,
    open_pulse,
    slack_dms,
    slack_settings,
    slack_users,
    store_personal_chats,
    teams_people,
    telegram_people,
    wait_for,
)

PEOPLE = 60

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]


@dataclass
class Flaky:
    """One platform made unreliable: our settings for it and how many messages each person received."""

    settings: dict[str, Any]
    people: list[tuple[str, str | None]]
    received: Callable[[], Counter[str]]
    injected: Counter[str]
    prepare: Callable[[Services], Any] | None = None


@contextlib.contextmanager
def flaky_slack() -> Iterator[Flaky]:
    fake = FakeSlack(rate_per_channel=1.0)
    people = slack_users(fake, PEOPLE)
    unreliable = Unreliable(fake.app, lambda scope: scope["path"].endswith("/chat.postMessage"), stall=11)
    with serve(unreliable) as url:
        yield Flaky(slack_settings(url), people, lambda: slack_dms(fake), unreliable.injected)


@contextlib.contextmanager
def flaky_telegram() -> Iterator[Flaky]:
    fake = FakeTelegram(per_chat_rate=1.0, global_rate=30.0)
    people = telegram_people(PEOPLE)
    for chat, _ in people:
        fake.add_chat(int(chat), "private")
    unreliable = Unreliable(fake.app, lambda scope: scope["path"].endswith("/sendMessage"), stall=6)

    def received() -> Counter[str]:
        calls = list(fake.calls)
        return Counter(
            str(c.params.get("chat_id")) for c in calls if c.method == "sendMessage" and c.status == 200
        )

    with serve(unreliable) as url:
        settings = {
            "telegram_bot_token": fake.token,
            "telegram_webhook_secret": "fault-tests-webhook-secret",
            "telegram_api_url": url,
        }
        yield Flaky(settings, people, received, unreliable.injected)


@contextlib.contextmanager
def flaky_teams() -> Iterator[Flaky]:
    fake = FakeTeams()
    people = teams_people(PEOPLE)

    def sends(scope: dict[str, Any]) -> bool:
        return (
            scope["method"] == "POST"
            and "/v3/conversations/" in scope["path"]
            and "activities" in scope["path"]
        )

    unreliable = Unreliable(fake.app, sends, stall=21)

    def received() -> Counter[str]:
        return Counter(str(c.conversation_id) for c in fake.calls if c.op == "send" and c.status == 201)

    with serve(unreliable) as url:
        fake.base_url = url
        settings = {
            "teams_client_id": fake.app_id,
            "teams_client_secret": fake.app_secret,
            "teams_tenant_id": fake.tenant_id,
            "teams_service_url": fake.service_url,
        }

        async def prepare(services: Services) -> None:
            from bot.platforms.teams import TeamsPlatform

            services.platforms["teams"] = TeamsPlatform(
                services, token_provider_factory=fake.token_provider_factory
            )
            await store_personal_chats(services, fake.service_url, fake.app_id, fake.tenant_id, people)

        yield Flaky(settings, people, received, unreliable.injected, prepare)


PLATFORMS = {"slack": flaky_slack, "telegram": flaky_telegram, "teams": flaky_teams}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
async def test_every_message_arrives_once_through_a_platform_that_fails_a_fifth_of_the_calls(
    platform: str, database_url: str, tmp_path: Path
) -> None:
    with PLATFORMS[platform]() as flaky:
        services = Services(
            make_settings(
                tmp_path,
                database_url,
                web_chat=False,
                background=True,
                secret_key=SECRET_KEY,
                **flaky.settings,
            )
        )
        await add_members(services.database, platform, flaky.people)
        if flaky.prepare is not None:
            await flaky.prepare(services)
        await services.start()
        try:
            await open_pulse(services)
            await wait_for(
                lambda: len(flaky.received()) == PEOPLE, 240, f"every DM through a flaky {platform}"
            )
            await wait_for(lambda: services.outbox.idle, 30, "the dispatcher to record the last outcomes")
        finally:
            await services.stop()
            await services.database.dispose()
        received = flaky.received()
    print(
        f"\n{platform}: injected {dict(flaky.injected)}; {len(received)} people each got "
        f"{set(received.values())} message(s)"
    )
    assert sum(flaky.injected.values()) >= PEOPLE // 10, (
        "the platform was not unreliable enough to prove much"
    )
    assert len(received) == PEOPLE and set(received.values()) == {1}
