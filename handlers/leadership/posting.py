"""Posting a leader snippet, now or at a set time (schedule kind ``snippet.post``).

These are the service functions other features (campaigns) may call: `post_snippet` posts an approved
snippet to every configured company channel, `schedule_snippet` plans it. Both are idempotent per
snippet and channel (delivery key ``snippet:<id>:<channel id>``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot.context import JobContext
from bot.errors import Conflict
from bot.messages import Block, Message
from bot.messages import Context as Footer
from bot.router import Router
from handlers.leadership import relay
from handlers.leadership.cards import post_message
from handlers.leadership.common import channel_list, local_time
from handlers.leadership.snippet_story import story_title
from storage.models import Channel, Member, Schedule
from storage.models.leadership import LeaderSnippet, SnippetStatus

router = Router()
log = logging.getLogger(__name__)


def schedule_ref(snippet: LeaderSnippet) -> str:
    return f"snippet:{snippet.id}"


async def company_channels(ctx: JobContext) -> Sequence[Channel]:
    """The channels snippets go to (setting ``KLANTPET_SNIPPET_CHANNELS``); `Conflict` when none exists."""
    channels = await ctx.repo.leadership.channels_named(ctx.settings.snippet_channels)
    if not channels:
        raise Conflict("leadership.snippet.no_channel", channels=channel_list(ctx.settings.snippet_channels))
    return channels


async def rendered_post(ctx: JobContext, snippet: LeaderSnippet, author: Member, channel: Channel) -> Message:
    """The snippet exactly as it will appear in ``channel``."""
    locale = ctx.locale_of(channel=channel)
    return post_message(
        ctx,
        snippet,
        author,
        locale,
        story_title=await story_title(ctx, snippet.story_id, locale),
        relay_note=await relay.relay_note(ctx, author, locale),
    )


async def post_as_seen(
    ctx: JobContext, snippet: LeaderSnippet, author: Member, locale: str
) -> tuple[Block, ...]:
    """The post as every company channel will show it (for a preview or a review, told in ``locale``): once
    when the channels share a language, else once per language, each under a line naming its channels."""
    by_language: dict[str, list[Channel]] = {}
    for channel in await company_channels(ctx):
        by_language.setdefault(ctx.locale_of(channel=channel), []).append(channel)
    if len(by_language) == 1:
        [channels] = by_language.values()
        return (await rendered_post(ctx, snippet, author, channels[0])).blocks
    blocks: list[Block] = []
    for language, channels in by_language.items():
        names = channel_list(sorted({channel.name for channel in channels}))
        language_name = ctx.t(locale, f"leadership.languages.{language}")
        blocks.append(
            Footer(text=ctx.t(locale, "leadership.preview.language", channels=names, language=language_name))
        )
        blocks.extend((await rendered_post(ctx, snippet, author, channels[0])).blocks)
    return tuple(blocks)


async def post_snippet(ctx: JobContext, snippet: LeaderSnippet) -> Sequence[Channel]:
    """Post ``snippet`` in every company channel and mark it posted; returns the channels."""
    author = await ctx.repo.members.get(snippet.author_member_id)
    if author is None:
        raise Conflict("leadership.snippet.not_yours")
    channels = await company_channels(ctx)
    for channel in channels:
        await ctx.post(
            channel,
            await rendered_post(ctx, snippet, author, channel),
            key=f"snippet:{snippet.id}:{channel.id}",
            topic="snippet",
        )
    now = ctx.now()
    snippet.status = SnippetStatus.posted.value
    snippet.posted_at = now
    snippet.updated_at = now
    await relay.snippet_shared(ctx, snippet, author)
    await ctx.audit(author, "snippet.post", f"snippet:{snippet.id}", channels=[c.id for c in channels])
    return channels


async def schedule_snippet(ctx: JobContext, snippet: LeaderSnippet, when: datetime, timezone: str) -> None:
    """Post ``snippet`` at ``when`` (its status becomes scheduled)."""
    await company_channels(ctx)  # refuse now rather than fail silently at posting time
    snippet.status = SnippetStatus.scheduled.value
    snippet.post_at = when
    snippet.updated_at = ctx.now()
    await ctx.services.scheduler.put(
        ctx.session,
        kind="snippet.post",
        ref=schedule_ref(snippet),
        timezone=timezone,
        starts_at=when,
        payload={"snippet": snippet.id},
    )


async def post_or_schedule(ctx: JobContext, snippet: LeaderSnippet, author: Member) -> str:
    """Post now, or at the chosen time when that is still ahead; returns a line saying which."""
    locale = ctx.locale_of(author)
    names = channel_list(ctx.settings.snippet_channels)
    if snippet.post_at is not None and snippet.post_at > ctx.now():
        zone = ctx.timezone_of(author)
        await schedule_snippet(ctx, snippet, snippet.post_at, zone)
        when = local_time(ctx, locale, snippet.post_at, zone)
        return ctx.t(locale, "leadership.snippet.scheduled", channels=names, when=when)
    await post_snippet(ctx, snippet)
    return ctx.t(locale, "leadership.snippet.posted", channels=names)


@router.schedule("snippet.post")
async def post_scheduled(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    snippet = await ctx.repo.leadership.snippet(int(schedule.ref.rsplit(":", 1)[1]))
    if snippet is None or snippet.status != SnippetStatus.scheduled.value:
        return  # edited or cancelled since
    try:
        await post_snippet(ctx, snippet)
    except Conflict as problem:
        author = await ctx.repo.members.get(snippet.author_member_id)
        log.warning("scheduled snippet not posted", extra={"snippet_id": snippet.id, "reason": problem.key})
        snippet.status = SnippetStatus.draft.value
        snippet.updated_at = ctx.now()
        if author is not None:
            locale = ctx.locale_of(author)
            reason = ctx.t(locale, problem.key, **problem.params)
            await ctx.dm(
                author,
                Message.text(
                    ctx.t(locale, "leadership.snippet.post_failed", reason=reason),
                    key="leadership.snippet.post_failed",
                ),
                key=f"snippet-failed:{snippet.id}:{fire_time:%Y%m%dT%H%M}",
            )
