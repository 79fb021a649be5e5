"""Slack fixtures: the fake Slack Web API, and our real app served over HTTP in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bot.app import Services
from bot.clock import ManualClock
from bot.platforms.slack import SlackPlatform
from bot.platforms.slack_modals import OPTION_VALUE_PREFIX
from bot.server import create_app
from storage.models import Delivery, Member, Role
from storage.repositories import Repos
from tests.conftest import make_settings
from tests.fakes.server import free_port, serve
from tests.fakes.slack_api import (
    BOT_USER_ID,
    DEFAULT_TOKEN,
    FakeSlack,
    block_actions_body,
    event_callback_body,
    signed_headers,
    slash_command_body,
    view_submission_body,
)

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ANNA, BART = "U0000ANNA", "U0000BART"
SUPPORT = "C0SUPPORT"
ANNA_DM = "D0000ANNA"  # the fake names a user's DM "D" + the user id without its first letter


@pytest.fixture
def fake() -> FakeSlack:
    found = FakeSlack(rate_per_channel=1.0, enforce_tiers=True)  # Slack's per-method limits too
    found.add_user(ANNA, "anna", "Anna de Vries", profile_fields={"Xf01": "Klantenservice"})
    found.add_user(BART, "bart", "Bart Jansen", tz="America/New_York", locale="en-US")
    found.add_channel(SUPPORT, "support", members=[ANNA, BART, BOT_USER_ID])
    return found


@pytest.fixture
def fake_url(fake: FakeSlack) -> Iterator[str]:
    with serve(fake.app) as url:
        yield url


def slack_settings(tmp_path: Path, database_url: str, fake_url: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "slack_bot_token": DEFAULT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": f"{fake_url}/api/",
        "slack_department_field": "Xf01",
        "web_chat": False,
    }
    values.update(overrides)
    return make_settings(tmp_path, database_url, **values)


@pytest.fixture
async def slack_services(
    tmp_path: Path, database_url: str, fake_url: str, clock: ManualClock
) -> AsyncIterator[Services]:
    built = Services(slack_settings(tmp_path, database_url, fake_url), clock=clock)
    await built.start()
    yield built
    await built.stop()


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Our app on a real socket, in this event loop (it shares the test's database connections)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Workspace:
    """Slack as a person uses it: requests signed like Slack signs them, sent to our app over HTTP."""

    services: Services
    fake: FakeSlack
    http: httpx.AsyncClient

    @property
    def slack(self) -> SlackPlatform:
        platform = self.services.platforms["slack"]
        assert isinstance(platform, SlackPlatform)
        return platform

    @property
    def clock(self) -> ManualClock:
        assert isinstance(self.services.clock, ManualClock)
        return self.services.clock

    async def post(
        self,
        body: str,
        *,
        json_body: bool = False,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {
            **signed_headers(secret, body, timestamp),
            "Content-Type": "application/json" if json_body else "application/x-www-form-urlencoded",
            **(headers or {}),
        }
        return await self.http.post("/slack/events", content=body, headers=sent)

    async def command(
        self,
        text: str,
        user: str = ANNA,
        channel: str = SUPPORT,
        trigger_id: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        known = self.fake.channels.get(channel)
        if channel.startswith("D"):
            name = "directmessage"
        elif known is None or (known.is_private and BOT_USER_ID not in known.members):
            name = "privategroup"
        else:
            name = known.name
        body = slash_command_body(
            "/klantpet", text, user_id=user, channel_id=channel, trigger_id=trigger_id, channel_name=name
        )
        return await self.post(body, **kwargs)

    async def event(
        self, event: dict[str, Any], event_id: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        return await self.post(event_callback_body(event, event_id), json_body=True, **kwargs)

    async def click(
        self, message: dict[str, Any], label: str, user: str = ANNA, **kwargs: Any
    ) -> httpx.Response:
        """Click the button labelled ``label`` on a message the bot posted (as the fake stores it)."""
        element = button(message["blocks"], label)
        return await self.post(
            block_actions_body(
                element["action_id"],
                element["value"],
                user_id=user,
                channel_id=message["channel"],
                message_ts=message["ts"],
                **kwargs,
            )
        )

    async def submit(self, view: dict[str, Any], values: dict[str, str], user: str = ANNA) -> httpx.Response:
        """Submit the modal ``view`` (as the fake opened it) with ``values`` typed or picked per field."""
        state: dict[str, dict[str, Any]] = {}
        for block in view["blocks"]:
            if block.get("type") != "input" or block["block_id"] not in values:
                continue
            element, value = block["element"], values[block["block_id"]]
            if element["type"] == "static_select":
                wanted = OPTION_VALUE_PREFIX + value
                picked = next((o for o in element["options"] if o["value"] == wanted), None)
                state[block["block_id"]] = {
                    element["action_id"]: {"type": "static_select", "selected_option": picked}
                }
            else:
                state[block["block_id"]] = {
                    element["action_id"]: {"type": "plain_text_input", "value": value}
                }
        body = view_submission_body(
            view["callback_id"],
            state,
            user_id=user,
            private_metadata=view["private_metadata"],
            view_id=view["id"],
            view=view,
        )
        return await self.post(body)

    async def settle(self, *, later: float = 0.0) -> None:
        """Let inbound work finish and the outbox deliver what is due (then again ``later`` seconds on)."""
        await self.slack.idle()
        await self.services.outbox.drain()
        if later:
            self.clock.advance(timedelta(seconds=later))
            await self.services.outbox.drain()

    def dm(self, user: str = ANNA) -> list[dict[str, Any]]:
        return [{**message, "channel": "D" + user[1:]} for message in self.fake.messages(user)]

    def channel(self, channel: str = SUPPORT) -> list[dict[str, Any]]:
        return [{**message, "channel": channel} for message in self.fake.messages(channel)]

    async def member(self, user: str = ANNA) -> Member | None:
        async with self.services.database.transaction() as session:
            return await Repos(session).members.by_identity("slack", user)

    async def grant(self, role: Role, user: str = ANNA) -> None:
        """Give the member behind ``user`` (who has talked to the bot) a role, as an admin would."""
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            member = await repos.members.by_identity("slack", user)
            assert member is not None, "the member talks to the bot first"
            await repos.members.grant(member, role)

    async def delivery(self, key: str) -> Delivery | None:
        async with self.services.database.transaction() as session:
            return await Repos(session).deliveries.by_key(key)


def dm_event(text: str, user: str = ANNA, ts: str = "1700000001.000100") -> dict[str, Any]:
    """A direct message to the bot, as the Events API describes it."""
    return {
        "type": "message",
        "channel_type": "im",
        "channel": "D" + user[1:],
        "user": user,
        "text": text,
        "ts": ts,
    }


def button(blocks: list[dict[str, Any]], label: str) -> dict[str, Any]:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("type") == "button" and element["text"]["text"] == label:
                return dict(element)
    raise AssertionError(f"no button {label!r} in {json.dumps(blocks)[:500]}")


def text_of(message: dict[str, Any]) -> str:
    """Everything a person reads in a message's blocks."""
    parts = []
    for block in message.get("blocks", []):
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if isinstance(element.get("text"), str):
                parts.append(element["text"])
            elif isinstance(element.get("text"), dict):
                parts.append(element["text"]["text"])
    return "\n".join(parts)


@pytest.fixture
async def workspace(slack_services: Services, fake: FakeSlack) -> AsyncIterator[Workspace]:
    async with (
        serving(create_app(slack_services)) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
    ):
        yield Workspace(slack_services, fake, http)
