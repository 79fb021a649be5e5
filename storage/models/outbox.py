"""The outbox: durable outbound deliveries, and the web chat's own message store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, Json, UtcDateTime


class Delivery(Base):
    """One message to send (or edit) on one platform, written in the same transaction as its cause."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "priority", "not_before"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(250), unique=True)
    topic: Mapped[str] = mapped_column(String(60), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(400))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    message: Mapped[dict[str, Any]] = mapped_column(Json)
    locale: Mapped[str] = mapped_column(String(8))
    ephemeral: Mapped[bool] = mapped_column(Boolean, default=False)
    thread_ref: Mapped[str | None] = mapped_column(String(400))
    edit_ref: Mapped[str | None] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    priority: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    """0: the answer to something a person just did; 1: everything else (broadcasts, reminders)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    platform_message_id: Mapped[str | None] = mapped_column(String(400), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebMessage(Base):
    """A message in the built-in web chat (the web platform's 'API' is this table)."""

    __tablename__ = "web_messages"
    __table_args__ = (Index("ix_web_messages_conversation", "conversation", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation: Mapped[str] = mapped_column(String(100))
    author_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    visible_to: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    thread_of: Mapped[int | None] = mapped_column(BigId)
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text)
    keys: Mapped[list[str]] = mapped_column(Json, default=list)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
