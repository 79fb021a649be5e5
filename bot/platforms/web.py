"""The built-in web chat: a full platform (and the harness for dialogue tests of handlers).

Meets the bar every adapter meets:
- authenticates every inbound request: a signed, HttpOnly session cookie; in demo mode a person picks who
  they are, otherwise they sign in with a one-time link (`klantpet web link <member>`);
- de-duplicates by event id: the browser sends a fresh id per action, a double click counts once;
- acknowledges at once; replies arrive through the outbox and a server-sent-event stream;
- renders every block of the neutral model (`bot.platforms.web_render`);
- rate limits: none needed for its own store, a generous bucket keeps a runaway loop in check;
- unloads cleanly: streams end on shutdown;
- tested through its HTTP API and in a real headless Chromium.

Inbound requests are checked and turned into events in `bot.platforms.web_inbound`; the HTTP routes live in
`bot.platforms.web_http`.

A refused request is a `ChatRefused` naming a sentence under ``web.error``; the HTTP layer
(`bot.platforms.web_http`) shows it in the person's language.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from bot.platforms.base import Outgoing, PermanentSendError
from bot.platforms.web_inbound import (
    COOKIE,
    ChatRefused,
    ClickBody,
    ReactBody,
    SendBody,
    SubmitBody,
    WebInbound,
    render_user_text,
)
from bot.platforms.web_render import render
from bot.ratelimit import Limit
from bot.signing import Signer
from storage.models import Identity
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.app import Services

ASSETS = Path(__file__).parent / "web_assets"
SESSION_SECONDS = 12 * 3600

__all__ = [
    "ASSETS",
    "COOKIE",
    "SESSION_SECONDS",
    "ChatRefused",
    "ClickBody",
    "ReactBody",
    "SendBody",
    "SubmitBody",
    "WebPlatform",
    "render_user_text",
]


class WebPlatform(WebInbound):
    name = "web"

    def __init__(self, services: Services) -> None:
        self.services = services
        secret = services.secret_key
        self.sessions = Signer(secret, "web-chat-session")
        self.links = Signer(secret, "web-chat-link")
        self.changed = asyncio.Condition()
        self._closing = False

    # --- Outbound ---------------------------------------------------------------------------------
    @property
    def throughput(self) -> float:
        return 2000.0

    def limits(self, target: str) -> list[Limit]:
        return [Limit("web:app", rate=self.throughput, burst=500)]

    def dm_target(self, identity: Identity) -> str:
        return f"dm:{identity.member_id}"

    async def send(self, outgoing: Outgoing) -> str | None:
        html = render(outgoing.message)
        keys = [outgoing.message.key] if outgoing.message.key else []
        async with self.services.database.transaction() as session:
            repo = Repos(session).web
            if outgoing.edit_ref:
                existing = await repo.get(int(outgoing.edit_ref))
                mine = (
                    existing is not None
                    and existing.conversation == outgoing.target
                    and existing.author_member_id is None
                    and existing.visible_to in (None, outgoing.member_id)
                )
                if not mine:  # only the bot's own message in that conversation, visible to that member
                    raise PermanentSendError("message to edit not found")
                await repo.replace(int(outgoing.edit_ref), html, outgoing.message.plain_text, keys)
                reference = outgoing.edit_ref
            else:
                thread_of = int(outgoing.thread_ref) if outgoing.thread_ref else None
                stored = await repo.append(
                    outgoing.target,
                    html,
                    text=outgoing.message.plain_text,
                    visible_to=outgoing.member_id if outgoing.ephemeral else None,
                    thread_of=thread_of,
                    keys=keys,
                )
                reference = str(stored.id)
        await self.notify()
        return reference

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def conversations(self, member_id: int) -> list[dict[str, str]]:
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            member = await repos.members.get(member_id)
            if member is None or not member.active:
                raise ChatRefused(401, "sign_in_first")
            found = [{"id": f"dm:{member_id}", "name": "Klantpet", "kind": "dm"}]
            for channel in await repos.channels.of_member("web", member_id):
                found.append({"id": channel.external_id, "name": f"#{channel.name}", "kind": "channel"})
        return found

    async def messages(self, member_id: int, since: datetime | None) -> list[dict[str, Any]]:
        if since is not None and since.utcoffset() is None:
            raise ChatRefused(422, "bad_since")  # a moment without a time zone is ambiguous
        conversations = [item["id"] for item in await self.conversations(member_id)]
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            # Re-read a few seconds: a row stamped earlier may commit after one the browser has seen.
            overlap = since - timedelta(seconds=5) if since is not None else None
            rows = await repos.web.visible(conversations, member_id, overlap)
            names = await repos.members.names({row.author_member_id for row in rows if row.author_member_id})
        return [
            {
                "id": row.id,
                "revision": row.revision,
                "conversation": row.conversation,
                "thread_of": row.thread_of,
                "author": names.get(row.author_member_id, "") if row.author_member_id else "Klantpet",
                "mine": row.author_member_id == member_id,
                "bot": row.author_member_id is None,
                "private": row.visible_to is not None,
                "html": row.html,
                "keys": row.keys,
                "created_at": row.created_at.isoformat(),
                "updated_at": row.updated_at.isoformat(),
            }
            for row in rows
        ]

    # --- HTTP ------------------------------------------------------------------------------------
    def mount(self, app: FastAPI) -> None:
        from bot.platforms.web_http import mount

        mount(app, self)

    def sign_in_link(self, member_id: int, minutes: int = 30) -> str:
        token = self.links.sign({"member": member_id, "nonce": uuid.uuid4().hex}, minutes * 60)
        return f"{self.services.settings.base_url}/chat/login?token={token}"

    async def locale_of(self, member_id: object) -> str:
        """The language to answer a signed-in (or not signed-in) person in."""
        if isinstance(member_id, int):
            async with self.services.database.transaction() as session:
                member = await Repos(session).members.get(member_id)
            if member is not None and member.active:
                return self.services.catalog.locale(member.locale)
        return self.services.settings.default_locale

    async def use_link(self, value: dict[str, Any]) -> bool:
        """A link works once: its nonce is recorded like a processed event."""
        async with self.services.database.transaction() as session:
            return await Repos(session).events.first_time(
                "web-link", str(value.get("nonce")), self.services.clock.now()
            )

    async def stream(self) -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        while not self._closing:
            async with self.changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), timeout=3.0)
            yield "event: changed\ndata: {}\n\n"

    async def start(self) -> None:
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        await self.notify()
