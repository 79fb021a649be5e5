"""What people do with a posted story: replies in its thread and reactions, and the numbers on them."""

from __future__ import annotations

from datetime import timedelta

from bot.commands import ParsedCommand
from bot.context import Context
from bot.errors import InvalidInput
from bot.messages import Message
from bot.router import Router, ThreadEvent
from storage.models import Role

router = Router()
STATS_LIMIT = 30
"""Rows of ``stories stats`` in chat (the most recently posted first); the totals cover every post."""


@router.reply("story")
async def story_reply(ctx: Context, thread: ThreadEvent) -> None:
    """A reply in the thread of a posted story counts as engagement (silently: it is their conversation)."""
    post = await ctx.repo.stories.post_by_key(thread.delivery_key)
    if post is not None:
        await ctx.repo.stories.engage(post, ctx.member.id, "reply", ctx.event.event_id, ctx.now())


@router.reaction("story")
async def story_reaction(ctx: Context, thread: ThreadEvent) -> None:
    """A reaction to a posted story counts once per person and emoji; taking it back removes it."""
    post = await ctx.repo.stories.post_by_key(thread.delivery_key)
    if post is None:
        return
    if thread.added:
        await ctx.repo.stories.engage(post, ctx.member.id, "reaction", thread.emoji, ctx.now())
    else:
        await ctx.repo.stories.disengage(post, ctx.member.id, "reaction", thread.emoji)


@router.command("stories stats", role=Role.cx_manager, help_key="help.commands.stories_stats")
async def stats(ctx: Context, command: ParsedCommand) -> None:
    """Reach, replies and reactions per story and channel (``--weeks N`` limits to recent posts); the newest
    ``STATS_LIMIT`` rows, with a note when there are more, and totals over all of them."""
    weeks = command.options.get("weeks")
    since = None
    if weeks is not None:
        if not weeks.isdigit() or not 1 <= int(weeks) <= 520:
            raise InvalidInput("stories.stats.bad_weeks", given=weeks)
        since = ctx.now() - timedelta(weeks=int(weeks))
    rows = await ctx.repo.stories.stats(since=since, limit=STATS_LIMIT + 1)
    if not rows:
        await ctx.reply(ctx.message("stories.stats.none"), ephemeral=True)
        return
    lines = [
        ctx.t(
            "stories.stats.line",
            title=row.title,
            channel=row.channel_name,
            posts=row.posts,
            reach=row.reach,
            replies=row.replies,
            repliers=row.repliers,
            reactions=row.reactions,
        )
        for row in rows[:STATS_LIMIT]
    ]
    if len(rows) > STATS_LIMIT:  # say so rather than cut silently
        lines.append(ctx.t("stories.stats.more", limit=STATS_LIMIT))
    totals = await ctx.repo.stories.totals(since=since)
    summary = ctx.t("stories.stats.summary", posts=totals.posts, reach=totals.reach, replies=totals.replies)
    await ctx.reply(
        Message.text(
            ctx.t("stories.stats.intro") + "\n" + "\n".join(lines) + "\n\n" + summary,
            key="stories.stats.intro",
        ),
        ephemeral=True,
    )
