"""The klantpet ritual: who wore the cap at which meeting, absences, and the silo-conflict register."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, BigId, Json, UtcDateTime
from storage.models.core import Department, Member


class DebriefAnswer(StrEnum):
    no_conflict = "no_conflict"
    conflict = "conflict"


class SiloStatus(StrEnum):
    open = "open"
    discussed = "discussed"
    resolved = "resolved"
    escalated = "escalated"

    @property
    def unresolved(self) -> bool:
        return self is not SiloStatus.resolved


class RitualRun(Base):
    """One opening of the ritual at one occurrence of a meeting (scheduled, or ad hoc via ``pet``)."""

    __tablename__ = "ritual_runs"
    __table_args__ = (UniqueConstraint("meeting_id", "occurrence"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    occurrence: Mapped[datetime] = mapped_column(UtcDateTime)
    """When this occurrence of the meeting starts (the idempotency anchor of its opening and debrief)."""
    scheduled: Mapped[bool] = mapped_column(Boolean, default=True)
    cap_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    questions: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    """The questions as posted: ``[{"id": "voice-01", "text": "…"}]``."""
    passed_by: Mapped[list[int]] = mapped_column(Json, default=list)
    """Members who passed the cap on (or said they were absent) at this occurrence."""
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    debrief_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    debrief_answer: Mapped[str | None] = mapped_column(String(20))
    debriefed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    customer_moment: Mapped[str | None] = mapped_column(Text)


class RitualSwitch(Base):
    """A meeting's ritual switched on or off: "rituals scheduled" is counted from this history."""

    __tablename__ = "ritual_switches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    switched_at: Mapped[datetime] = mapped_column(UtcDateTime)
    enabled: Mapped[bool] = mapped_column(Boolean)


class RitualAbsence(Base):
    """A participant who will not be at a meeting on a (local) date: the rotation skips them."""

    __tablename__ = "ritual_absences"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SiloConflict(Base):
    """Two departments whose goals pull against the customer, as surfaced in a ritual debrief."""

    __tablename__ = "silo_conflicts"
    __table_args__ = (Index("ix_silo_conflicts_pair", "department_a_id", "department_b_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("ritual_runs.id", ondelete="SET NULL"))
    department_a_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    department_b_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    """The pair is stored in id order (a < b), so a pair is counted the same whichever way it was named."""
    goals: Mapped[str] = mapped_column(Text)
    customer_impact: Mapped[str] = mapped_column(Text)
    next_step: Mapped[str] = mapped_column(Text)
    owner_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default=SiloStatus.open.value, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    department_a: Mapped[Department] = relationship(foreign_keys=[department_a_id], lazy="joined")
    department_b: Mapped[Department] = relationship(foreign_keys=[department_b_id], lazy="joined")
    owner: Mapped[Member | None] = relationship(foreign_keys=[owner_member_id], lazy="joined")

    @property
    def pair(self) -> str:
        """``Klantenservice ↔ Logistiek``: alphabetical, as the register's pair counts show it."""
        first, second = sorted((self.department_a.name, self.department_b.name), key=str.lower)
        return f"{first} ↔ {second}"
