"""Telegram as the tests see it: the fake Bot API server (module-wide), our app with the Telegram platform
started on it, and people who post updates to our webhook and press buttons, as Telegram's servers would.
Used by every ``tests/platforms/test_telegram*.py``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import Services
from bot.clock import ManualClock
from bot.config import Settings
from bot.messages import Message
from bot.platforms.telegram import TelegramPlatform
from bot.server import create_app
from storage.models import Member, Role
from storage.repositories import Repos
from tests.conftest import make_settings
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeTelegram

SECRET = "webhook-s3cret"
GROUP = -100500


@pytest.fixture(scope="module")
def fake_api() -> Iterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    with serve(fake.app) as url:
        yield fake, url


class TelegramUser:
    """A person in Telegram: their private chat with the bot has their user id."""

    def __init__(self, tg: Telegram, user_id: int, name: str, language: str = "nl") -> None:
        self.tg, self.user_id, self.name, self.language = tg, user_id, name, language

    def update(self, text: str, chat: int | None = None, update_id: int | None = None) -> dict[str, Any]:
        if chat is not None and chat not in self.tg.fake.chats:
            self.tg.fake.add_chat(chat, "supergroup", "Weekstart Team")
        chat_type = "private" if chat is None else self.tg.fake.chats[chat]["type"]
        return self.tg.fake.message_update(
            update_id, chat or self.user_id, self.user_id, text, self.name, self.language, chat_type
        )

    async def says(self, text: str, chat: int | None = None) -> httpx.Response:
        response = await self.tg.post(self.update(text, chat))
        await self.tg.deliver()
        return response

    async def presses(self, label: str, chat: int | None = None) -> httpx.Response:
        where = chat or self.user_id
        for message in reversed(self.tg.fake.messages(where)):
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        update = self.tg.fake.callback_query_update(
                            None,
                            self.user_id,
                            where,
                            message["message_id"],
                            button["callback_data"],
                            self.name,
                        )
                        response = await self.tg.post(update)
                        await self.tg.deliver()
                        return response
        raise AssertionError(f"no button {label!r} in chat {where}")

    def sees(self, chat: int | None = None) -> list[str]:
        return [message["text"] for message in self.tg.fake.messages(chat or self.user_id)]

    def last(self, chat: int | None = None) -> str:
        seen = self.sees(chat)
        assert seen, "the bot has not said anything there"
        return seen[-1]


class Telegram:
    """Our app with the Telegram platform, driven over HTTP like Telegram's servers would."""

    def __init__(self, settings: Settings, clock: ManualClock, fake: FakeTelegram) -> None:
        self.settings, self.clock, self.fake = settings, clock, fake
        self.services: Services
        self.client: httpx.AsyncClient

    async def start(self) -> None:
        self.services = Services(self.settings, clock=self.clock)
        await self.services.start()
        transport = httpx.ASGITransport(app=create_app(self.services))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://klantpet.test")

    async def stop(self) -> None:
        await self.client.aclose()
        await self.services.stop()

    async def restart(self) -> None:
        """A new process on the same database (nothing kept in memory survives)."""
        await self.stop()
        await self.start()

    @property
    def platform(self) -> TelegramPlatform:
        platform = self.services.platforms["telegram"]
        assert isinstance(platform, TelegramPlatform)
        return platform

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return await self.client.post("/telegram/webhook", json=update, headers=headers)

    async def deliver(self) -> int:
        return await self.services.outbox.drain()

    def t(self, locale: str, key: str, **params: Any) -> str:
        return self.platform.t(locale, key, **params)

    async def member(self, name: str, *, locale: str = "nl", roles: tuple[Role, ...] = ()) -> Member:
        async with self.services.database.transaction() as session:
            return await Repos(session).members.create(name, locale=locale, roles=roles, now=self.clock.now())

    async def linked(self, name: str, user_id: int, *, roles: tuple[Role, ...] = ()) -> TelegramUser:
        member = await self.member(name, roles=roles)
        person = TelegramUser(self, user_id, name.split()[0])
        await person.says(f"/start {code_of(await self.platform.invitations.create(member.id))}")
        return person

    async def count(self, model: Any) -> int:
        async with self.services.database.transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def code_of(link: str) -> str:
    found = re.fullmatch(r"https://t\.me/klantpet_test_bot\?start=([A-Za-z0-9_-]+)", link)
    assert found, link
    return found.group(1)


@pytest.fixture
async def tg(
    tmp_path: Path, database_url: str, clock: ManualClock, fake_api: tuple[FakeTelegram, str]
) -> AsyncIterator[Telegram]:
    fake, url = fake_api
    fake.reset(chats=True)
    # a little looser than the pace we keep ourselves, so network jitter never turns into a 429 here
    fake.per_chat_rate, fake.group_per_minute, fake.global_rate = 1.3, 20, 30.0
    settings = make_settings(
        tmp_path,
        database_url,
        web_chat=False,
        telegram_bot_token=fake.token,
        telegram_webhook_secret=SECRET,
        telegram_api_url=url,
        public_url="https://klantpet.example",
    )
    running = Telegram(settings, clock, fake)
    await running.start()
    yield running
    await running.stop()


async def enqueue(tg: Telegram, key: str, target: str, message: Message, edit_ref: str | None = None) -> None:
    async with tg.services.database.transaction() as session:
        await tg.services.outbox.enqueue(
            session,
            key=key,
            topic="test",
            platform="telegram",
            target=target,
            message=message,
            locale="nl",
            edit_ref=edit_ref,
        )
