"""New joiners' journeys: each joiner's own sends, relative to the moment they joined.

A member who joins the platform (a ``MemberJoined`` event) while a campaign for ``new_joiners`` runs is
enrolled: every journey step is planned for them (``CampaignJourneyStep``), e.g. a story on day one, after
a week and after four weeks, each moved to a working moment. Only people whose ``joined_at`` falls within
the campaign count as new: a long-time colleague opening the chat for the first time is not enrolled.

A pulse for one person can never be anonymous, so a journey's pulse step puts the joiner on a waiting
list; as soon as at least *k* joiners (the anonymity threshold) are waiting, they are asked together in
one round for exactly those people. Nobody waits for ever: a "first month" pulse asked months later says
little, so joiners still waiting `WAIT_LIMIT` after their step was due are let go (``expired``) and the
campaign's owner is told once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.context import JobContext
from bot.messages import Message
from handlers.campaigns import steps
from handlers.campaigns.audience import Recipients
from handlers.campaigns.calendar import journey_send
from handlers.campaigns.spec import CampaignSpec
from handlers.pulses import anonymity
from storage.models import Member, Schedule
from storage.models.campaigns import Campaign, CampaignJourneyStep

log = logging.getLogger(__name__)
JOURNEY = "campaign.journey"
WAIT_LIMIT = timedelta(weeks=8)
"""How long a joiner waits for enough others to be asked a journey pulse anonymously."""


def journey_ref(campaign: Campaign) -> str:
    return f"campaign:{campaign.id}:journey"


def _spec(campaign: Campaign) -> CampaignSpec:
    return CampaignSpec.model_validate(campaign.spec)


def journey_steps(spec: CampaignSpec) -> list[str]:
    return [step.key for step in spec.steps if step.cadence.relative]


def takes_joiner(campaign: Campaign, member: Member) -> bool:
    """Whether ``member`` counts as a new joiner for ``campaign`` (joined within it)."""
    if campaign.status != "active" or member.joined_at < campaign.starts_at:
        return False
    return campaign.ends_at is None or member.joined_at <= campaign.ends_at


async def enroll(ctx: JobContext, campaign: Campaign, member: Member) -> int:
    """Plan every journey step of ``campaign`` for ``member``; returns how many were new."""
    spec = _spec(campaign)
    planned = 0
    for step in spec.steps:
        if not step.cadence.relative:
            continue
        send = journey_send(spec, step, ctx.timezone_of(member), member.joined_at)
        planned += await ctx.repo.campaigns.plan_journey_step(
            campaign_id=campaign.id,
            member_id=member.id,
            step_key=step.key,
            occurrence=send.occurrence,
            due_at=send.at,
            status="planned",
            created_at=ctx.now(),
        )
    if planned:
        await arm(ctx, campaign)
    return planned


async def replan(ctx: JobContext, campaign: Campaign, spec: CampaignSpec) -> None:
    """After an edit: forget planned steps that were removed, plan added ones for joiners already enrolled."""
    keep = journey_steps(spec)
    await ctx.repo.campaigns.drop_planned_journeys(campaign.id, keep)
    members = {step.member_id for step in await ctx.repo.campaigns.journey_steps(campaign.id)}
    for member_id in sorted(members):
        member = await ctx.repo.members.get(member_id)
        if member is not None and member.active:
            await enroll(ctx, campaign, member)
    if campaign.status == "active":
        await arm(ctx, campaign)


async def cancel(ctx: JobContext, campaign: Campaign) -> None:
    for step in await ctx.repo.campaigns.journey_steps(campaign.id, ["planned", "waiting"]):
        step.status = "cancelled"


async def arm(ctx: JobContext, campaign: Campaign) -> None:
    """Point the campaign's journey schedule at its earliest planned step (or switch it off)."""
    due = await ctx.repo.campaigns.next_journey_due(campaign.id)
    schedule = await ctx.repo.schedules.by_ref(JOURNEY, journey_ref(campaign))
    if due is None:
        if schedule is not None and schedule.enabled:
            schedule.enabled = False
            schedule.next_fire_at = None
            schedule.updated_at = ctx.now()
        return
    at = max(due, ctx.now())
    if schedule is not None and schedule.enabled and schedule.next_fire_at == at:
        return
    await ctx.services.scheduler.put(
        ctx.session,
        kind=JOURNEY,
        ref=journey_ref(campaign),
        timezone=campaign.timezone,
        starts_at=at,
        payload={"campaign_id": campaign.id},
    )


