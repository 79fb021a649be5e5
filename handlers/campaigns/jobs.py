"""The schedule kinds campaigns register, and enrolling new joiners when they join.

- ``campaign.send`` (ref ``campaign:<id>:<step>:<zone>``): one send of a recurring step for the people
  in one time zone; it then re-arms itself at that step's next send.
- ``campaign.journey`` (ref ``campaign:<id>:journey``): every new joiner's journey step that is due.
- ``campaign.restore`` (ref ``campaign:<id>:<step>:<planned time>``): the ritual goes off again where a
  campaign switched it on for a while.
- ``campaign.sync`` (ref ``campaigns``, hourly while a campaign is active): every active campaign's
  schedules brought in line, campaigns past their end marked ``ended``; it switches itself off when no
  campaign is active any more (applying or resuming one switches it on again).
"""

from __future__ import annotations

from datetime import datetime

from bot.context import Context, JobContext
from bot.events import MemberJoined
from handlers.campaigns import journeys, service, steps
from handlers.campaigns.audience import in_zone, recipients
from handlers.campaigns.calendar import next_send
from handlers.campaigns.routes import router
from storage.models import Schedule
from storage.models.campaigns import Campaign


def _rearm(schedule: Schedule, at: datetime, **payload: object) -> None:
    """A one-off schedule whose start moves on fires again then (the scheduler computes the next fire
    time from ``starts_at`` after the handler returns)."""
    schedule.starts_at = at
    if payload:
        schedule.payload = {**schedule.payload, **payload}


async def _active(ctx: JobContext, schedule: Schedule) -> Campaign | None:
    campaign = await ctx.repo.campaigns.get(int(schedule.payload.get("campaign_id", 0)))
    return campaign if campaign is not None and campaign.status == "active" else None


@router.schedule(service.SEND)
async def fire_send(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    campaign = await _active(ctx, schedule)
    if campaign is None or schedule.payload.get("version") != campaign.version:
        return  # paused, archived or changed since: its schedules were recomputed
    spec = service.spec_of(campaign)
    step = spec.step(str(schedule.payload.get("step")))
    if step is None:
        return
    zone = str(schedule.payload["timezone"])
    firing = steps.Firing(campaign, spec, step, str(schedule.payload["occurrence"]), fire_time, schedule.id)
    await steps.run(ctx, firing, in_zone(ctx, await recipients(ctx, spec, step), zone))
    following = next_send(spec, step, zone, max(fire_time, ctx.now()))
    if following is not None:
        _rearm(schedule, following.at, occurrence=following.occurrence)


@router.schedule(journeys.JOURNEY)
async def fire_journey(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    campaign = await _active(ctx, schedule)
    if campaign is None:
        return
    await journeys.run_due(ctx, campaign, schedule, max(fire_time, ctx.now()))
    following = journeys.next_arm_time(await ctx.repo.campaigns.next_journey_due(campaign.id), ctx.now())
    if following is not None:
        _rearm(schedule, following)


@router.schedule(steps.RESTORE)
async def fire_restore(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    await steps.restore_ritual(ctx, [int(value) for value in schedule.payload.get("meetings", [])])


@router.schedule(service.SYNC)
async def fire_sync(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    if not await service.sync_all(ctx):
        schedule.enabled = False  # nothing active: apply_campaign and resume switch it on again
    # Keep the rule's start recent: counting the hours missed after a long pause then stays cheap.
    schedule.starts_at = fire_time


async def on_start(ctx: JobContext) -> None:
    """Every start: the resync runs while any campaign is active (it stops itself when none is)."""
    if await ctx.repo.campaigns.all(["active"]):
        await service.ensure_sync(ctx)


@router.joined()
async def enroll_new_joiner(ctx: Context, event: MemberJoined) -> None:
    """A member who joins while an onboarding campaign runs starts their own journey."""
    for campaign in await ctx.repo.campaigns.all(["active"]):
        if journeys.journey_steps(service.spec_of(campaign)) and journeys.takes_joiner(campaign, ctx.member):
            await journeys.enroll(ctx, campaign, ctx.member)
