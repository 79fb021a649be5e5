"""Campaigns: a CX manager's plan of story slots, pulses, rituals, leader nudges and messages over time.

A campaign's definition is kept as its validated spec (JSON, the same shape as its YAML file); the sends
it caused are rows (`CampaignSend`, one per idempotency key), and new joiners' personal journeys are
rows too (`CampaignJourneyStep`), so sends, reach and progress can be counted without replaying anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, Json, UtcDateTime


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    goal: Mapped[str] = mapped_column(Text, default="")
    owner_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), index=True)
    """``draft`` (being built; no schedules), ``active``, ``paused``, ``ended`` (past its end, nothing left to
    send), ``archived``."""
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    spec: Mapped[dict[str, Any]] = mapped_column(Json)
    """The validated definition (`handlers.campaigns.spec.CampaignSpec`), as applied."""
    spec_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Raised on every change; schedules made for an older version are recomputed."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CampaignSend(Base):
    """One thing a campaign step did at one fire time for one target (a DM, a post, a round, a ritual)."""

    __tablename__ = "campaign_sends"
    __table_args__ = (Index("ix_campaign_sends_campaign", "campaign_id", "step_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    step_key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    occurrence: Mapped[str] = mapped_column(String(40))
    """The step's planned local time (ISO, before moving for holidays or quiet hours)."""
    idempotency_key: Mapped[str] = mapped_column(String(250), unique=True)
    status: Mapped[str] = mapped_column(String(12))
    """``sent``, ``failed`` (with ``detail.reason``)."""
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    pulse_round_id: Mapped[int | None] = mapped_column(BigId)
    story_id: Mapped[int | None] = mapped_column(BigId)
    reach: Mapped[int] = mapped_column(Integer, default=0)
    """People it reached: 1 for a DM, the channel's members for a post, the invited for a round."""
    detail: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CampaignJourneyStep(Base):
    """One step of one new joiner's personal journey, planned when they joined."""

    __tablename__ = "campaign_journey_steps"
    __table_args__ = (
        UniqueConstraint("campaign_id", "member_id", "step_key"),
        Index("ix_campaign_journey_due", "campaign_id", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    step_key: Mapped[str] = mapped_column(String(40))
    occurrence: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(12))
    """``planned``, ``sent``, ``waiting`` (a pulse waiting for enough joiners), ``asked``, ``expired`` (waited too
    long for enough joiners), ``cancelled`` (the campaign was archived or the step removed)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
