"""Linking a Telegram account to a member: an admin's single-use, expiring invitation (a deep link).

Anyone can message a bot, so only linked members may use it. ``create`` makes a link
``https://t.me/<bot>?start=<code>`` (only a hash of the code is stored); when someone opens it, Telegram
sends ``/start <code>`` and ``redeem`` links that Telegram user to the invited member, once.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.events import Actor, MemberJoined, Where
from bot.messages import Message
from storage.repositories import Repos
from storage.repositories.telegram import InviteStatus

if TYPE_CHECKING:
    from bot.platforms.telegram import TelegramPlatform

INVITE_DAYS = 7
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


class Invitations:
    def __init__(self, platform: TelegramPlatform) -> None:
        self.platform = platform
        self.services = platform.services
        self.name = platform.name

    async def create(self, member_id: int, days: int = INVITE_DAYS) -> str:
        """A deep link (single use, valid ``days``) that links whoever opens it to ``member_id``."""
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            code = await repos.telegram.create_invite(
                member_id, self.services.clock.now(), timedelta(days=days)
            )
            await repos.audit.record(None, "telegram.invite", f"member:{member_id}", days=days)
        return deep_link(self.platform.username, code)

    async def redeem(self, event_id: str, actor: Actor, where: Where, code: str) -> None:
        """``/start <code>`` from an invitation link: link this Telegram user to the invited member."""
        now = self.services.clock.now()
        linked = None
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            if not await repos.events.first_time(self.name, event_id, now):
                return
            locale = self.services.catalog.locale(actor.locale)
            member = await repos.members.by_identity(self.name, actor.external_id)
            if member is not None:
                key = "telegram.already_linked" if member.active else "error.not_linked"
            else:
                status, member_id = (
                    await repos.telegram.redeem_invite(code, now)
                    if _CODE.fullmatch(code)
                    else (InviteStatus.unknown, None)
                )
                member = await repos.members.get(member_id) if member_id is not None else None
                if member is not None and member.active:
                    await repos.members.add_identity(
                        member, self.name, actor.external_id, dm_ref=where.external_id, now=now
                    )
                    await repos.audit.record(member.id, "telegram.linked", f"member:{member.id}")
                    key, linked = "telegram.linked", member
                else:  # for someone no longer active: unknown (the invitation stays unused, see the repository)
                    known = status is not InviteStatus.linked
                    key, member = f"telegram.invite_{status.value if known else 'unknown'}", None
            if member is not None:
                locale = self.services.catalog.locale(member.locale or actor.locale)
            name = member.name.split()[0] if member is not None else ""
            await self.services.outbox.enqueue(
                session,
                key=f"in:{self.name}:{event_id}:link",
                topic="telegram",
                platform=self.name,
                target=where.external_id,
                message=Message.text(self.platform.t(locale, key, name=name), key=key),
                locale=locale,
                member_id=member.id if member is not None else None,
            )
        self.services.outbox.wake()
        if linked is not None:
            joined = MemberJoined(platform=self.name, event_id=f"joined:{event_id}", actor=actor, where=where)
            await self.services.router.handle(joined, enroll=False)
