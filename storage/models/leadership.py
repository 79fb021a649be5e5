"""Leadership: leader snippets (vlog/blog) with their replies and reactions, the CX relay, customer contacts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, UtcDateTime


class SnippetStatus(StrEnum):
    draft = "draft"
    pending = "pending"
    """Waiting for a CX manager's approval."""
    scheduled = "scheduled"
    posted = "posted"
    rejected = "rejected"
    cancelled = "cancelled"


class CustomerContact(Base):
    """A leader's own contact with a customer (a dialogue, a call, a visit), logged in one line."""

    __tablename__ = "customer_contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LeaderSnippet(Base):
    """A short blog text and/or a vlog link a leader shares in the company channel(s)."""

    __tablename__ = "leader_snippets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    author_member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    video_url: Mapped[str | None] = mapped_column(String(2000))
    story_id: Mapped[int | None] = mapped_column(BigId)
    """The customer story it is about (``stories.id``; no foreign key: the stories feature owns its tables)."""
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("customer_contacts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    """Raised on every edit, so an approval always concerns the text the reviewer saw."""
    post_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """The chosen posting time; None means as soon as possible."""
    reviewed_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SnippetReply(Base):
    """A reply in the thread under a posted snippet."""

    __tablename__ = "snippet_replies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    snippet_id: Mapped[int] = mapped_column(ForeignKey("leader_snippets.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SnippetReaction(Base):
    """One member's emoji reaction on a posted snippet (removed when they take it back)."""

    __tablename__ = "snippet_reactions"

    snippet_id: Mapped[int] = mapped_column(
        ForeignKey("leader_snippets.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    emoji: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Relay(Base):
    """A CX relay: leaders pass a baton with a challenge to seek customer contact and share findings."""

    __tablename__ = "relays"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    started_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12))
    """active, finished (everyone ran a leg) or stopped (by a CX manager)."""
    running: Mapped[bool | None] = mapped_column(Boolean, unique=True)
    """True while active, NULL otherwise: the unique constraint allows one running relay at a time."""
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RelayLeg(Base):
    """One leader's turn with the baton; the starter's leg is passed at once."""

    __tablename__ = "relay_legs"
    __table_args__ = (
        UniqueConstraint("relay_id", "position"),
        UniqueConstraint("relay_id", "holder_member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    relay_id: Mapped[int] = mapped_column(ForeignKey("relays.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    holder_member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    passed_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    challenge: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    snippet_id: Mapped[int | None] = mapped_column(ForeignKey("leader_snippets.id", ondelete="SET NULL"))
    shared_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    passed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
