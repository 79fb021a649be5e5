"""Telegram's own state: invitations that link a Telegram account to a member, step-by-step forms in
progress, and the parts of long messages already sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, Json, UtcDateTime


class TelegramInvite(Base):
    """A single-use, expiring invitation; only a hash of the code is kept."""

    __tablename__ = "telegram_invites"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TelegramFormSession(Base):
    """A form being filled in step by step by one person in their private chat (deleted when sent or
    cancelled). ``origin`` is the chat the form was posted in (a group's form is answered privately)."""

    __tablename__ = "telegram_form_sessions"

    chat_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(16))
    token: Mapped[str] = mapped_column(String(32))
    form: Mapped[dict[str, Any]] = mapped_column(Json)
    origin: Mapped[dict[str, Any]] = mapped_column(Json)
    message_ref: Mapped[str | None] = mapped_column(String(80))
    step: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class TelegramSentPart(Base):
    """One part of a long message already sent, so a retry after a rate limit never sends it twice."""

    __tablename__ = "telegram_sent_parts"

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_ref: Mapped[str] = mapped_column(String(80))
