"""What a handler gets: the services, its transaction, and ways to answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import Inbound
from bot.messages import Message
from storage.models import Channel, Member
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)


class JobContext:
    """A unit of work without a person behind it (a schedule firing, a CLI command)."""

    def __init__(self, services: Services, session: AsyncSession) -> None:
        self.services = services
        self.session = session
        self.repo = Repos(session)
        self.settings = services.settings
        self.llm = services.llm
        self.clock = services.clock
        self._sequence = 0

    def now(self) -> datetime:
        return self.clock.now()

    def t(self, locale: str, key: str, **params: Any) -> str:
        return self.services.catalog.t(locale, key, **{"organisation": self.settings.organisation, **params})

    def locale_of(self, member: Member | None = None, channel: Channel | None = None) -> str:
        wanted = (member.locale if member else None) or (channel.locale if channel else None)
        return self.services.catalog.locale(wanted)

    def timezone_of(self, member: Member | None = None, channel: Channel | None = None) -> str:
        return (
            (member.timezone if member else None)
            or (channel.timezone if channel else None)
            or (self.settings.default_timezone)
        )

    async def dm(
        self,
        member: Member,
        message: Message | str,
        *,
        key: str,
        topic: str | None = None,
        not_before: datetime | None = None,
        anonymous: bool = False,
    ) -> bool:
        """Send ``member`` a direct message on their platform; False if ``key`` was sent before or no route.

        ``anonymous``: the delivery row does not name the member (relay messages to anonymous givers).
        """
        route = await self.services.dm_route(self.repo, member)
        if route is None:
            log.info("a member has no platform to reach", extra={"key": key.split(":", 1)[0]})
            return False
        platform, target = route
        return await self.services.outbox.enqueue(
            self.session,
            key=key,
            topic=topic or key.split(":", 1)[0],
            platform=platform,
            target=target,
            message=_message(message),
            locale=self.locale_of(member),
            member_id=None if anonymous else member.id,
            not_before=not_before,
        )

    async def post(
        self,
        channel: Channel,
        message: Message | str,
        *,
        key: str,
        topic: str | None = None,
        not_before: datetime | None = None,
        thread_ref: str | None = None,
    ) -> bool:
        """Post in a channel (or group chat); False if ``key`` was posted before."""
        return await self.services.outbox.enqueue(
            self.session,
            key=key,
            topic=topic or key.split(":", 1)[0],
            platform=channel.platform,
            target=channel.external_id,
            message=_message(message),
            locale=self.locale_of(channel=channel),
            channel_id=channel.id,
            not_before=not_before,
            thread_ref=thread_ref,
        )

    async def audit(
        self, actor: Member | None, action: str, subject: str | None = None, **detail: Any
    ) -> None:
        await self.repo.audit.record(actor.id if actor else None, action, subject, at=self.now(), **detail)

    def after_commit(self) -> None:
        self.services.outbox.wake()


@dataclass(frozen=True)
class Origin:
    platform: str
    target: str
    event: Inbound


class Context(JobContext):
    """The context of one inbound event: who, where, in which language, and how to answer."""

    def __init__(
        self,
        services: Services,
        session: AsyncSession,
        *,
        member: Member,
        channel: Channel | None,
        event: Inbound,
        locale: str,
    ) -> None:
        super().__init__(services, session)
        self.member = member
        self.channel = channel
        self.event = event
        self.locale = locale
        self.replies: list[Message] = []

    def t(self, key: str, /, *args: Any, **params: Any) -> str:  # type: ignore[override]
        """``ctx.t(key)`` in the member's locale (``ctx.t(locale, key)`` as on a job also works)."""
        if args:
            return super().t(key, str(args[0]), **params)
        return super().t(self.locale, key, **params)

    def message(self, key: str, **params: Any) -> Message:
        return Message.text(self.t(key, **params), key=key)

    def _reply_key(self) -> str:
        self._sequence += 1
        return reply_key(self.event, self._sequence)

    async def reply(
        self, message: Message | str, *, ephemeral: bool = False, in_thread: str | None = None
    ) -> None:
        """Answer where the event happened (``ephemeral``: only the actor sees it, where the platform can)."""
        message = _message(message)
        self.replies.append(message)
        await self.services.outbox.enqueue(
            self.session,
            key=self._reply_key(),
            topic=message.key.split(".", 1)[0] if message.key else "reply",
            platform=self.event.platform,
            target=self.event.where.ref or self.event.where.external_id,
            message=message,
            locale=self.locale,
            member_id=self.member.id,
            channel_id=self.channel.id if self.channel else None,
            ephemeral=ephemeral and self.event.where.kind != "dm",
            thread_ref=in_thread,
        )

    async def update(self, message_ref: str | None, message: Message | str) -> None:
        """Replace the message the member clicked on (a card shows "answered"); a new reply if unknown."""
        if not message_ref:
            await self.reply(message)
            return
        message = _message(message)
        self.replies.append(message)
        await self.services.outbox.enqueue(
            self.session,
            key=self._reply_key(),
            topic="edit",
            platform=self.event.platform,
            target=self.event.where.ref or self.event.where.external_id,
            message=message,
            locale=self.locale,
            member_id=self.member.id,
            edit_ref=message_ref,
        )


def reply_key(event: Inbound, sequence: int) -> str:
    """The outbox key of the ``sequence``-th answer to an inbound event (1 for the first)."""
    return f"in:{event.platform}:{event.event_id}:{sequence}"


def _message(message: Message | str) -> Message:
    return Message.text(message) if isinstance(message, str) else message
