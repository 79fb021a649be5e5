"""Recurring meetings (where the klantpet ritual runs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, BigId, UtcDateTime
from storage.models.core import Channel


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    rrule: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    ritual_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    opening_lead_minutes: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    """The ritual opens this many minutes before the meeting starts."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """Set when the meeting is removed: it is kept (without participants) so its ritual history counts."""

    channel: Mapped[Channel | None] = relationship(lazy="joined")
    participants: Mapped[list[MeetingParticipant]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def participant_ids(self) -> list[int]:
        return [participant.member_id for participant in self.participants]


class MeetingParticipant(Base):
    __tablename__ = "meeting_participants"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    cap_offset: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Caps counted as worn when the rotation ranks this participant: a newcomer starts level with the
    participant who wore the cap least, instead of wearing it week after week to catch up."""
