"""The story library and story posts per channel; engagement with the posts and its numbers are inherited
from `storage.repositories.story_engagement`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from storage.models.stories import Story, StoryEngagement, StoryPost, StoryStatus
from storage.repositories.story_engagement import PostStats, StoryEngagementQueries, StoryTotals
from storage.upsert import insert_ignore

__all__ = ["PostHistory", "PostStats", "StoryRepository", "StoryTotals"]


@dataclass(frozen=True)
class PostHistory:
    """How often and how recently a story was posted in one channel."""

    times: int
    last_posted_at: datetime


class StoryRepository(StoryEngagementQueries):
    # --- The library -------------------------------------------------------------------------------
    async def get(self, story_id: int) -> Story | None:
        return await self.session.get(Story, story_id)

    async def by_slug(self, slug: str, locale: str) -> Story | None:
        statement = select(Story).where(Story.slug == slug, Story.locale == locale)
        return (await self.session.scalars(statement)).first()

    async def find(self, reference: str, locale: str) -> Story | None:
        """A story by id (``12`` or ``#12``) or by slug (the one in ``locale`` first)."""
        reference = reference.strip()
        if reference.lstrip("#").isdigit():
            return await self.get(int(reference.lstrip("#")))
        statement = (
            select(Story)
            .where(Story.slug == reference.lower())
            .order_by((Story.locale == locale).desc(), Story.id)
        )
        return (await self.session.scalars(statement)).first()

    async def slug_taken(self, slug: str, locale: str) -> bool:
        return await self.by_slug(slug, locale) is not None

    async def add(self, story: Story) -> Story:
        self.session.add(story)
        await self.session.flush()
        return story

    async def insert_missing(self, rows: list[dict[str, Any]]) -> int:
        """Insert stories whose (slug, locale) is new; existing ones are left as they are."""
        if not rows:
            return 0
        return await insert_ignore(
            self.session,
            Story.__table__,  # type: ignore[arg-type]
            rows,
            ["slug", "locale"],
        )

    async def listing(
        self, *, status: str | None = None, locale: str | None = None, limit: int = 50
    ) -> Sequence[Story]:
        statement = select(Story).order_by(Story.locale, Story.id).limit(limit)
        if status:
            statement = statement.where(Story.status == status)
        if locale:
            statement = statement.where(Story.locale == locale)
        return (await self.session.scalars(statement)).all()

    async def counts(self) -> dict[tuple[str, str], int]:
        """Number of stories per (locale, status)."""
        statement = select(Story.locale, Story.status, func.count()).group_by(Story.locale, Story.status)
        return {
            (locale, status): int(n) for locale, status, n in (await self.session.execute(statement)).all()
        }

    async def approved(self, locale: str) -> Sequence[Story]:
        statement = (
            select(Story)
            .where(Story.status == StoryStatus.approved.value, Story.locale == locale)
            .order_by(Story.approved_at, Story.id)
        )
        return (await self.session.scalars(statement)).all()

    # --- Posts ---------------------------------------------------------------------------------------
    async def history(self, channel_id: int) -> dict[int, PostHistory]:
        """Per story: how often and when last it was posted in the channel."""
        statement = (
            select(StoryPost.story_id, func.count(), func.max(StoryPost.posted_at))
            .where(StoryPost.channel_id == channel_id)
            .group_by(StoryPost.story_id)
        )
        rows = (await self.session.execute(statement)).all()
        return {int(story_id): PostHistory(int(times), last) for story_id, times, last in rows}

    async def overall_history(self, locale: str) -> dict[int, PostHistory]:
        """Like `history`, over every channel (stories in ``locale``)."""
        statement = (
            select(StoryPost.story_id, func.count(), func.max(StoryPost.posted_at))
            .join(Story, Story.id == StoryPost.story_id)
            .where(Story.locale == locale)
            .group_by(StoryPost.story_id)
        )
        rows = (await self.session.execute(statement)).all()
        return {int(story_id): PostHistory(int(times), last) for story_id, times, last in rows}

    async def recent_posts(self, channel_id: int, limit: int = 3) -> Sequence[StoryPost]:
        statement = (
            select(StoryPost)
            .where(StoryPost.channel_id == channel_id)
            .order_by(StoryPost.posted_at.desc(), StoryPost.id.desc())
            .limit(limit)
        )
        return (await self.session.scalars(statement)).all()

    async def latest_post(self, locale: str) -> StoryPost | None:
        """The newest post of a story in ``locale`` in any channel ("this week's story")."""
        statement = (
            select(StoryPost)
            .join(Story, Story.id == StoryPost.story_id)
            .where(Story.locale == locale)
            .order_by(StoryPost.posted_at.desc(), StoryPost.id.desc())
            .limit(1)
        )
        return (await self.session.scalars(statement)).first()

    async def record_post(
        self,
        *,
        story: Story,
        channel_id: int,
        schedule_id: int | None,
        fire_time: datetime,
        delivery_key: str,
        reach: int,
        now: datetime,
    ) -> StoryPost:
        post = StoryPost(
            story_id=story.id,
            channel_id=channel_id,
            schedule_id=schedule_id,
            fire_time=fire_time,
            delivery_key=delivery_key,
            reach=reach,
            posted_at=now,
        )
        self.session.add(post)
        await self.session.flush()
        return post

    async def post_by_key(self, delivery_key: str) -> StoryPost | None:
        statement = select(StoryPost).where(StoryPost.delivery_key == delivery_key)
        return (await self.session.scalars(statement)).first()

    # --- Privacy -----------------------------------------------------------------------------------
    def _of_member(self, member_id: int, name: str) -> Any:
        return or_(Story.submitted_by_member_id == member_id, func.lower(Story.credit) == name.lower())

    async def export_for_member(self, member_id: int, name: str) -> dict[str, Any]:
        """Stories the member shared or is credited for, and their replies and reactions to story posts."""
        stories = await self.session.scalars(
            select(Story).where(self._of_member(member_id, name)).order_by(Story.id)
        )
        engagement = await self.session.execute(
            select(StoryEngagement, Story.title)
            .join(StoryPost, StoryPost.id == StoryEngagement.post_id)
            .join(Story, Story.id == StoryPost.story_id)
            .where(StoryEngagement.member_id == member_id)
            .order_by(StoryEngagement.id)
        )
        return {
            "stories": [
                {
                    "id": story.id,
                    "title": story.title,
                    "locale": story.locale,
                    "status": story.status,
                    "origin": story.origin,
                    "submitted_by_you": story.submitted_by_member_id == member_id,
                    "credit": story.credit,
                    "story": story.story,
                    "created_at": story.created_at,
                }
                for story in stories
            ],
            "engagement": [
                {
                    "story": title,
                    "kind": row.kind,
                    "emoji": row.detail if row.kind == "reaction" else None,
                    "at": row.at,
                }
                for row, title in engagement.all()
            ],
        }

    async def uncredit(self, member_id: int, name: str, colleague: dict[str, str]) -> int:
        """Credit the member's stories to "a colleague" (``colleague``: the words per story language)."""
        stories = (await self.session.scalars(select(Story).where(self._of_member(member_id, name)))).all()
        for story in stories:
            story.credit = colleague.get(story.locale, next(iter(colleague.values())))
        await self.session.flush()
        return len(stories)
