"""Applying, pausing, resuming and archiving campaigns, and keeping their schedules in the database in step.

A campaign's recurring steps become one ``campaign.send`` schedule per step and time zone (ref
``campaign:<id>:<step>:<zone>``), armed at the next send after moving for holidays and quiet hours; when
it fires it re-arms itself at the send after that. New joiners' journeys share one ``campaign.journey``
schedule (ref ``campaign:<id>:journey``) armed at the earliest planned journey step. Because schedules
live in the database, every instance's scheduler picks a change up at its next resync; the hourly
``campaign.sync`` re-arms anything that fell behind (a new time zone in the audience, a send missed while
the bot was down longer than the grace period).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.context import JobContext
from bot.errors import Conflict, InvalidInput
from handlers.campaigns import audience, journeys
from handlers.campaigns.calendar import campaign_window, next_send
from handlers.campaigns.problems import SpecInvalid
from handlers.campaigns.spec import CampaignSpec
from storage.models import Member, Schedule
from storage.models.campaigns import Campaign

SEND = "campaign.send"
JOURNEY = journeys.JOURNEY
SYNC = "campaign.sync"
SYNC_RULE = "FREQ=HOURLY;BYMINUTE=17;BYSECOND=0"
Action = Literal["created", "updated", "unchanged"]


def spec_of(campaign: Campaign) -> CampaignSpec:
    return CampaignSpec.model_validate(campaign.spec)


def track_ref(campaign: Campaign, step_key: str, timezone: str) -> str:
    return f"campaign:{campaign.id}:{step_key}:{timezone}"


@dataclass(frozen=True)
class Change:
    """One difference between the campaign as it is and as it would be (``before`` is "" when new)."""

    field: str
    before: str
    after: str


@dataclass(frozen=True)
class ApplyResult:
    action: Action
    campaign: Campaign | None
    """None on a dry run of a new campaign."""
    changes: list[Change] = field(default_factory=list)
    dry_run: bool = False


# --- Applying --------------------------------------------------------------------------------------------------
async def apply_campaign(
    ctx: JobContext, spec: CampaignSpec, actor: Member | None = None, *, dry_run: bool = False
) -> ApplyResult:
    """Create the campaign ``spec.key`` or bring it in line with ``spec``, and (re)plan its sends.

    Applying an identical definition changes nothing. A draft becomes active. Raises `SpecInvalid` (every
    problem, with its path) when something it names does not exist, and `Conflict` for an archived key.
    ``dry_run``: only report what would change.
    """
    problems = await audience.check_references(ctx, spec)
    if problems:
        raise SpecInvalid(problems)
    existing = await ctx.repo.campaigns.by_key(spec.key)
    if existing is not None and existing.status == "archived":
        raise Conflict("campaign.error.archived", slug=spec.key)
    owner = await _owner(ctx, spec, actor, existing)
    before = existing.spec if existing is not None and existing.status != "draft" else {}
    changes = diff(before, spec.canonical())
    owner_id = owner.id if owner else None
    if existing is not None and existing.owner_member_id != owner_id:
        changes.append(Change("owner", str(existing.owner_member_id or ""), str(owner_id or "")))
    if existing is not None and existing.status != "draft" and not changes:
        return ApplyResult("unchanged", existing, [], dry_run)
    action: Action = "updated" if existing is not None and existing.status != "draft" else "created"
    if dry_run:
        return ApplyResult(action, existing, changes, True)
    status = "paused" if existing is not None and existing.status == "paused" else "active"
    campaign = await _store(ctx, spec, existing, owner_id, actor, status=status)
    await ctx.audit(actor, f"campaign.{action}", f"campaign:{campaign.id}", key=campaign.key)
    await sync_campaign(ctx, campaign)
    await journeys.replan(ctx, campaign, spec)
    await ensure_sync(ctx)
    return ApplyResult(action, campaign, changes)


async def save_draft(ctx: JobContext, spec: CampaignSpec, actor: Member | None) -> Campaign:
    """Keep a campaign being built in chat (no schedules until it is activated)."""
    existing = await ctx.repo.campaigns.by_key(spec.key)
    if existing is not None and existing.status != "draft":
        raise InvalidInput("campaign.error.key_taken", field="key", given=spec.key)
    owner = await _owner(ctx, spec, actor, existing)
    return await _store(ctx, spec, existing, owner.id if owner else None, actor, status="draft")


async def _owner(
    ctx: JobContext, spec: CampaignSpec, actor: Member | None, existing: Campaign | None
) -> Member | None:
    """The owner the spec names; else the campaign keeps its owner (editing never takes it over); a new
    campaign belongs to whoever creates it."""
    if spec.owner:
        return await ctx.repo.members.find(spec.owner)
    if existing is not None and existing.owner_member_id:
        return await ctx.repo.members.get(existing.owner_member_id)
    return actor


async def _store(
    ctx: JobContext,
    spec: CampaignSpec,
    existing: Campaign | None,
    owner_id: int | None,
    actor: Member | None,
    *,
    status: str,
) -> Campaign:
    now = ctx.now()
    starts_at, ends_at = campaign_window(spec)
    values: dict[str, Any] = dict(
        name=spec.name,
        goal=spec.goal,
        owner_member_id=owner_id,
        timezone=spec.timezone,
        starts_at=starts_at,
        ends_at=ends_at,
        spec=spec.canonical(),
        spec_hash=spec.fingerprint(),
        updated_at=now,
        status=status,
    )
    if existing is None:
        return await ctx.repo.campaigns.add(
            Campaign(
                key=spec.key, version=1, created_by=actor.id if actor else None, created_at=now, **values
            )
        )
    for name, value in values.items():
        setattr(existing, name, value)
    existing.version += 1
    return existing


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Field by field; steps by key (added, removed, changed)."""
    changes: list[Change] = []
    for name in after:
        if not before or name == "steps" or before.get(name) == after[name]:
            continue
        changes.append(Change(name, _short(before.get(name)), _short(after[name])))
    old_steps = {step["key"]: step for step in before.get("steps", [])}
    new_steps = {step["key"]: step for step in after.get("steps", [])}
    for key, step in new_steps.items():
        if key not in old_steps:
            changes.append(Change(f"steps.{key}", "", _short(step)))
        elif old_steps[key] != step:
            changes.append(Change(f"steps.{key}", _short(old_steps[key]), _short(step)))
    for key, step in old_steps.items():
        if key not in new_steps:
            changes.append(Change(f"steps.{key}", _short(step), ""))
    return changes


