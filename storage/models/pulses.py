"""Anonymous pulses: rounds, who was invited and answered (participation), and what was answered (counts).

Anonymity is structural. Participation (`PulseInvitation`, `PulseParticipation`) and responses
(`PulseTally`, `PulseComment`) share no key, no time and no order:

- a response is never a row: `PulseTally` holds one counter per (round, question, group, value), all
  created at opening in a fixed order and incremented in place, so neither ids nor row order nor
  (on PostgreSQL) the rows' transaction ids say who answered what;
- open answers wait in `PulseCommentBuffer` (no member, no time, sealed with a key from the settings and
  padded to one length, since a buffer row is written in the same transaction as a participation row) and
  move to `PulseComment` at closing, in alphabetical order, so their positions depend only on the set of
  answers;
- after closing, participation is reduced to counts (`PulseGroupStat`) and its rows are deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, Json, UtcDateTime

WHOLE_AUDIENCE = 0
"""The ``department_id`` of a counter or statistic that covers the whole audience."""


class PulseQuestion(Base):
    """A question a CX manager added to the library (the standard ones live in ``prompts/pulses/``)."""

    __tablename__ = "pulse_questions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    text_nl: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    theme: Mapped[str | None] = mapped_column(String(40))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PulseRound(Base):
    """One pulse: who is asked which questions, when it opens and closes, and its sealed results."""

    __tablename__ = "pulse_rounds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    series_id: Mapped[int | None] = mapped_column(BigId, index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    audience: Mapped[dict[str, Any]] = mapped_column(Json)
    question_ids: Mapped[list[str]] = mapped_column(Json)
    rotate: Mapped[bool] = mapped_column(Boolean, default=True)
    likert_count: Mapped[int] = mapped_column(Integer, default=2)
    include_open: Mapped[bool] = mapped_column(Boolean, default=True)
    recurrence: Mapped[str | None] = mapped_column(String(12))
    timezone: Mapped[str] = mapped_column(String(64))
    opens_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime)
    send_window_minutes: Mapped[int] = mapped_column(Integer, default=0)
    randomise: Mapped[bool] = mapped_column(Boolean, default=False)
    reminder_minutes: Mapped[list[int]] = mapped_column(Json, default=list)
    quiet_start: Mapped[str] = mapped_column(String(5), default="20:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:00")
    baseline: Mapped[bool] = mapped_column(Boolean, default=False)
    threshold: Mapped[int] = mapped_column(Integer, default=5)
    comment_threshold: Mapped[int] = mapped_column(Integer, default=10)
    groups: Mapped[list[int]] = mapped_column(Json, default=list)
    """Departments whose invited group was at least the threshold at opening: only these are counted apart."""
    invited_count: Mapped[int] = mapped_column(Integer, default=0)
    themes: Mapped[list[dict[str, Any]] | None] = mapped_column(Json)
    themes_source: Mapped[str | None] = mapped_column(String(10))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PulseInvitation(Base):
    """Who is asked in an open round (for reminders); deleted at closing."""

    __tablename__ = "pulse_invitations"

    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int | None] = mapped_column(BigId)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)


class PulseParticipation(Base):
    """That a member answered a question of an open round (one answer each); never what, never when."""

    __tablename__ = "pulse_participation"

    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(60), primary_key=True)


class PulseTally(Base):
    """How many people in a group gave ``value`` to a question: a counter, never a row per answer."""

    __tablename__ = "pulse_tallies"

    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    department_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class PulseGroupStat(Base):
    """Invited and responding head counts of a closed round, per group (participation as counts only)."""

    __tablename__ = "pulse_group_stats"

    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invited: Mapped[int] = mapped_column(Integer)
    responded: Mapped[int] = mapped_column(Integer)


class PulseCommentBuffer(Base):
    """An open answer (or a skip) waiting for its round to close: random key, no member, no time, and ``text``
    sealed (`handlers.pulses.sealing`), so it is unreadable from the database alone."""

    __tablename__ = "pulse_comment_buffer"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text)


class PulseComment(Base):
    """An open answer of a closed round, stored in alphabetical order (``position``), never by arrival."""

    __tablename__ = "pulse_comments"

    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
