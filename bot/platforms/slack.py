"""Slack: Events API, interactivity and the slash command on one URL (or Socket Mode); Block Kit out.

Meets the bar every adapter meets:
- authenticates every inbound request: Bolt's signing-secret check (HMAC-SHA256, 5-minute window) on
  ``POST /slack/events``; a Socket Mode connection is authenticated by the app-level token;
- de-duplicates by the platform's event id: the Events API ``event_id`` (Slack retries, marked
  ``X-Slack-Retry-Num``, carry the same one); interactions and slash commands, which have none, by their
  ``trigger_id``; the router records every id it handled;
- acknowledges within Slack's 3 s: listeners ack at once and the work runs in tasks that are tracked and
  awaited on shutdown; a modal submission waits up to 2.5 s for the handler so a refused field is shown in
  the modal (``response_action: errors``);
- renders every block of the neutral model in Block Kit (`bot.platforms.slack_render`), forms as modals,
  within Block Kit's limits, degrading on purpose;
- respects rate limits: 1 message/s per channel and a configurable workspace rate; a 429 becomes
  `RetryAfter` with Slack's ``Retry-After``;
- unloads cleanly: Socket Mode disconnects, in-flight tasks finish (cancelled after a timeout);
- is tested through slack_bolt/slack_sdk against a local fake of the Web API, with signed HTTP requests;
- has strict typing.

Delivery targets (``Delivery.target``) on Slack:
- ``U…``/``W…``: a direct message; the user id is the channel (Slack opens the DM, no ``conversations.open``);
- ``C…``/``G…``/``D…``: a conversation;
- ``thread:<channel>:<ts>``: in the thread of that message (the answer to a mention inside a thread);
- ``ephemeral:<channel>:<user>``: only that user sees it (answers to the slash command in a channel); when
  the bot cannot post there, it goes to the user's DM instead;
- ``view:<user>``: answers to a modal submission, to the user's DM, sent once the submission's
  acknowledgement has decided; nothing is sent when the modal showed the refusal (`slack_modals`).
Message references (what `send` returns, ``thread_ref``, ``edit_ref``) are ``<channel id>:<ts>``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import aiohttp
from fastapi import FastAPI, Request, Response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import home
from bot.batches import ClickBatcher
from bot.events import Actor, Inbound, MemberJoined, Where
from bot.platforms.base import Outgoing, PermanentSendError, RetryAfter, TransientSendError
from bot.platforms.slack_directory import SlackDirectory
from bot.platforms.slack_inbound import RECEIVED, build_bolt
from bot.platforms.slack_modals import SlackModals, submission_of
from bot.platforms.slack_render import render, render_home
from bot.ratelimit import Limit, leaving, per_second
from bot.router import Outcome
from storage.models import Identity
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)
PLATFORM = "slack"
DEFAULT_API_URL = "https://slack.com/api/"
SEND_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
CHANNEL_RATE = 1.0
WORK_AT_ONCE = 8  # events handled at once after their ack (the database pool holds 10 + 10 connections)
NOT_POSTABLE = {"channel_not_found", "not_in_channel", "user_not_in_channel", "is_archived"}
TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}


def build(services: Services) -> SlackPlatform:
    return SlackPlatform(services)


def split_ref(reference: str) -> tuple[str, str]:
    """``C123:1700000000.000100`` → (channel, ts)."""
    channel, _, ts = reference.partition(":")
    if not channel or not ts:
        raise PermanentSendError(f"not a Slack message reference: {reference!r}")
    return channel, ts


def conversation_of(target: str) -> str:
    """The conversation a target posts in (for rate limits)."""
    kind, _, rest = target.partition(":")
    if kind in ("ephemeral", "thread"):
        return rest.split(":", 1)[0]
    if kind == "view":
        return rest
    return target


class SlackPlatform:
    name = PLATFORM

    def __init__(self, services: Services) -> None:
        settings = services.settings
        if settings.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is required for the Slack platform")
        self.services = services
        self.settings = settings
        base_url = settings.slack_api_url or DEFAULT_API_URL
        self.client = AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=base_url if base_url.endswith("/") else base_url + "/",
            timeout=int(SEND_TIMEOUT),
            retry_handlers=[],
        )
        self.tasks: set[asyncio.Task[Any]] = set()
        self.working = asyncio.Semaphore(WORK_AT_ONCE)
        self.clicks = ClickBatcher(services, self.spawn, self.handle)
        self.directory = SlackDirectory(services, self.client)
        self.modals = SlackModals(services, self.client)
        self.bolt = build_bolt(self)
        self.http_handler = AsyncSlackRequestHandler(self.bolt)
        self.socket: AsyncSocketModeHandler | None = None
        self.connecting: asyncio.Task[None] | None = None

    # --- Outbound ---------------------------------------------------------------------------------
    @property
    def throughput(self) -> float:
        return self.settings.slack_workspace_rate

    def limits(self, target: str) -> list[Limit]:
        return [
            Limit(f"slack:channel:{conversation_of(target)}", rate=CHANNEL_RATE, burst=1),
            per_second("slack:workspace", self.settings.slack_workspace_rate),
        ]

    def dm_target(self, identity: Identity) -> str:
        return identity.external_id

    async def send(self, outgoing: Outgoing) -> str | None:
        rendered = render(outgoing.message)
        if rendered.tokens:
            async with self.services.database.transaction() as session:
                await Repos(session).tokens.register(rendered.tokens)
        content: dict[str, Any] = {"blocks": rendered.blocks, "text": rendered.text}
        kind, _, rest = outgoing.target.partition(":")
        if kind == "thread":  # an answer in the thread it was asked in
            channel, _, ts = rest.partition(":")
            outgoing = dataclasses.replace(
                outgoing, target=channel, thread_ref=outgoing.thread_ref or f"{channel}:{ts}"
            )
            kind = ""
        submission = submission_of(outgoing)
        if submission is not None and not await self.modals.reply_wanted(outgoing, submission):
            return None
        try:
            if outgoing.edit_ref:
                channel, ts = split_ref(outgoing.edit_ref)
                await leaving()
                await self.client.chat_update(channel=channel, ts=ts, **content)
                return outgoing.edit_ref
            if kind == "view":
                return await self._post(rest, outgoing, content)
            if kind == "ephemeral":
                channel, _, user = rest.partition(":")
                return await self._post_ephemeral(channel, user, outgoing, content)
            if outgoing.ephemeral and outgoing.member_id is not None:
                member_user = await self._user_of(outgoing.member_id)
                if member_user:
                    return await self._post_ephemeral(outgoing.target, member_user, outgoing, content)
            return await self._post(outgoing.target, outgoing, content)
        except SlackApiError as error:
            raise _failure(error) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TransientSendError(f"{type(error).__name__} talking to Slack") from error

    async def _post(self, channel: str, outgoing: Outgoing, content: dict[str, Any]) -> str:
        thread_ts = split_ref(outgoing.thread_ref)[1] if outgoing.thread_ref else None
        await leaving()
        response = await self.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, unfurl_links=False, **content
        )
        return f"{response['channel']}:{response['ts']}"

    async def _post_ephemeral(
        self, channel: str, user: str, outgoing: Outgoing, content: dict[str, Any]
    ) -> str | None:
        """Only ``user`` sees it; it cannot be edited or threaded on, so there is no reference."""
        thread_ts = split_ref(outgoing.thread_ref)[1] if outgoing.thread_ref else None
        await leaving()
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **content)
        except SlackApiError as error:
            if error.response.get("error") not in NOT_POSTABLE:
                raise
            return await self._post(user, dataclasses.replace(outgoing, thread_ref=None), content)
        return None

    async def _user_of(self, member_id: int) -> str | None:
        async with self.services.database.transaction() as session:
            identity = await Repos(session).members.identity(member_id, PLATFORM)
        return identity.external_id if identity else None

    # --- Inbound (called by the Bolt listeners in `slack_inbound`) ---------------------------------
    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``work`` after the ack; tracked so shutdown waits for it.

        At most `WORK_AT_ONCE` run together: a burst of clicks queues here, in order, instead of at the
        database's connection pool, whose waiters give up after a while (and the ack has been sent: Slack
        would never send those clicks again)."""

        async def in_turn() -> Any:
            async with self.working:
                return await work

        task = asyncio.create_task(in_turn(), name=f"slack:{name}")
        self.tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("slack work failed", extra={"task": task.get_name()}, exc_info=task.exception())

    async def idle(self) -> None:
        """Wait until no inbound work is running (tests, shutdown)."""
        while self.tasks:
            running = {task for task in self.tasks if not task.done()}
            # a finished task leaves the set in its done-callback; never wait on it again meanwhile
            self.tasks.intersection_update(running)
            if running:
                await asyncio.wait(running)

    async def handle(self, event: Inbound, *, refresh_home: str | None = None) -> Outcome:
        """Hand a normalized event to the router (the member synced from Slack first)."""
        if not await self.directory.ensure_member(event.actor.external_id):
            return Outcome()  # a bot or an app: not a member, and nothing to answer
        event = await self.directory.named(event)
        outcome = await self.services.router.handle(event)
        if refresh_home:
            await self.publish_home(refresh_home)
        return outcome

    async def member_joined(self, user: dict[str, Any], event_id: str) -> None:
        """``team_join``: the new colleague becomes a member and is welcomed."""
        if await self.directory.save_user(user) is None:
            return
        user_id = str(user["id"])
        await self.services.router.handle(
            MemberJoined(
                platform=PLATFORM, event_id=event_id, actor=Actor(PLATFORM, user_id), where=dm_where(user_id)
            )
        )

    async def publish_home(self, user_id: str) -> None:
        """Compose the member's App Home and publish it."""
        await self.directory.ensure_member(user_id)
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            member = await repos.members.by_identity(PLATFORM, user_id)
            if member is None or not member.active:
                return
            sections = await home.compose(self.services.job_context(session), member)
            view, tokens = render_home(sections)
            await repos.tokens.register(
                [pair for section in sections for pair in section.interactive()] + tokens
            )
        try:
            await self.client.views_publish(user_id=user_id, view=view)
        except SlackApiError as error:
            log.warning("could not publish the App Home", extra={"error": error.response.get("error")})

    # --- HTTP and lifecycle ------------------------------------------------------------------------
    def mount(self, app: FastAPI) -> None:
        """``POST /slack/events``, only with a signing secret (a Socket Mode app has no public endpoint)."""
        if self.settings.slack_signing_secret is None:
            return
        handler = self.http_handler

        @app.post("/slack/events", include_in_schema=False)
        async def slack_events(request: Request) -> Response:
            return await handler.handle(request, {RECEIVED: time.monotonic()})

    async def start(self) -> None:
        """Share one HTTP session (kept-alive connections) for every Web API call; know the members
        already synced. In Socket Mode, connect in the background: the SDK keeps retrying until Slack is
        reachable."""
        self.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT))
        await self.directory.remember_members()
        if self.settings.slack_app_token is not None:
            self.socket = AsyncSocketModeHandler(
                self.bolt, app_token=self.settings.slack_app_token.get_secret_value(), web_client=self.client
            )
            connect = self.socket.connect_async()  # type: ignore[no-untyped-call]
            self.connecting = asyncio.create_task(connect, name="slack:socket-mode")

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
            self.socket = None
        if self.connecting is not None:
            self.connecting.cancel()
            await asyncio.gather(self.connecting, return_exceptions=True)
            self.connecting = None
        deadline = time.monotonic() + STOP_TIMEOUT
        while running := {task for task in self.tasks if not task.done()}:  # work may start more work
            _, pending = await asyncio.wait(running, timeout=max(0.0, deadline - time.monotonic()))
            if pending and time.monotonic() >= deadline:
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                break
        if self.client.session is not None:
            await self.client.session.close()  # later calls (none expected) open a session each


def dm_where(user_id: str, channel_id: str | None = None) -> Where:
    return Where(external_id=channel_id or user_id, kind="dm", ref=user_id)


def _failure(error: SlackApiError) -> Exception:
    response = error.response
    code = str(response.get("error") or "")
    if response.status_code == 429:
        try:
            seconds = float(response.headers.get("Retry-After", 1) or 1)
        except (TypeError, ValueError):
            seconds = 1.0
        return RetryAfter(seconds)
    if response.status_code >= 500 or code in TRANSIENT:
        return TransientSendError(f"slack {response.status_code}: {code or 'server error'}")
    return PermanentSendError(f"slack: {code or response.status_code}")
