"""Telegram invitations, step-by-step form sessions and the parts of long messages already sent."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, Member
from storage.models.telegram import TelegramFormSession, TelegramInvite, TelegramSentPart
from storage.upsert import insert_ignore


class InviteStatus(StrEnum):
    linked = "linked"
    unknown = "unknown"
    used = "used"
    expired = "expired"


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class TelegramRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- Invitations ---------------------------------------------------------------------------------
    async def create_invite(self, member_id: int, now: datetime, valid_for: timedelta) -> str:
        """A new single-use code for ``member_id`` (fits Telegram's deep-link ``start`` parameter)."""
        code = secrets.token_urlsafe(18)
        self.session.add(
            TelegramInvite(
                member_id=member_id, code_hash=_hash(code), created_at=now, expires_at=now + valid_for
            )
        )
        await self.session.flush()
        return code

    async def redeem_invite(self, code: str, now: datetime) -> tuple[InviteStatus, int | None]:
        """Use the code once: (linked, member id), or why it cannot be used. An invitation for a member who
        is no longer active is unknown, and stays unused (should they come back, it works again)."""
        digest = _hash(code)
        active = select(Member.id).where(Member.active.is_(True))
        statement = (
            update(TelegramInvite)
            .where(
                TelegramInvite.code_hash == digest,
                TelegramInvite.used_at.is_(None),
                TelegramInvite.expires_at > now,
                TelegramInvite.member_id.in_(active),
            )
            .values(used_at=now)
            .returning(TelegramInvite.member_id)
            .execution_options(synchronize_session=False)
        )
        member_id = (await self.session.scalars(statement)).first()
        if member_id is not None:
            return InviteStatus.linked, int(member_id)
        found = (
            await self.session.scalars(select(TelegramInvite).where(TelegramInvite.code_hash == digest))
        ).first()
        if found is None:
            return InviteStatus.unknown, None
        if found.used_at is not None:
            return InviteStatus.used, None
        return (InviteStatus.expired if found.expires_at <= now else InviteStatus.unknown), None

    async def open_invites(self, now: datetime) -> list[TelegramInvite]:
        statement = (
            select(TelegramInvite)
            .where(TelegramInvite.used_at.is_(None), TelegramInvite.expires_at > now)
            .order_by(TelegramInvite.expires_at)
        )
        return list((await self.session.scalars(statement)).all())

    # --- Forms filled in step by step ------------------------------------------------------------------
    async def form_session(
        self, chat_id: str, user_id: str, fresh_after: datetime
    ) -> TelegramFormSession | None:
        """The person's form in progress in this chat; one left untouched since ``fresh_after`` is dropped."""
        found = await self.session.get(TelegramFormSession, (chat_id, user_id))
        if found is not None and found.updated_at < fresh_after:
            await self.session.delete(found)
            await self.session.flush()
            return None
        return found

    async def start_form(
        self,
        *,
        chat_id: str,
        user_id: str,
        member_id: int,
        token: str,
        form: dict[str, Any],
        origin: dict[str, Any],
        message_ref: str | None,
        now: datetime,
    ) -> TelegramFormSession:
        """Begin (or begin again) filling in ``form``; replaces any other form in progress here."""
        await self.end_form(chat_id, user_id)
        started = TelegramFormSession(
            chat_id=chat_id,
            user_id=user_id,
            member_id=member_id,
            nonce=secrets.token_hex(4),
            token=token,
            form=form,
            origin=origin,
            message_ref=message_ref,
            step=0,
            answers={},
            updated_at=now,
        )
        self.session.add(started)
        await self.session.flush()
        return started

    async def end_form(self, chat_id: str, user_id: str) -> bool:
        result = await self.session.execute(
            delete(TelegramFormSession).where(
                TelegramFormSession.chat_id == chat_id, TelegramFormSession.user_id == user_id
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def forget_stale_forms(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(TelegramFormSession).where(TelegramFormSession.updated_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def sent_messages(self, message_ref: str) -> list[dict[str, Any]]:
        """The neutral messages sent as (or edited into) ``message_ref``, newest first."""
        statement = (
            select(Delivery.message)
            .where(Delivery.platform == "telegram", Delivery.platform_message_id == message_ref)
            .order_by(Delivery.id.desc())
        )
        return [dict(message) for message in (await self.session.scalars(statement)).all()]

    # --- Long messages -------------------------------------------------------------------------------
    async def sent_parts(self, delivery_id: int) -> dict[int, str]:
        statement = select(TelegramSentPart).where(TelegramSentPart.delivery_id == delivery_id)
        return {row.part: row.message_ref for row in (await self.session.scalars(statement)).all()}

    async def record_part(self, delivery_id: int, part: int, message_ref: str) -> None:
        await insert_ignore(
            self.session,
            TelegramSentPart.__table__,  # type: ignore[arg-type]
            {"delivery_id": delivery_id, "part": part, "message_ref": message_ref},
            ["delivery_id", "part"],
        )

    # --- Privacy and retention ---------------------------------------------------------------------------
    async def export_for_member(self, member_id: int) -> dict[str, Any]:
        invites = await self.session.scalars(
            select(TelegramInvite).where(TelegramInvite.member_id == member_id).order_by(TelegramInvite.id)
        )
        forms = await self.session.scalars(
            select(TelegramFormSession).where(TelegramFormSession.member_id == member_id)
        )
        return {
            "invites": [
                {"created_at": invite.created_at, "expires_at": invite.expires_at, "used_at": invite.used_at}
                for invite in invites
            ],
            "forms_in_progress": [{"answers": form.answers, "updated_at": form.updated_at} for form in forms],
        }

    async def forget_member(self, member_id: int) -> int:
        removed = 0
        for table in (TelegramInvite, TelegramFormSession):
            result = await self.session.execute(delete(table).where(table.member_id == member_id))
            removed += int(getattr(result, "rowcount", 0) or 0)
        return removed

    async def forget_invites_before(self, cutoff: datetime) -> int:
        """Delete invitations used, or expired, before ``cutoff`` (open ones stay until they expire)."""
        result = await self.session.execute(
            delete(TelegramInvite).where(
                or_(TelegramInvite.used_at < cutoff, TelegramInvite.expires_at < cutoff)
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
