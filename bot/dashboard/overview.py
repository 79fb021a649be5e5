"""The overview's "this week": stories posted, rituals held, pulse response, open feedback and its age.

Each figure comes from its feature's own aggregate functions, so the overview and the feature pages agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.context import JobContext
from handlers.feedback_settings import local_date
from handlers.pulses import enps_trend
from handlers.ritual_register import ritual_stats

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Figure:
    """One card: a prompt key for the title, the value, an optional note (already rendered), a link."""

    title_key: str
    value: str
    note: str = ""
    href: str = ""


async def this_week(ctx: JobContext, locale: str) -> list[Figure]:
    now = ctx.now()
    since = now - WEEK
    t = ctx.t
    posts = await ctx.repo.stories.stats(since=since, limit=1000)
    posted = sum(row.posts for row in posts)
    replies = sum(row.replies for row in posts)
    rituals = await ritual_stats(ctx, since, now)
    figures = [
        Figure(
            "dashboard.overview.stories",
            str(posted),
            t(locale, "dashboard.overview.stories_note", replies=replies),
            "/admin/stories",
        ),
        Figure(
            "dashboard.overview.rituals",
            str(rituals.measures.held),
            t(
                locale,
                "dashboard.overview.rituals_note",
                scheduled=rituals.scheduled,
                conflicts=rituals.measures.conflicts_reported,
                open=rituals.measures.open_now,
            ),
            "/admin/meetings",
        ),
        await _pulse_figure(ctx, locale),
        await _feedback_figure(ctx, locale),
    ]
    return figures


async def _pulse_figure(ctx: JobContext, locale: str) -> Figure:
    """The open round's response so far (a head count, never values); else the last closed round's rate."""
    open_rounds = await ctx.repo.pulses.rounds(statuses=["open"], limit=1)
    if open_rounds:
        current = open_rounds[0]
        responded = await ctx.repo.pulses.responded_count(current.id)
        rate = round(100 * responded / current.invited_count) if current.invited_count else 0
        note = ctx.t(
            locale,
            "dashboard.overview.pulse_open_note",
            name=current.name,
            responded=responded,
            invited=current.invited_count,
        )
        return Figure("dashboard.overview.pulse", f"{rate}%", note, "/admin/pulses")
    trend = await enps_trend(ctx, limit=1)
    if not trend:
        return Figure("dashboard.overview.pulse", "—", ctx.t(locale, "dashboard.overview.pulse_none"))
    last = trend[-1]
    note = ctx.t(locale, "dashboard.overview.pulse_closed_note", name=last.name)
    shown = "—" if last.response_rate is None else f"{last.response_rate}%"
    return Figure("dashboard.overview.pulse", shown, note, "/admin/pulses")


async def _feedback_figure(ctx: JobContext, locale: str) -> Figure:
    items = await ctx.repo.feedback.inbox(limit=10_000)
    today = local_date(ctx, ctx.now())
    ages = [(today - local_date(ctx, item.created_at)).days for item in items]
    waiting = len(await ctx.repo.feedback.waiting())
    note = ctx.t(
        locale,
        "dashboard.overview.feedback_note",
        oldest=max(ages) if ages else None,
        median=sorted(ages)[len(ages) // 2] if ages else None,
        waiting=waiting,
    )
    return Figure("dashboard.overview.feedback", str(len(items)), note, "/admin/feedback")
