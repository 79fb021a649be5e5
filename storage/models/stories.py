"""Customer stories: the library, where each story was posted, and who engaged with it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, BigId, UtcDateTime


class StoryStatus(StrEnum):
    draft = "draft"
    approved = "approved"
    archived = "archived"


class Story(Base):
    """One customer story in one language; translations share the ``slug``."""

    __tablename__ = "stories"
    __table_args__ = (
        UniqueConstraint("slug", "locale"),
        Index("ix_stories_pick", "status", "locale"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120))
    locale: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    story: Mapped[str] = mapped_column(Text)
    quote: Mapped[str] = mapped_column(Text, default="")
    quote_author: Mapped[str] = mapped_column(String(200), default="")
    meaning: Mapped[str] = mapped_column(Text, default="")
    question: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    stage: Mapped[str] = mapped_column(String(40), default="")
    department: Mapped[str] = mapped_column(String(80), default="")
    theme: Mapped[str] = mapped_column(String(80), default="")
    image_url: Mapped[str | None] = mapped_column(String(500))
    video_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default=StoryStatus.draft.value)
    credit: Mapped[str] = mapped_column(String(200), default="")
    origin: Mapped[str] = mapped_column(String(20), default="chat")
    """Where it came from: starter, import, chat, draft (from a verbatim) or submission (an employee)."""
    submitted_by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StoryPost(Base):
    """A story posted in a channel for one schedule slot (``delivery_key`` is the outbox key)."""

    __tablename__ = "story_posts"
    __table_args__ = (Index("ix_story_posts_channel", "channel_id", "posted_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    schedule_id: Mapped[int | None] = mapped_column(BigId)
    fire_time: Mapped[datetime] = mapped_column(UtcDateTime)
    delivery_key: Mapped[str] = mapped_column(String(250), unique=True)
    reach: Mapped[int] = mapped_column(Integer, default=0)
    """Members of the channel when the story was posted."""
    posted_at: Mapped[datetime] = mapped_column(UtcDateTime)

    story: Mapped[Story] = relationship(lazy="joined")


class StoryEngagement(Base):
    """A reply in a story's thread or a reaction to it (``detail``: the emoji, or the reply's event id)."""

    __tablename__ = "story_engagement"
    __table_args__ = (UniqueConstraint("post_id", "member_id", "kind", "detail"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("story_posts.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(12))
    detail: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime)