async def run_due(ctx: JobContext, campaign: Campaign, schedule: Schedule | None, until: datetime) -> int:
    """Send every journey step due by ``until``; then ask waiting joiners once there are enough of them."""
    spec = _spec(campaign)
    sent = 0
    pulse_steps: set[str] = set()
    for row in await ctx.repo.campaigns.due_journey_steps(campaign.id, until):
        step = spec.step(row.step_key)
        member = await ctx.repo.members.get(row.member_id)
        if step is None or member is None or not member.active:
            row.status = "cancelled"
            continue
        if step.kind == "pulse":
            row.status = "waiting"
            pulse_steps.add(step.key)
            continue
        firing = steps.Firing(
            campaign, spec, step, row.occurrence, row.due_at, schedule.id if schedule else None
        )
        sent += await steps.run(ctx, firing, Recipients(members=[member]))
        row.status = "sent"
    await let_go_of_waiting(ctx, campaign)
    for step_key in sorted(pulse_steps | await _waiting_steps(ctx, campaign)):
        sent += await _ask_waiting(ctx, campaign, spec, step_key, schedule)
    return sent


async def _waiting_steps(ctx: JobContext, campaign: Campaign) -> set[str]:
    return {row.step_key for row in await ctx.repo.campaigns.journey_steps(campaign.id, ["waiting"])}


async def _ask_waiting(
    ctx: JobContext, campaign: Campaign, spec: CampaignSpec, step_key: str, schedule: Schedule | None
) -> int:
    waiting = list(await ctx.repo.campaigns.journey_steps(campaign.id, ["waiting"], step_key))
    step = spec.step(step_key)
    if step is None or len(waiting) < anonymity.threshold(ctx.settings.anonymity_threshold):
        return 0
    firing = steps.Firing(
        campaign, spec, step, f"cohort-{waiting[0].id}", ctx.now(), schedule.id if schedule else None
    )
    asked = await steps.ask_pulse(ctx, firing, [row.member_id for row in waiting])
    if asked:
        for row in waiting:
            row.status = "asked"
    return asked


async def let_go_of_waiting(ctx: JobContext, campaign: Campaign) -> int:
    """Joiners waiting longer than `WAIT_LIMIT` for a journey pulse are not asked any more; the owner hears
    it once per step. Returns how many were let go."""
    overdue: dict[str, list[CampaignJourneyStep]] = {}
    for row in await ctx.repo.campaigns.journey_steps(campaign.id, ["waiting"]):
        if row.due_at <= ctx.now() - WAIT_LIMIT:
            overdue.setdefault(row.step_key, []).append(row)
    owner = await ctx.repo.members.get(campaign.owner_member_id) if campaign.owner_member_id else None
    for step_key, rows in overdue.items():
        for row in rows:
            row.status = "expired"
        if owner is not None and owner.active:
            locale = ctx.locale_of(owner)
            text = ctx.t(
                locale,
                "campaign.journey_pulse_expired",
                count=len(rows),
                step=step_key,
                campaign=campaign.name,
                weeks=WAIT_LIMIT.days // 7,
                threshold=anonymity.threshold(ctx.settings.anonymity_threshold),
            )
            await ctx.dm(
                owner,
                Message.text(text, key="campaign.journey_pulse_expired"),
                key=f"campaign:{campaign.id}:{step_key}:expired:{rows[0].id}",
                topic="campaign",
            )
    return sum(len(rows) for rows in overdue.values())


def next_arm_time(due: datetime | None, now: datetime) -> datetime | None:
    """Where the journey schedule goes after firing (never in the past, or it would not fire)."""
    if due is None:
        return None
    return max(due, now + timedelta(seconds=1))