def _short(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        value = {key: item for key, item in value.items() if item not in (None, [], {})}
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 200 else text[:199] + "…"


# --- Schedules --------------------------------------------------------------------------------------------------
async def sync_campaign(ctx: JobContext, campaign: Campaign) -> None:
    """Make the campaign's schedules match its definition and status (idempotent; keeps what is current)."""
    existing = {
        schedule.ref: schedule for schedule in await ctx.repo.campaigns.schedules(campaign.id, [SEND])
    }
    wanted: dict[str, tuple[str, str]] = {}
    spec = spec_of(campaign)
    if campaign.status == "active":
        for step in spec.steps:
            if not step.cadence.relative:
                for zone in await audience.zones(ctx, spec, step):
                    wanted[track_ref(campaign, step.key, zone)] = (step.key, zone)
    for ref, schedule in existing.items():
        if ref not in wanted:
            disable(ctx, schedule)
    now = ctx.now()
    for ref, (step_key, zone) in wanted.items():
        found = existing.get(ref)
        current = (
            found is not None
            and found.enabled
            and found.next_fire_at is not None
            and found.payload.get("version") == campaign.version
        )
        planned = spec.step(step_key)
        if current or planned is None:
            continue
        upcoming = next_send(spec, planned, zone, now, inclusive=True)
        if upcoming is None:
            if found is not None:
                disable(ctx, found)
            continue
        await ctx.services.scheduler.put(
            ctx.session,
            kind=SEND,
            ref=ref,
            timezone=zone,
            starts_at=upcoming.at,
            payload={
                "campaign_id": campaign.id,
                "step": step_key,
                "timezone": zone,
                "occurrence": upcoming.occurrence,
                "version": campaign.version,
            },
        )
    if campaign.status == "active":
        await journeys.arm(ctx, campaign)
    else:
        for schedule in await ctx.repo.campaigns.schedules(campaign.id, [JOURNEY]):
            disable(ctx, schedule)


def disable(ctx: JobContext, schedule: Schedule) -> None:
    if schedule.enabled:
        schedule.enabled = False
        schedule.next_fire_at = None
        schedule.updated_at = ctx.now()
        ctx.services.scheduler_changed()


async def ensure_sync(ctx: JobContext) -> None:
    schedule = await ctx.repo.schedules.by_ref(SYNC, "campaigns")
    if schedule is None or not schedule.enabled:
        await ctx.services.scheduler.put(
            ctx.session, kind=SYNC, ref="campaigns", timezone="UTC", starts_at=ctx.now(), rrule=SYNC_RULE
        )


async def sync_all(ctx: JobContext) -> int:
    """The hourly resync: every active campaign's schedules brought in line, joiners who waited too long
    for an anonymous pulse let go, and a campaign past its end with nothing left to send marked ``ended``;
    returns how many campaigns are still active."""
    running = 0
    for campaign in await ctx.repo.campaigns.all(["active"]):
        await journeys.let_go_of_waiting(ctx, campaign)
        if ended(campaign, ctx.now()) and not await ctx.repo.campaigns.journey_steps(
            campaign.id, ["planned", "waiting"]
        ):
            await _set_status(ctx, campaign, "ended", None)
            continue
        await sync_campaign(ctx, campaign)
        running += 1
    return running


# --- Pause, resume, archive ------------------------------------------------------------------------------------
async def pause(ctx: JobContext, campaign: Campaign, actor: Member | None) -> None:
    """Stop every send; sends planned while paused are not made up later."""
    if campaign.status != "active":
        raise Conflict("campaign.error.not_active", slug=campaign.key, status=campaign.status)
    await _set_status(ctx, campaign, "paused", actor)


async def resume(ctx: JobContext, campaign: Campaign, actor: Member | None) -> None:
    """Carry on from now: recurring steps with their next send; journey steps that fell due go out now."""
    if campaign.status != "paused":
        raise Conflict("campaign.error.not_paused", slug=campaign.key, status=campaign.status)
    campaign.version += 1
    await _set_status(ctx, campaign, "active", actor)
    await ensure_sync(ctx)


async def archive(ctx: JobContext, campaign: Campaign, actor: Member | None) -> None:
    """Stop for good (the record and its numbers stay); a draft is simply discarded."""
    if campaign.status == "archived":
        raise Conflict("campaign.error.archived", slug=campaign.key)
    if campaign.status == "draft":
        await ctx.audit(actor, "campaign.discarded", f"campaign:{campaign.id}", key=campaign.key)
        await ctx.repo.campaigns.delete(campaign)
        return
    await journeys.cancel(ctx, campaign)
    await _set_status(ctx, campaign, "archived", actor)


async def _set_status(ctx: JobContext, campaign: Campaign, status: str, actor: Member | None) -> None:
    campaign.status = status
    campaign.updated_at = ctx.now()
    await ctx.audit(actor, f"campaign.{status}", f"campaign:{campaign.id}", key=campaign.key)
    await sync_campaign(ctx, campaign)


def ended(campaign: Campaign, now: datetime) -> bool:
    return campaign.ends_at is not None and campaign.ends_at < now - timedelta(seconds=1)
