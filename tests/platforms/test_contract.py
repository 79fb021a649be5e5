"""The bar every platform adapter meets (STYLE.md), as one suite run against all four adapters.

Each adapter is driven the way its platform drives it — Slack's signed requests, Teams' Bot Framework tokens,
Telegram's webhook secret, a browser's cookie — and answers through its real SDK client against the local
fakes in ``tests/fakes/``, which enforce each platform's limits. The bar:

- an unauthenticated request is refused and changes nothing;
- the same event delivered twice is handled once;
- a message with every block of the neutral model reaches the person, within the platform's limits;
- a rate limit's Retry-After is honoured without counting a failed attempt (the web chat has no remote API
  that could send one, so that part runs against the three external platforms).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import Services
from bot.clock import ManualClock
from bot.context import JobContext
from bot.messages import (
    Button,
    Buttons,
    Choice,
    Context,
    Divider,
    Field_,
    Form,
    Image,
    Message,
    Option,
    Quote,
    Text,
    Video,
)
from bot.server import create_app
from storage.models import Delivery, Member, ProcessedEvent
from storage.repositories import Repos
from tests.conftest import make_settings
from tests.fakes.server import serve
from tests.fakes.teams_api import FakeTeams
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import Chat, Person
from tests.platforms.conftest import ANNA, Workspace, dm_event
from tests.platforms.test_teams import AAD, Teams, teams_settings, with_fake_tokens
from tests.platforms.test_teams_render import size
from tests.platforms.test_telegram import SECRET, Telegram, TelegramUser

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

PLATFORMS = ["slack", "teams", "telegram", "web"]
TEAMS_MAX_BYTES = 28 * 1024  # Teams refuses a bot activity larger than about 28 KB

LONG_TEXT = "\n\n".join(f"Alinea {n}: " + "klantwoord " * 150 for n in range(5)) + "\n\nSlotalinea"
EVERY_BLOCK = Message(
    blocks=(
        Text(text=LONG_TEXT),  # ~7,600 characters: over Slack's section and Telegram's message limit
        Context(text="Voetnoot van de redactie"),
        Quote(text="De klant belde drie keer", author="Mevrouw Jansen"),
        Image(url="https://example.com/klant.png", alt="Foto van de klant"),
        Video(url="https://example.com/vlog.mp4", title="Vlog van Lars"),
        Divider(),
        Buttons(
            buttons=(
                Button(label="Doe mee", action="contract.join", style="primary"),
                Button(label="Later", action="contract.later"),
            )
        ),
        Choice(
            style="scale",
            action="contract.score",
            label="Hoe waarschijnlijk?",
            options=tuple(Option(label=str(score), payload={"score": score}) for score in range(11)),
            low_label="Helemaal niet",
            high_label="Zeer waarschijnlijk",
        ),
        Choice(
            style="select",
            action="contract.team",
            label="Kies een team",
            options=(
                Option(label="Team Oranje", payload={"team": "oranje"}),
                Option(label="Team Blauw", payload={"team": "blauw"}),
            ),
        ),
        Form(
            action="contract.idea",
            title="Jouw idee",
            fields=(
                Field_(name="idea", label="Wat helpt de klant?", style="textarea"),
                Field_(name="team", label="Team", style="select", options=(("o", "Oranje"), ("b", "Blauw"))),
                Field_(name="name", label="Naam", required=False),
            ),
            submit_label="Verstuur",
        ),
    ),
    key="contract.every_block",
)
SHOWN = [
    "Alinea 0",
    "Slotalinea",
    "Voetnoot van de redactie",
    "De klant belde drie keer",
    "Vlog van Lars",
    "Doe mee",
    "Hoe waarschijnlijk?",
    "Team Oranje",
    "Jouw idee",
]


class Adapter(Protocol):
    """One platform as its users and its servers reach it."""

    services: Services
    clock: ManualClock

    async def unauthenticated(self, text: str) -> int:
        """Send ``text`` as the person, without (valid) credentials; the HTTP status."""
        ...

    async def twice(self, text: str) -> list[int]:
        """Send ``text`` as the person, then the very same event again; the HTTP statuses."""
        ...

    async def person(self) -> Member:
        """The person, once they have talked to the bot."""
        ...

    def shown(self) -> list[dict[str, Any]]:
        """What the bot has shown the person in their direct messages, as the platform stores it."""
        ...

    def fail_next_send(self) -> None:
        """The platform answers the next message with a rate limit: 429 and Retry-After: 1."""
        ...

    def assert_within_limits(self) -> None: ...

    async def settle(self) -> None:
        """Let inbound work finish and the outbox deliver what is due."""
        ...


# --- The four adapters ---------------------------------------------------------------------------------


class SlackAdapter:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.services = workspace.services
        self.clock = workspace.clock

    async def unauthenticated(self, text: str) -> int:
        response = await self.workspace.event(dm_event(text), secret="not-the-signing-secret")
        return response.status_code

    async def twice(self, text: str) -> list[int]:
        event = dm_event(text, ts="1700000005.000100")
        first = await self.workspace.event(event, event_id="Ev0CONTRACT1")
        again = await self.workspace.event(
            event,
            event_id="Ev0CONTRACT1",
            headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        )
        return [first.status_code, again.status_code]

    async def person(self) -> Member:
        await self.workspace.event(dm_event("help", ts="1700000009.000100"))
        await self.settle()
        member = await self.workspace.member(ANNA)
        assert member is not None
        return member

    def shown(self) -> list[dict[str, Any]]:
        return self.workspace.dm(ANNA)

    def fail_next_send(self) -> None:
        self.workspace.fake.fail_next("chat.postMessage", kind="429", retry_after=1)

    def assert_within_limits(self) -> None:
        """The fake Slack refuses Block Kit beyond Slack's limits (``invalid_blocks``, ``msg_too_long``)."""
        calls = self.workspace.fake.calls_to("chat.postMessage")
        assert [call.error for call in calls if call.error is not None and call.status != 429] == []

    async def settle(self) -> None:
        await self.workspace.settle()


