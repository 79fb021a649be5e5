"""Slack outbound through the outbox: DMs by user id, rate limits per channel and for the workspace,
Retry-After on 429, ephemeral answers that fall back to the DM where the bot cannot post."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Services
from bot.clock import ManualClock
from bot.messages import Message
from storage.models import Delivery
from tests.fakes.server import serve
from tests.fakes.slack_api import FakeSlack
from tests.platforms.conftest import ANNA, ANNA_DM, Workspace, slack_settings, text_of


def t(workspace: Workspace, locale: str, key: str, **params: object) -> str:
    return workspace.services.catalog.t(locale, key, organisation="Testbedrijf", **params)


async def test_slack_429_is_honoured_and_the_message_still_arrives(workspace: Workspace) -> None:
    workspace.fake.fail_next("chat.postMessage", kind="429")
    await workspace.command("help", channel=ANNA_DM)
    await workspace.settle()
    [key] = [c for c in await delivery_keys(workspace)]
    pending = await workspace.delivery(key)
    assert pending is not None and pending.status == "pending" and pending.attempts == 0
    assert pending.not_before >= workspace.clock.now() + timedelta(seconds=1)
    assert workspace.dm() == []
    await workspace.settle(later=1)
    sent = await workspace.delivery(key)
    assert (
        sent is not None
        and sent.status == "sent"
        and sent.platform_message_id == f"{ANNA_DM}:{workspace.dm()[0]['ts']}"
    )


async def test_messages_to_one_channel_keep_to_one_a_second(workspace: Workspace) -> None:
    for text in ("help", "ik", "hulp"):
        await workspace.command(text, channel=ANNA_DM)
    started = time.monotonic()
    await workspace.settle()
    assert len(workspace.dm()) == 3 and workspace.fake.rate_limited == 0
    assert time.monotonic() - started >= 1.9


async def test_an_unknown_channel_fails_for_good(workspace: Workspace) -> None:
    async with workspace.services.database.transaction() as session:
        await workspace.services.outbox.enqueue(
            session,
            key="x:1",
            topic="x",
            platform="slack",
            target="C0NOWHERE",
            message=Message.text("hallo"),
            locale="nl",
        )
    await workspace.settle()
    failed = await workspace.delivery("x:1")
    assert (
        failed is not None and failed.status == "failed" and "channel_not_found" in (failed.last_error or "")
    )


async def delivery_keys(workspace: Workspace) -> list[str]:
    async with workspace.services.database.transaction() as session:
        rows = await session.scalars(select(Delivery.idempotency_key))
        return list(rows)


async def test_a_direct_message_goes_to_the_user_id_without_opening_a_conversation(
    workspace: Workspace,
) -> None:
    await workspace.command("help", channel=ANNA_DM)
    await workspace.settle()
    [post] = workspace.fake.calls_to("chat.postMessage")
    assert post.params["channel"] == ANNA, "the user id is the channel"
    assert workspace.fake.calls_to("conversations.open") == []


async def test_where_the_bot_cannot_post_an_ephemeral_answer_goes_to_the_dm(workspace: Workspace) -> None:
    workspace.fake.add_channel("G0PRIVATE", "geheim", members=[ANNA], is_private=True)  # without the bot
    await workspace.command("help", channel="G0PRIVATE")
    await workspace.settle()
    assert workspace.fake.ephemerals == []
    [refused] = workspace.fake.calls_to("chat.postEphemeral")
    assert refused.error == "channel_not_found"
    [answer] = workspace.dm()
    assert t(workspace, "nl", "help.intro") in text_of(answer)


@pytest.fixture
async def paced(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> AsyncIterator[tuple[Services, FakeSlack]]:
    """Klantpet allowed one message a second to the whole workspace, and a Slack that enforces exactly that."""
    fake = FakeSlack(
        rate_per_channel=None, workspace_rate=1.0, workspace_burst=2.0
    )  # a small burst, like Slack
    for number in range(3):
        fake.add_channel(f"C0TEAM{number}", f"team{number}")
    with serve(fake.app) as url:
        services = Services(
            slack_settings(tmp_path, database_url, url, slack_workspace_rate=1.0), clock=clock
        )
        await services.start()
        try:
            yield services, fake
        finally:
            await services.stop()


async def test_messages_to_the_whole_workspace_keep_to_its_rate(paced: tuple[Services, FakeSlack]) -> None:
    services, fake = paced
    async with services.database.transaction() as session:
        for number in range(3):
            await services.outbox.enqueue(
                session,
                key=f"news:{number}",
                topic="news",
                platform="slack",
                target=f"C0TEAM{number}",
                message=Message.text(f"Nieuws {number}"),
                locale="nl",
            )
    await services.outbox.drain()
    posts = fake.calls_to("chat.postMessage")
    assert len(posts) == 3 and fake.rate_limited == 0, "three channels, yet never faster than the workspace"
    assert posts[-1].at - posts[0].at >= 1.9
