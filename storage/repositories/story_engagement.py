"""Engagement with posted stories (replies in their thread, reactions) and the numbers on it.

`StoryRepository` (``ctx.repo.stories``) inherits these queries; they live here so each module has one job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Channel
from storage.models.stories import Story, StoryEngagement, StoryPost
from storage.upsert import insert_ignore


@dataclass(frozen=True)
class PostStats:
    """Reach and engagement of one story in one channel (summed over its posts there; ``repliers`` counts
    each person once, however many of those posts they replied to)."""

    story_id: int
    title: str
    locale: str
    channel_id: int
    channel_name: str
    posts: int
    last_posted_at: datetime
    reach: int
    replies: int
    repliers: int
    reactions: int


@dataclass(frozen=True)
class StoryTotals:
    """Every story post in a period together."""

    posts: int
    reach: int
    replies: int


class StoryEngagementQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def engage(self, post: StoryPost, member_id: int, kind: str, detail: str, now: datetime) -> bool:
        """Record a reply or a reaction; False when that exact one was recorded before."""
        row = {"post_id": post.id, "member_id": member_id, "kind": kind, "detail": detail[:200], "at": now}
        table: Any = StoryEngagement.__table__
        return await insert_ignore(self.session, table, row, ["post_id", "member_id", "kind", "detail"]) == 1

    async def disengage(self, post: StoryPost, member_id: int, kind: str, detail: str) -> None:
        await self.session.execute(
            delete(StoryEngagement).where(
                StoryEngagement.post_id == post.id,
                StoryEngagement.member_id == member_id,
                StoryEngagement.kind == kind,
                StoryEngagement.detail == detail[:200],
            )
        )

    async def stats(self, *, since: datetime | None = None, limit: int = 50) -> list[PostStats]:
        """Reach, replies, distinct repliers and reactions per (story, channel), most recently posted first;
        at most ``limit`` rows (ask for one more to learn whether there are more)."""
        posted = [StoryPost.posted_at >= since] if since is not None else []
        posts = (
            select(
                StoryPost.story_id.label("story_id"),
                StoryPost.channel_id.label("channel_id"),
                func.count(StoryPost.id).label("posts"),
                func.max(StoryPost.posted_at).label("last_posted_at"),
                func.sum(StoryPost.reach).label("reach"),
            )
            .where(*posted)
            .group_by(StoryPost.story_id, StoryPost.channel_id)
            .subquery()
        )
        reply = StoryEngagement.kind == "reply"
        engagement = (
            select(
                StoryPost.story_id.label("story_id"),
                StoryPost.channel_id.label("channel_id"),
                func.sum(case((reply, 1), else_=0)).label("replies"),
                func.count(func.distinct(case((reply, StoryEngagement.member_id)))).label("repliers"),
                func.sum(case((StoryEngagement.kind == "reaction", 1), else_=0)).label("reactions"),
            )
            .join(StoryPost, StoryPost.id == StoryEngagement.post_id)
            .where(*posted)
            .group_by(StoryPost.story_id, StoryPost.channel_id)
            .subquery()
        )
        statement = (
            select(
                Story.id,
                Story.title,
                Story.locale,
                Channel.id,
                Channel.name,
                posts.c.posts,
                posts.c.last_posted_at,
                posts.c.reach,
                func.coalesce(engagement.c.replies, 0),
                func.coalesce(engagement.c.repliers, 0),
                func.coalesce(engagement.c.reactions, 0),
            )
            .select_from(posts)
            .join(Story, Story.id == posts.c.story_id)
            .join(Channel, Channel.id == posts.c.channel_id)
            .outerjoin(
                engagement,
                and_(
                    engagement.c.story_id == posts.c.story_id,
                    engagement.c.channel_id == posts.c.channel_id,
                ),
            )
            .order_by(posts.c.last_posted_at.desc(), Channel.name, Story.id)
            .limit(limit)
        )
        return [
            PostStats(
                story_id=row[0],
                title=row[1],
                locale=row[2],
                channel_id=row[3],
                channel_name=row[4],
                posts=int(row[5]),
                last_posted_at=_aware(row[6]),
                reach=int(row[7] or 0),
                replies=int(row[8] or 0),
                repliers=int(row[9] or 0),
                reactions=int(row[10] or 0),
            )
            for row in (await self.session.execute(statement)).all()
        ]

    async def totals(self, *, since: datetime | None = None) -> StoryTotals:
        """Posts, reach and thread replies of every story post (since ``since``) together."""
        posted = [StoryPost.posted_at >= since] if since is not None else []
        posts, reach = (
            await self.session.execute(
                select(func.count(StoryPost.id), func.coalesce(func.sum(StoryPost.reach), 0)).where(*posted)
            )
        ).one()
        replies = await self.session.scalar(
            select(func.count(StoryEngagement.id))
            .join(StoryPost, StoryPost.id == StoryEngagement.post_id)
            .where(StoryEngagement.kind == "reply", *posted)
        )
        return StoryTotals(int(posts or 0), int(reach or 0), int(replies or 0))


def _aware(moment: Any) -> datetime:
    """A max() over a UTC column comes back as text (SQLite) or a naive/aware datetime: always aware UTC."""
    from datetime import UTC

    found = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment))
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)