class TeamsAdapter:
    def __init__(self, teams: Teams, clock: ManualClock) -> None:
        self.teams = teams
        self.fake = teams.fake
        self.services = teams.services
        self.clock = clock
        self.conversation = self.fake.message_activity("help", aad_object_id=AAD)["conversation"]["id"]

    def activity(self, text: str) -> dict[str, Any]:
        """A message from the person in their personal chat with the bot."""
        return self.fake.message_activity(
            text, aad_object_id=AAD, conversation_id=self.conversation, from_name="Anna de Vries"
        )

    async def unauthenticated(self, text: str) -> int:
        return (await self.teams.post(self.activity(text), token="")).status_code

    async def twice(self, text: str) -> list[int]:
        activity = self.activity(text)
        return [(await self.teams.post(activity)).status_code, (await self.teams.post(activity)).status_code]

    async def person(self) -> Member:
        assert (await self.teams.post(self.activity("help"))).status_code == 202
        await self.settle()
        async with self.services.database.transaction() as session:
            member = await Repos(session).members.by_identity("teams", AAD)
        assert member is not None
        return member

    def shown(self) -> list[dict[str, Any]]:
        return self.teams.sent(self.conversation)

    def fail_next_send(self) -> None:
        self.fake.fail_next("send", 1, 429, retry_after=1, conversation_id=self.conversation)

    def assert_within_limits(self) -> None:
        assert all(size(activity) <= TEAMS_MAX_BYTES for activity in self.shown())

    async def settle(self) -> None:
        await self.services.outbox.drain()


