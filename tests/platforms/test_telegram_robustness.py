"""Telegram when things are not as they should be: Telegram down at start, a group that became a supergroup
with messages still queued for it, a malformed request, an invitation for someone who left — and every
time stamp taken from the app's clock.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from telegram.error import InvalidToken

from bot.app import Services
from bot.clock import ManualClock
from bot.config import Settings
from bot.context import JobContext
from bot.messages import Message
from bot.platforms.telegram import TelegramPlatform
from bot.server import create_app
from storage.models import Identity, Member, ProcessedEvent
from storage.repositories import Repos
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.platforms.telegram_harness import SECRET, Telegram, TelegramUser, code_of, fake_api, tg

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
FIXTURES = (fake_api, tg)  # pytest hands these to the tests by name


async def test_a_content_length_that_is_not_a_number_is_a_bad_request(tg: Telegram) -> None:
    response = await tg.client.post(
        "/telegram/webhook",
        content=b'{"update_id": 1}',
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Length": "lots"},
    )
    assert response.status_code == 400


async def test_messages_queued_for_a_group_follow_it_when_it_becomes_a_supergroup(tg: Telegram) -> None:
    anna = await tg.linked("Anna", 1001)
    tg.fake.add_chat(-500, "group", "Team Zuid")
    await anna.says("/help@klantpet_test_bot", chat=-500)  # the group is a channel Klantpet knows
    async with tg.services.database.transaction() as session:
        job = JobContext(tg.services, session)
        channel = await job.repo.channels.by_external("telegram", "-500")
        assert channel is not None
        for n in (1, 2):
            await job.post(channel, Message.text(f"Klantverhaal {n}"), key=f"test:story:{n}")
    tg.fake.migrate_chat(-500, -100999)  # upgraded before the queue was sent; no update told us yet
    for _ in range(3):
        await tg.deliver()
        await asyncio.sleep(1.0)  # one message a second in a chat
    assert [message["text"] for message in tg.fake.messages(-100999)] == ["Klantverhaal 1", "Klantverhaal 2"]
    async with tg.services.database.transaction() as session:
        repos = Repos(session)
        sent = [await repos.deliveries.by_key(f"test:story:{n}") for n in (1, 2)]
        statuses = [delivery.status if delivery else None for delivery in sent]
        moved = await repos.channels.by_external("telegram", "-100999")
    assert statuses == ["sent", "sent"]
    assert moved is not None and moved.name == "Team Zuid"  # the channel moved along, and everything on it


@pytest.fixture
def telegram_settings(tmp_path: Path, database_url: str, fake_api: tuple[FakeTelegram, str]) -> Settings:
    fake, url = fake_api
    fake.reset(chats=True)
    fake.per_chat_rate, fake.group_per_minute, fake.global_rate = 1.3, 20, 30.0
    return make_settings(
        tmp_path,
        database_url,
        telegram_bot_token=fake.token,
        telegram_webhook_secret=SECRET,
        telegram_api_url=url,
        public_url="https://klantpet.example",
    )


async def test_telegram_down_at_start_does_not_keep_klantpet_down(
    telegram_settings: Settings, clock: ManualClock, fake_api: tuple[FakeTelegram, str]
) -> None:
    fake, _ = fake_api
    fake.add_chat(1001)
    fake.fail_next("getMe", 2, "500")  # Telegram answers 500 to the start and to the first retry
    services = Services(telegram_settings, clock=clock)
    platform = services.platforms["telegram"]
    assert isinstance(platform, TelegramPlatform)
    platform.connection.retry_delays = (0.2,)
    await services.start()  # Klantpet starts: the web chat, the dashboard, other platforms work
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(services)), base_url="http://t")
    try:
        assert not platform.connected and fake.webhook["url"] == ""
        assert (await client.get("/healthz")).status_code == 200
        update = fake.message_update(None, 1001, 1001, "/help", "Anna", "nl", "private")
        refused = await client.post(
            "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert refused.status_code == 503  # Telegram tries again later
        async with services.database.transaction() as session:
            await services.outbox.enqueue(
                session,
                key="test:waiting",
                topic="test",
                platform="telegram",
                target="1001",
                message=Message.text("Even geduld"),
                locale="nl",
            )
        await services.outbox.drain()
        assert fake.messages(1001) == []  # waits in the outbox, not lost

        for _ in range(50):  # the connection is retried in the background
            if platform.connected:
                break
            await asyncio.sleep(0.1)
        assert platform.connected
        assert fake.webhook["url"] == "https://klantpet.example/telegram/webhook"
        assert fake.commands_for("nl")  # the command menu is published once Telegram is back
        clock.advance(timedelta(minutes=5))
        await services.outbox.drain()
        assert [message["text"] for message in fake.messages(1001)] == ["Even geduld"]
    finally:
        await client.aclose()
        await services.stop()


async def test_a_wrong_bot_token_still_stops_the_start(
    tmp_path: Path, database_url: str, clock: ManualClock, fake_api: tuple[FakeTelegram, str]
) -> None:
    _, url = fake_api
    settings = make_settings(
        tmp_path,
        database_url,
        telegram_bot_token="123456:WRONG",
        telegram_webhook_secret=SECRET,
        telegram_api_url=url,
    )
    services = Services(settings, clock=clock)
    try:
        with pytest.raises(InvalidToken):
            await services.start()  # a mistake to fix, not an outage to wait out
    finally:
        await services.stop()


async def test_an_invitation_for_someone_who_left_links_nobody_and_stays_for_their_return(
    tg: Telegram,
) -> None:
    bram = await tg.member("Bram Jansen")
    code = code_of(await tg.platform.invitations.create(bram.id))

    async def set_active(active: bool) -> None:
        async with tg.services.database.transaction() as session:
            await session.execute(update(Member).where(Member.id == bram.id).values(active=active))

    async def open_invitations() -> list[int]:
        async with tg.services.database.transaction() as session:
            return [invite.member_id for invite in await Repos(session).telegram.open_invites(tg.clock.now())]

    await set_active(False)  # Bram left (his account was deactivated) before he opened the link
    phone = TelegramUser(tg, 1002, "Bram")
    await phone.says(f"/start {code}")
    assert phone.last() == tg.t("nl", "telegram.invite_unknown")
    assert await tg.count(Identity) == 0 and await open_invitations() == [bram.id]
    await set_active(True)  # he is back: the same link works
    await phone.says(f"/start {code}")
    assert tg.t("nl", "telegram.linked", name="Bram") in phone.sees()
    assert await open_invitations() == []


async def test_time_stamps_come_from_the_apps_clock(tg: Telegram) -> None:
    tg.clock.advance(timedelta(days=400))  # far from the wall clock: a wrong source shows at once
    now = tg.clock.now()
    anna = await tg.linked("Anna de Vries", 1001)
    await anna.says("/ik")
    added = {
        "update_id": 9001,
        "my_chat_member": {
            "chat": {"id": -700, "type": "group", "title": "Team Noord"},
            "from": {"id": 1001, "is_bot": False, "first_name": "Anna"},
            "date": 1700000000,
            "old_chat_member": {"status": "left", "user": tg.fake.bot_user},
            "new_chat_member": {"status": "member", "user": tg.fake.bot_user},
        },
    }
    assert (await tg.post(added)).status_code == 200
    async with tg.services.database.transaction() as session:
        identity = (await session.scalars(select(Identity))).one()
        received = set((await session.scalars(select(ProcessedEvent.received_at))).all())
    assert identity.created_at == now
    assert received == {now}
