"""The demo's campaigns: a Klantweek running this week (its first sends already out) and a quarterly eNPS
with a baseline planned from next month, so the tour and the dashboard have something to show."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.context import JobContext
from handlers.campaigns import steps, templates
from handlers.campaigns.audience import in_zone, recipients
from handlers.campaigns.calendar import planned_sends
from handlers.campaigns.service import apply_campaign, spec_of
from handlers.story_library import ensure_starter

CATCH_UP = ("message", "story")


async def seed_demo(ctx: JobContext) -> None:
    zone = ctx.settings.default_timezone
    today = ctx.now().astimezone(ZoneInfo(zone)).date()
    monday = today - timedelta(days=today.weekday()) if today.weekday() < 5 else None
    owner = await ctx.repo.members.by_name("Chloé Bakker")
    holidays = ctx.settings.public_holidays
    week = await apply_campaign(ctx, templates.load("klantweek", ctx.now(), zone, monday, holidays), owner)
    await apply_campaign(ctx, templates.load("enps", ctx.now(), zone, None, holidays), owner)
    campaign = week.campaign
    if campaign is None or monday is None:
        return
    await ensure_starter(ctx)  # the demo is seeded before the start hooks load the starter stories
    # What this week's Klantweek already sent before the demo began: the kick-off and the first story.
    spec = spec_of(campaign)
    for step in spec.steps:
        if step.kind not in CATCH_UP:
            continue
        found = await recipients(ctx, spec, step)
        for send in planned_sends(
            spec, step, zone, campaign.starts_at - timedelta(seconds=1), 10, inclusive=True
        ):
            if send.at > ctx.now():
                break
            firing = steps.Firing(campaign, spec, step, send.occurrence, send.at)
            await steps.run(ctx, firing, in_zone(ctx, found, zone))