class TelegramAdapter:
    USER = 1001

    def __init__(self, tg: Telegram) -> None:
        self.tg = tg
        self.services = tg.services
        self.clock = tg.clock
        self.anna = TelegramUser(tg, self.USER, "Anna")

    async def unauthenticated(self, text: str) -> int:
        return (await self.tg.post(self.anna.update(text), secret="guessed")).status_code

    async def twice(self, text: str) -> list[int]:
        await self.person()
        update = self.anna.update(text, update_id=777)
        return [(await self.tg.post(update)).status_code, (await self.tg.post(update)).status_code]

    async def person(self) -> Member:
        async with self.services.database.transaction() as session:
            member = await Repos(session).members.by_identity("telegram", str(self.USER))
        if member is None:
            await self.tg.linked("Anna de Vries", self.USER)
            return await self.person()
        return member

    def shown(self) -> list[dict[str, Any]]:
        return self.tg.fake.messages(self.USER)

    def fail_next_send(self) -> None:
        self.tg.fake.fail_next("sendMessage", 1, "429")

    def assert_within_limits(self) -> None:
        """The fake Bot API refuses texts over 4096 characters and callback data over 64 bytes."""
        calls = self.tg.fake.calls_to("sendMessage")
        assert [call.error for call in calls if call.error is not None and call.status != 429] == []

    async def settle(self) -> None:
        await self.tg.deliver()


class WebAdapter:
    def __init__(self, chat: Chat, anna: Person, browser: httpx.AsyncClient) -> None:
        self.chat = chat
        self.anna = anna
        self.browser = browser
        self.services = chat.services
        assert isinstance(chat.services.clock, ManualClock)
        self.clock = chat.services.clock
        self.messages: list[dict[str, Any]] = []

    async def unauthenticated(self, text: str) -> int:
        transport = httpx.ASGITransport(app=create_app(self.services))
        async with httpx.AsyncClient(transport=transport, base_url="http://klantpet.test") as stranger:
            body = {"event_id": uuid.uuid4().hex, "conversation": self.anna.dm, "text": text}
            return (await stranger.post("/chat/api/send", json=body)).status_code

    async def twice(self, text: str) -> list[int]:
        body = {"event_id": uuid.uuid4().hex, "conversation": self.anna.dm, "text": text}
        return [(await self.browser.post("/chat/api/send", json=body)).status_code for _ in range(2)]

    async def person(self) -> Member:
        return self.anna.member

    def shown(self) -> list[dict[str, Any]]:
        return [message for message in self.messages if message["bot"]]

    def fail_next_send(self) -> None:
        raise AssertionError("the web chat has no remote API that could rate-limit it")

    def assert_within_limits(self) -> None:
        """The web chat has no platform limits; every message is one stored HTML fragment."""

    async def settle(self) -> None:
        await self.chat.deliver()
        self.messages = (await self.browser.get("/chat/api/messages")).json()


@pytest.fixture
def slack_adapter(workspace: Workspace) -> SlackAdapter:
    return SlackAdapter(workspace)


@pytest.fixture
async def teams_adapter(tmp_path: Path, database_url: str, clock: ManualClock) -> AsyncIterator[TeamsAdapter]:
    fake = FakeTeams()
    with fake.running(), fake.patch_sdk_jwks():
        services = Services(teams_settings(tmp_path, database_url, fake), clock=clock)
        with_fake_tokens(services, fake)
        await services.start()
        teams = Teams(services, fake)
        try:
            yield TeamsAdapter(teams, clock)
        finally:
            await teams.http.aclose()
            await services.stop()


