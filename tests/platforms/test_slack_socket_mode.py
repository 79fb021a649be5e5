"""Socket Mode: the same app over a WebSocket opened with the app-level token (no public URL)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bot.app import Services
from bot.clock import ManualClock
from bot.commands import ParsedCommand
from bot.context import Context
from bot.errors import InvalidInput
from bot.messages import Field_, Form, Message
from bot.platforms.slack import SlackPlatform
from bot.platforms.slack_modals import MODAL_CALLBACK
from bot.router import Submission
from bot.server import create_app
from tests.fakes.server import serve
from tests.fakes.slack_api import (
    FakeSlack,
    block_actions_body,
    event_callback_body,
    slash_command_body,
    view_submission_body,
)
from tests.platforms.conftest import ANNA, ANNA_DM, dm_event, serving, slack_settings

APP_TOKEN = "xapp-1-A0FAKEAPP-1-fake"


@dataclass
class SocketModeServer:
    """Slack's side of Socket Mode: ``apps.connections.open`` hands out a WebSocket URL; envelopes go down it."""

    fake: FakeSlack
    outgoing: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    acks: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def app(self) -> Starlette:
        async def open_connection(request: Request) -> JSONResponse:
            if request.headers.get("authorization") != f"Bearer {APP_TOKEN}":
                return JSONResponse({"ok": False, "error": "invalid_auth"})
            return JSONResponse({"ok": True, "url": self.url.replace("http", "ws") + "/link"})

        async def link(websocket: WebSocket) -> None:
            await websocket.accept()
            await websocket.send_json(
                {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0FAKEAPP"}}
            )
            try:
                while True:
                    try:
                        envelope = self.outgoing.get_nowait()
                        await websocket.send_json(envelope)
                    except queue.Empty:
                        pass
                    with contextlib.suppress(TimeoutError):
                        self.acks.append(json.loads(await asyncio.wait_for(websocket.receive_text(), 0.05)))
            except WebSocketDisconnect:
                return

        return Starlette(
            routes=[
                Route("/api/apps.connections.open", open_connection, methods=["POST"]),
                WebSocketRoute("/link", link),
                Mount("/", app=self.fake.app),
            ]
        )

    def send(self, kind: str, payload: dict[str, Any], envelope_id: str) -> None:
        self.outgoing.put(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )

    async def acked(self, envelope_id: str) -> None:
        deadline = time.monotonic() + 3
        while not any(ack.get("envelope_id") == envelope_id for ack in self.acks):
            assert time.monotonic() < deadline, "no ack within 3 seconds"
            await asyncio.sleep(0.02)


@pytest.fixture
def socket_server(fake: FakeSlack) -> Iterator[SocketModeServer]:
    server = SocketModeServer(fake)
    with serve(server.app()) as url:
        server.url = url
        yield server


@pytest.fixture
async def socket_services(
    tmp_path: Path, database_url: str, socket_server: SocketModeServer, clock: ManualClock
) -> AsyncIterator[Services]:
    settings = slack_settings(
        tmp_path, database_url, socket_server.url, slack_signing_secret=None, slack_app_token=APP_TOKEN
    )
    built = Services(settings, clock=clock)
    await built.start()
    platform = built.platforms["slack"]
    assert isinstance(platform, SlackPlatform) and platform.socket is not None
    deadline = time.monotonic() + 5
    while not await platform.socket.client.is_connected():
        assert time.monotonic() < deadline, "socket mode did not connect"
        await asyncio.sleep(0.02)
    yield built
    await built.stop()


async def test_socket_mode_handles_a_dm_and_a_slash_command(
    socket_services: Services, socket_server: SocketModeServer, fake: FakeSlack
) -> None:
    dm = dm_event("help")
    socket_server.send("events_api", json.loads(event_callback_body(dm)), "env-1")
    command = dict(parse_qsl(slash_command_body("/klantpet", "ik", user_id=ANNA, channel_id=ANNA_DM)))
    socket_server.send("slash_commands", command, "env-2")
    await socket_server.acked("env-1")
    await socket_server.acked("env-2")
    platform = socket_services.platforms["slack"]
    assert isinstance(platform, SlackPlatform)
    await platform.idle()
    await socket_services.outbox.drain()
    texts = [message["text"] for message in fake.messages(ANNA)]
    assert len(texts) == 2 and any("Anna de Vries" in text for text in texts)


async def test_a_socket_mode_app_offers_no_http_endpoint(socket_services: Services) -> None:
    """Without a signing secret nothing could check a request to /slack/events: it is not there at all."""
    async with (
        serving(create_app(socket_services)) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
    ):
        body = slash_command_body("/klantpet", "help", user_id=ANNA, channel_id=ANNA_DM)
        response = await http.post(
            "/slack/events", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    assert response.status_code == 404


async def test_socket_mode_carries_a_click_and_a_modal_refusal_in_its_acks(
    socket_services: Services, socket_server: SocketModeServer, fake: FakeSlack
) -> None:
    routes = socket_services.routes
    platform = socket_services.platforms["slack"]
    assert isinstance(platform, SlackPlatform)

    @routes.command("testform")
    async def form(ctx: Context, command: ParsedCommand) -> None:
        fields = (Field_(name="name", label="Your name"),)
        await ctx.reply(
            Message(blocks=(Form(action="test.form", title="Tell us", fields=fields, submit_label="Send"),))
        )

    @routes.action("test.form")
    async def submitted(ctx: Context, submission: Submission) -> None:
        if not submission.fields.get("name", "").strip():
            raise InvalidInput("error.field_required", field="name")
        await ctx.reply("Thanks")

    async def settle() -> None:
        await platform.idle()
        await socket_services.outbox.drain()

    socket_server.send("events_api", json.loads(event_callback_body(dm_event("testform"))), "env-1")
    await socket_server.acked("env-1")
    await settle()
    [message] = fake.messages(ANNA)
    opener = message["blocks"][0]["elements"][0]
    click = block_actions_body(
        opener["action_id"], opener["value"], user_id=ANNA, channel_id=ANNA_DM, message_ts=message["ts"]
    )
    socket_server.send("interactive", json.loads(dict(parse_qsl(click))["payload"]), "env-2")
    await socket_server.acked("env-2")
    await settle()
    [view] = fake.views.values()

    empty = {"name": {"value": {"type": "plain_text_input", "value": " "}}}
    body = view_submission_body(
        MODAL_CALLBACK, empty, user_id=ANNA, private_metadata=view["private_metadata"], view=view
    )
    socket_server.send("interactive", json.loads(dict(parse_qsl(body))["payload"]), "env-3")
    await socket_server.acked("env-3")
    [ack] = [ack for ack in socket_server.acks if ack["envelope_id"] == "env-3"]
    required = socket_services.catalog.t("nl", "error.field_required")
    assert ack["payload"] == {"response_action": "errors", "errors": {"name": required}}
