"""Closing the loop: feedback items, their threads, themes, "you said, we did" updates and the relay queue.

Anonymity is structural here. An anonymous item holds no member id and no hash of one: replies reach the
giver through ``relay_blob``, a Fernet token (random IV, no real timestamp) that only the relay opens.
Every text is sealed (encrypted) at rest, the times of anonymous items and their threads are kept to the
day, and anything that touches an anonymous giver passes through `FeedbackRelayQueue`, so the item is
never written in the same transaction as the rows that name its giver.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, UtcDateTime


class FeedbackStatus(StrEnum):
    new = "new"
    acknowledged = "acknowledged"
    planned = "planned"
    done = "done"
    wont_do = "wont_do"

    @property
    def closed(self) -> bool:
        return self in (FeedbackStatus.done, FeedbackStatus.wont_do)


OPEN_STATUSES = (FeedbackStatus.new, FeedbackStatus.acknowledged, FeedbackStatus.planned)


class FeedbackMode(StrEnum):
    named = "named"
    anonymous = "anonymous"
    """Anonymous, and replies reach the giver through the relay."""
    anonymous_no_replies = "anonymous_no_replies"
    """Anonymous, and nothing about the giver is kept at all."""

    @property
    def anonymous_kind(self) -> bool:
        return self is not FeedbackMode.named


class FeedbackCategory(StrEnum):
    customer = "customer"
    process = "process"
    silo = "silo"
    leadership = "leadership"
    other = "other"


class FeedbackTheme(Base):
    """Several items that are one thing to act on; its updates go to every contributor."""

    __tablename__ = "feedback_themes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=FeedbackStatus.acknowledged.value)
    owner_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FeedbackItem(Base):
    __tablename__ = "feedback_items"
    __table_args__ = (Index("ix_feedback_items_status", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(20))
    text_sealed: Mapped[str] = mapped_column(Text)
    giver_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    """Only for named items."""
    relay_blob: Mapped[str | None] = mapped_column(Text)
    """Only for anonymous items with replies: the giver, encrypted for the relay."""
    owner_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    theme_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_themes.id", ondelete="SET NULL"), index=True
    )
    reason_sealed: Mapped[str | None] = mapped_column(Text)
    """Why it won't be done."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    """The day only, for anonymous items."""
    waiting_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """Since when the giver waits for an answer (None: answered); drives the SLA reminders."""
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """The first answer (a reply or a status change)."""
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sla_stage: Mapped[int] = mapped_column(Integer, default=0)
    """0: nobody reminded yet; 1: the owner was reminded; 2: the CX managers were."""

    @property
    def state(self) -> FeedbackStatus:
        return FeedbackStatus(self.status)

    @property
    def kind(self) -> FeedbackMode:
        return FeedbackMode(self.mode)


class FeedbackMessage(Base):
    """One message in an item's thread, from the giver or from staff (a CX manager or the owner)."""

    __tablename__ = "feedback_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("feedback_items.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(10))
    """``giver`` or ``staff``."""
    author_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    """Staff only; a giver is never named here."""
    text_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    """The day only, for anonymous items."""


class FeedbackThemeUpdate(Base):
    """A "you said, we did" update: written by the owner when a theme is planned or done."""

    __tablename__ = "feedback_theme_updates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("feedback_themes.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    author_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    contributors: Mapped[int] = mapped_column(Integer, default=0)
    unreachable: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class FeedbackDraft(Base):
    """Feedback typed in chat while the giver picks how to send it; gone once sent (or after two days)."""

    __tablename__ = "feedback_drafts"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    text_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class FeedbackRelayQueue(Base):
    """Sealed work for the relay: anonymous items and answers coming in, messages going out to givers."""

    __tablename__ = "feedback_relay_queue"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    direction: Mapped[str] = mapped_column(String(4))
    """``in`` (to the inbox) or ``out`` (to a giver)."""
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    """The day only."""