@pytest.fixture
async def telegram_adapter(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> AsyncIterator[TelegramAdapter]:
    fake = FakeTelegram()
    fake.per_chat_rate, fake.group_per_minute, fake.global_rate = 1.3, 20, 30.0  # a little looser than ours
    with serve(fake.app) as url:
        settings = make_settings(
            tmp_path,
            database_url,
            web_chat=False,
            telegram_bot_token=fake.token,
            telegram_webhook_secret=SECRET,
            telegram_api_url=url,
            public_url="https://klantpet.example",
        )
        tg = Telegram(settings, clock, fake)
        await tg.start()
        try:
            yield TelegramAdapter(tg)
        finally:
            await tg.stop()


@pytest.fixture
async def web_adapter(chat: Chat) -> AsyncIterator[WebAdapter]:
    anna = await chat.member("Anna de Vries")
    transport = httpx.ASGITransport(app=create_app(chat.services))
    async with httpx.AsyncClient(transport=transport, base_url="http://klantpet.test") as browser:
        link = urlsplit(chat.web.sign_in_link(anna.member.id))
        assert (await browser.get(f"{link.path}?{link.query}")).status_code == 303
        yield WebAdapter(chat, anna, browser)


@pytest.fixture(params=PLATFORMS)
def adapter(request: pytest.FixtureRequest, database_url: str) -> Adapter:
    """The adapter named by the parameter, on the database of the ``database_url`` parameter."""
    found: Adapter = request.getfixturevalue(f"{request.param}_adapter")
    return found


# --- Helpers ---------------------------------------------------------------------------------------------


async def count(services: Services, model: Any) -> int:
    async with services.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def direct_message(adapter: Adapter, message: Message, key: str) -> Delivery:
    """What a handler does: a direct message to the person through the outbox; the delivery once settled."""
    member = await adapter.person()
    async with adapter.services.database.transaction() as session:
        assert await JobContext(adapter.services, session).dm(member, message, key=key)
    await adapter.settle()
    return await delivery(adapter, key)


async def delivery(adapter: Adapter, key: str) -> Delivery:
    async with adapter.services.database.transaction() as session:
        found = await Repos(session).deliveries.by_key(key)
    assert found is not None
    return found


# --- The bar --------------------------------------------------------------------------------------------


async def test_an_unauthenticated_request_is_refused_and_changes_nothing(adapter: Adapter) -> None:
    await adapter.settle()
    processed, sent = await count(adapter.services, ProcessedEvent), await count(adapter.services, Delivery)
    shown = adapter.shown()
    assert await adapter.unauthenticated("help") in (401, 403)
    await adapter.settle()
    assert await count(adapter.services, ProcessedEvent) == processed
    assert await count(adapter.services, Delivery) == sent
    assert adapter.shown() == shown


async def test_the_same_event_twice_is_handled_once(adapter: Adapter) -> None:
    await adapter.person()
    await adapter.settle()
    before = len(adapter.shown())
    statuses = await adapter.twice("help")
    assert all(200 <= status < 300 for status in statuses), statuses
    await adapter.settle()
    assert len(adapter.shown()) == before + 1


async def test_every_block_reaches_the_person_within_the_platforms_limits(adapter: Adapter) -> None:
    await adapter.person()
    await adapter.settle()
    before = len(adapter.shown())
    sent = await direct_message(adapter, EVERY_BLOCK, "contract:every-block")
    assert (sent.status, sent.attempts) == ("sent", 1), sent.last_error
    new = adapter.shown()[before:]
    assert new, "nothing arrived"
    shown = json.dumps(new, ensure_ascii=False)
    missing = [text for text in SHOWN if text not in shown]
    assert missing == [], f"not shown: {missing}"
    adapter.assert_within_limits()


@pytest.mark.parametrize("adapter", [name for name in PLATFORMS if name != "web"], indirect=True)
async def test_retry_after_is_honoured_without_counting_an_attempt(adapter: Adapter) -> None:
    await adapter.person()
    await adapter.settle()
    before = len(adapter.shown())
    adapter.fail_next_send()
    waiting = await direct_message(adapter, Message.text("Even geduld"), "contract:limited")
    assert (waiting.status, waiting.attempts) == ("pending", 0)
    assert waiting.not_before == adapter.clock.now() + timedelta(seconds=1)
    await adapter.settle()
    assert len(adapter.shown()) == before, "sent before the platform's Retry-After had passed"
    adapter.clock.advance(timedelta(seconds=1))
    await asyncio.sleep(1.05)  # the in-process limiter pauses the target on the real clock, as Slack does
    await adapter.settle()
    assert (await delivery(adapter, "contract:limited")).status == "sent"
    assert "Even geduld" in json.dumps(adapter.shown()[before:], ensure_ascii=False)
