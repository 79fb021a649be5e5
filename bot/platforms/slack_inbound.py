"""Slack requests → normalized events: the Bolt app and its listeners.

Bolt verifies every HTTP request's signature (and the 5-minute window) before a listener runs; Socket
Mode requests arrive authenticated. ``process_before_response`` keeps Bolt from starting untracked tasks
of its own: each listener acks at once and hands the slow work to `SlackPlatform.spawn`, whose tasks are
awaited on shutdown (a click goes there through `bot.batches.ClickBatcher`, with the clicks that arrive
with it, unless it came from the App Home, which is refreshed after it). The one exception is a modal submission: it waits for its handler until
`MODAL_BUDGET` seconds after the request arrived, so that a refused field shows its error inside the modal
(`bot.platforms.slack_modals`).

Event ids: the Events API ``event_id`` (the same on Slack's retries); ``command:``, ``action:`` and
``view:`` plus the request's ``trigger_id`` for the slash command, clicks and submissions.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.events import (
    Actor,
    ButtonClick,
    ChannelKind,
    Command,
    FormSubmit,
    MemberJoined,
    Reaction,
    Reply,
    Where,
)
from bot.platforms.slack_modals import MODAL_BUDGET, MODAL_CALLBACK, modal_errors, modal_values
from bot.platforms.slack_render import ACTION_PREFIX, FORM_OPENER_PREFIX, OPTIONS_PREFIX

if TYPE_CHECKING:
    from bot.platforms.slack import SlackPlatform

log = logging.getLogger(__name__)
PLATFORM = "slack"
RECEIVED = "klantpet_received"
"""Bolt context key: ``time.monotonic()`` when the HTTP request arrived (before Bolt's own work)."""
HANDLED_MESSAGE_SUBTYPES = (None, "thread_broadcast", "file_share")


def build_bolt(platform: SlackPlatform) -> AsyncApp:
    settings = platform.settings
    app = AsyncApp(
        client=platform.client,
        signing_secret=settings.slack_signing_secret.get_secret_value()
        if settings.slack_signing_secret
        else "",
        process_before_response=True,
        logger=logging.getLogger("bot.platforms.slack.bolt"),
        name="klantpet",
    )
    listeners = SlackListeners(platform)
    app.command(settings.slack_command)(listeners.command)
    app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(listeners.action)
    app.action(re.compile("^" + re.escape(FORM_OPENER_PREFIX)))(listeners.open_form)
    app.action(re.compile("^" + re.escape(OPTIONS_PREFIX)))(listeners.action)
    app.options(re.compile("^" + re.escape(OPTIONS_PREFIX)))(listeners.options)
    app.view_submission(MODAL_CALLBACK)(listeners.submit)
    app.event("app_mention")(listeners.mention)
    app.event("message")(listeners.message)
    app.event("reaction_added")(listeners.reaction)
    app.event("reaction_removed")(listeners.reaction)
    app.event("team_join")(listeners.team_join)
    app.event("user_change")(listeners.user_change)
    app.event("app_home_opened")(listeners.home_opened)
    return app


def kind_of(channel_id: str, channel_type: str | None = None) -> ChannelKind:
    if channel_type == "im" or (channel_type is None and channel_id.startswith("D")):
        return "dm"
    if channel_type == "mpim":
        return "group"
    return "channel"


def where_of(
    channel_id: str, user_id: str, channel_type: str | None = None, name: str | None = None
) -> Where:
    """Where an event happened; in a DM the answer goes to the user id (Slack's own DM with the bot)."""
    kind = kind_of(channel_id, channel_type)
    if kind == "dm":
        return Where(external_id=channel_id, kind="dm", ref=user_id)
    return Where(external_id=channel_id, kind=kind, name=name, ref=channel_id)


def _actor(user_id: str, name: str | None = None) -> Actor:
    return Actor(PLATFORM, user_id, name=name)


class SlackListeners:
    """Bolt listeners; each acknowledges first and spawns the work."""

    def __init__(self, platform: SlackPlatform) -> None:
        self.platform = platform

    # --- Slash command ---------------------------------------------------------------------------
    async def command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user, channel = str(body["user_id"]), str(body["channel_id"])
        if kind_of(channel) == "dm":
            where = Where(external_id=channel, kind="dm", ref=user)
        else:
            name = body.get("channel_name")
            if name in ("directmessage", "privategroup"):
                name = None  # placeholders, not names
            kind: ChannelKind = "group" if str(name or "").startswith("mpdm-") else "channel"
            where = Where(external_id=channel, kind=kind, name=name, ref=f"ephemeral:{channel}:{user}")
        event = Command(
            platform=PLATFORM,
            event_id=f"command:{body['trigger_id']}",
            actor=_actor(user, body.get("user_name")),
            where=where,
            text=str(body.get("text") or ""),
            explicit=True,
            context={"trigger_id": body["trigger_id"]},
        )
        self.platform.spawn(self.platform.handle(event), "command")

    # --- Interactivity ---------------------------------------------------------------------------
    def _click_origin(self, body: dict[str, Any]) -> tuple[Where, str | None, str | None]:
        """(where, message_ref, App Home user) of a click."""
        user = str(body["user"]["id"])
        container = body.get("container") or {}
        if container.get("type") == "view":
            from_home = (body.get("view") or {}).get("type") == "home"
            return Where(external_id=user, kind="dm", ref=user), None, user if from_home else None
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or user)
        ts = container.get("message_ts")
        where = where_of(channel, user)
        if container.get("is_ephemeral"):
            if where.kind != "dm":
                where = Where(external_id=channel, kind=where.kind, ref=f"ephemeral:{channel}:{user}")
            return where, None, None
        return where, f"{channel}:{ts}" if ts else None, None

    async def action(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        token = action.get("value") or (action.get("selected_option") or {}).get("value")
        if not token:
            return
        where, message_ref, home_user = self._click_origin(body)
        event = ButtonClick(
            platform=PLATFORM,
            event_id=f"action:{body['trigger_id']}",
            actor=_actor(str(body["user"]["id"]), body["user"].get("name")),
            where=where,
            token=str(token),
            message_ref=message_ref,
            context={"trigger_id": body["trigger_id"]},
        )
        if home_user is None:
            self.platform.clicks.add(event)  # handled together with the clicks around it (`bot.batches`)
        else:
            self.platform.spawn(self.platform.handle(event, refresh_home=home_user), "action")

    async def open_form(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        _, message_ref, _ = self._click_origin(body)
        self.platform.spawn(
            self.platform.modals.open(
                str(body["trigger_id"]), str(action.get("value") or ""), str(body["user"]["id"]), message_ref
            ),
            "open_form",
        )

    async def options(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """A person types in a searchable select: the matching options go back in the ack (Slack waits 3 s)."""
        await ack(
            options=await self.platform.modals.options(
                str(body.get("action_id")), str(body.get("value") or "")
            )
        )

    async def submit(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        received = float(context.get(RECEIVED) or time.monotonic())
        user = str(body["user"]["id"])
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except json.JSONDecodeError:
            metadata = {}
        if not isinstance(metadata, dict) or not metadata.get("t"):
            await ack()
            return
        fields = modal_values(view.get("state") or {})
        event = FormSubmit(
            platform=PLATFORM,
            event_id=f"view:{body['trigger_id']}",
            actor=_actor(user, body["user"].get("name")),
            where=Where(external_id=user, kind="dm", ref=f"view:{user}"),
            token=str(metadata["t"]),
            fields=fields,
            message_ref=metadata.get("m"),
        )
        task = self.platform.spawn(self.platform.handle(event), "submit")
        budget = max(0.0, received + MODAL_BUDGET - time.monotonic())
        done, _ = await asyncio.wait({task}, timeout=budget)
        outcome = task.result() if task in done and task.exception() is None else None
        errors = modal_errors(outcome, view, fields, event.token)
        # Recorded after the ack, which must not wait for the database; the replies wait for it instead.
        self.platform.spawn(self.platform.modals.decide(event.event_id, shown=bool(errors)), "modal")
        if errors:
            await ack(response_action="errors", errors=errors)
        else:
            await ack()

    # --- Events API ------------------------------------------------------------------------------
    async def mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        user = event.get("user")
        if not user or event.get("bot_id"):
            return
        where = where_of(str(event["channel"]), str(user), event.get("channel_type"))
        thread_ts = event.get("thread_ts")
        if thread_ts and where.kind != "dm":  # asked in a thread: answered there
            where = Where(
                external_id=where.external_id, kind=where.kind, ref=f"thread:{where.external_id}:{thread_ts}"
            )
        command = Command(
            platform=PLATFORM,
            event_id=str(body["event_id"]),
            actor=_actor(str(user)),
            where=where,
            text=str(event.get("text") or ""),
            explicit=True,
        )
        self.platform.spawn(self.platform.handle(command), "mention")

    async def message(self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        user = event.get("user")
        if event.get("subtype") not in HANDLED_MESSAGE_SUBTYPES or event.get("bot_id") or not user:
            return
        channel = str(event["channel"])
        text = str(event.get("text") or "")
        where = where_of(channel, str(user), event.get("channel_type"))
        thread_ts = event.get("thread_ts")
        in_thread = bool(thread_ts) and thread_ts != event.get("ts")
        bot_user = context.bot_user_id
        common: dict[str, Any] = {
            "platform": PLATFORM,
            "event_id": str(body["event_id"]),
            "actor": _actor(str(user)),
            "where": where,
        }
        inbound: Reply | Command
        if in_thread:
            if where.kind != "dm" and bot_user and f"<@{bot_user}>" in text:
                return  # the app_mention event carries it
            parent = event.get("parent_user_id")
            if where.kind != "dm" and parent and bot_user and parent != bot_user:
                return  # a thread under someone else's message
            inbound = Reply(**common, text=text, thread_ref=f"{channel}:{thread_ts}")
        elif where.kind == "dm":
            inbound = Command(**common, text=text, explicit=text.lstrip().startswith("/"))
        else:
            return  # channel chatter is not for the bot; mentions arrive as app_mention
        self.platform.spawn(self.platform.handle(inbound), "message")

    async def reaction(self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        item = event.get("item") or {}
        user = event.get("user")
        if item.get("type") != "message" or not user:
            return
        if event.get("item_user") and context.bot_user_id and event["item_user"] != context.bot_user_id:
            return  # a reaction to someone else's message
        channel = str(item["channel"])
        reaction = Reaction(
            platform=PLATFORM,
            event_id=str(body["event_id"]),
            actor=_actor(str(user)),
            where=where_of(channel, str(user)),
            emoji=str(event.get("reaction") or ""),
            message_ref=f"{channel}:{item['ts']}",
            added=event.get("type") == "reaction_added",
        )
        self.platform.spawn(self.platform.handle(reaction), "reaction")

    async def team_join(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        self.platform.spawn(self.platform.member_joined(event["user"], str(body["event_id"])), "team_join")

    async def user_change(self, event: dict[str, Any]) -> None:
        user = event.get("user") or {}
        if user.get("id"):
            self.platform.spawn(self.platform.directory.save_user(user), "user_change")

    async def home_opened(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        user = str(event["user"])
        if event.get("tab") == "messages":
            joined = MemberJoined(
                platform=PLATFORM,
                event_id=f"joined:{user}",
                actor=_actor(user),
                where=where_of(str(event.get("channel") or user), user, "im"),
            )
            self.platform.spawn(self.platform.handle(joined), "welcome")
            return
        self.platform.spawn(self.platform.publish_home(user), "home")
