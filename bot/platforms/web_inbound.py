"""What a person does in the web chat, checked and turned into the router's events.

Every request is authenticated by the session cookie; actions name a message the person can see in a
conversation they are in; every action carries a fresh browser id, so a re-sent one counts once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from pydantic import BaseModel, Field, field_validator

from bot.events import (
    Actor,
    ButtonClick,
    Command,
    FormSubmit,
    MemberJoined,
    Reaction,
    Reply,
    Where,
    without_nul,
)
from bot.router import Outcome
from bot.signing import Signer
from storage.models import Member
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.app import Services

COOKIE = "klantpet_chat"


class SendBody(BaseModel):
    event_id: str = Field(min_length=8, max_length=64)
    conversation: str = Field(max_length=100)
    text: str = Field(min_length=1, max_length=8000)
    thread_of: int | None = None

    @field_validator("text", mode="before")
    @classmethod
    def _storable(cls, value: object) -> object:
        return without_nul(value) if isinstance(value, str) else value


class ClickBody(BaseModel):
    event_id: str = Field(min_length=8, max_length=64)
    token: str = Field(max_length=40)
    message_id: int | None = None


class SubmitBody(ClickBody):
    fields: dict[str, str] = Field(default_factory=dict)


class ReactBody(BaseModel):
    event_id: str = Field(min_length=8, max_length=64)
    message_id: int
    emoji: str = Field(min_length=1, max_length=40)
    removed: bool = False
    """True when the person takes the reaction back."""


class ChatRefused(HTTPException):
    """A refused web chat request; ``key`` names its sentence under ``web.error`` in the prompts."""

    def __init__(self, status_code: int, key: str) -> None:
        super().__init__(status_code=status_code, detail=key)
        self.key = key


class WebInbound:
    """The inbound half of `bot.platforms.web.WebPlatform`."""

    services: Services
    sessions: Signer

    async def notify(self) -> None:
        raise NotImplementedError

    def member_id(self, request: Request) -> int:
        token = request.cookies.get(COOKIE)
        value = self.sessions.unsign(token) if token else None
        if not isinstance(value, int):
            raise ChatRefused(401, "sign_in_first")
        return value

    async def actor(self, member_id: int) -> tuple[Actor, Member]:
        async with self.services.database.transaction() as session:
            member = await Repos(session).members.get(member_id)
            if member is None or not member.active:
                raise ChatRefused(401, "sign_in_first")
        return Actor("web", str(member_id), member.name, member.locale, member.timezone), member

    async def _where(self, conversation: str, member_id: int) -> Where:
        if conversation == f"dm:{member_id}":
            return Where(external_id=conversation, kind="dm", ref=conversation)
        if conversation.startswith("channel:"):
            async with self.services.database.transaction() as session:
                channel = await Repos(session).channels.by_external("web", conversation)
                if channel is None or member_id not in await Repos(session).channels.member_ids(channel.id):
                    raise ChatRefused(403, "not_in_channel")
                return Where(external_id=conversation, kind="channel", name=channel.name, ref=conversation)
        raise ChatRefused(403, "not_in_channel")

    async def _message_in(
        self, member_id: int, conversation: str, message_id: int, token: str | None = None
    ) -> None:
        """Refuse unless ``message_id`` is in ``conversation``, visible to the member (and shows ``token``)."""
        async with self.services.database.transaction() as session:
            message = await Repos(session).web.get(message_id)
        visible = (
            message is not None
            and message.conversation == conversation
            and message.visible_to in (None, member_id)
        )
        if not visible or (token is not None and message is not None and token not in message.html):
            raise ChatRefused(403, "not_actionable")

    async def _seen(self, member_id: int, client_id: str) -> bool:
        async with self.services.database.transaction() as session:
            return await Repos(session).events.seen("web", self._event_id(member_id, client_id))

    @staticmethod
    def _event_id(member_id: int, client_id: str) -> str:
        """Browser ids live in their own namespace per member, apart from the server's own ids."""
        return f"c{member_id}:{client_id}"

    async def sign_in(self, member_id: int) -> Outcome:
        """Record a first visit (the welcome arrives once, de-duplicated by member)."""
        actor, _ = await self.actor(member_id)
        where = Where(external_id=f"dm:{member_id}", kind="dm", ref=f"dm:{member_id}")
        return await self.services.router.handle(
            MemberJoined(platform="web", event_id=f"joined:{member_id}", actor=actor, where=where),
            enroll=False,
        )

    async def say(self, member_id: int, body: SendBody) -> Outcome:
        actor, member = await self.actor(member_id)
        where = await self._where(body.conversation, member_id)
        if body.thread_of is not None:
            await self._message_in(member_id, body.conversation, body.thread_of)
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            # A re-sent message (a network retry) shows once; the router de-duplicates its handling.
            marker = self._event_id(member_id, body.event_id) + ":text"
            if await repos.events.first_time("web", marker, self.services.clock.now()):
                await repos.web.append(
                    body.conversation,
                    render_user_text(body.text),
                    text=body.text,
                    author_member_id=member.id,
                    thread_of=body.thread_of,
                )
        await self.notify()
        if body.thread_of is not None:
            event: Any = Reply(
                platform="web",
                event_id=self._event_id(member_id, body.event_id),
                actor=actor,
                where=where,
                text=body.text,
                thread_ref=str(body.thread_of),
            )
        else:
            addressed = (
                where.kind == "dm"
                or body.text.lstrip().startswith(("/", "@klantpet", "klantpet"))
                or self.services.router.is_bare(body.text)
            )
            if not addressed:
                return Outcome()
            event = Command(
                platform="web",
                event_id=self._event_id(member_id, body.event_id),
                actor=actor,
                where=where,
                text=body.text,
                explicit=where.kind != "dm" or body.text.lstrip().startswith("/"),
            )
        return await self.services.router.handle(event, enroll=False)

    async def _on_card(
        self, member_id: int, conversation: str, message_id: int | None, event_id: str, token: str
    ) -> tuple[Actor, Where] | None:
        """Who acts where, for a click or a form sent from one of the bot's cards; None when re-sent."""
        actor, _ = await self.actor(member_id)
        where = await self._where(conversation, member_id)
        if message_id is None:
            raise ChatRefused(422, "not_actionable")
        if await self._seen(member_id, event_id):  # a re-sent click: the card may have changed since
            return None
        await self._message_in(member_id, conversation, message_id, token)
        return actor, where

    async def click(self, member_id: int, conversation: str, body: ClickBody) -> Outcome:
        found = await self._on_card(member_id, conversation, body.message_id, body.event_id, body.token)
        if found is None:
            return Outcome(duplicate=True)
        actor, where = found
        return await self.services.router.handle(
            ButtonClick(
                platform="web",
                event_id=self._event_id(member_id, body.event_id),
                actor=actor,
                where=where,
                token=body.token,
                message_ref=str(body.message_id) if body.message_id else None,
            ),
            enroll=False,
        )

    async def submit(self, member_id: int, conversation: str, body: SubmitBody) -> Outcome:
        found = await self._on_card(member_id, conversation, body.message_id, body.event_id, body.token)
        if found is None:
            return Outcome(duplicate=True)
        actor, where = found
        return await self.services.router.handle(
            FormSubmit(
                platform="web",
                event_id=self._event_id(member_id, body.event_id),
                actor=actor,
                where=where,
                token=body.token,
                fields=body.fields,
                message_ref=str(body.message_id) if body.message_id else None,
            ),
            enroll=False,
        )

    async def react(self, member_id: int, conversation: str, body: ReactBody) -> Outcome:
        actor, _ = await self.actor(member_id)
        where = await self._where(conversation, member_id)
        await self._message_in(member_id, conversation, body.message_id)
        return await self.services.router.handle(
            Reaction(
                platform="web",
                event_id=self._event_id(member_id, body.event_id),
                actor=actor,
                where=where,
                emoji=body.emoji,
                message_ref=str(body.message_id),
                added=not body.removed,
            ),
            enroll=False,
        )


def render_user_text(text: str) -> str:
    from bot import markup

    return f'<div class="kp-text">{markup.to_html(text)}</div>'
