"""What CX managers do with campaigns from a form — the chat's guided forms and the dashboard alike: list
them with their next send, save an edited definition, and change their state.

- Saving a **new** campaign keeps it as a draft (no schedules) or, asked to, starts it at once; its key must
  be free (a draft someone else is building is never overwritten).
- Saving a **draft** keeps it a draft unless asked to start it.
- Saving a **running or paused** campaign applies the change at once (`service.apply_campaign`: its sends
  are planned again from now; a paused campaign stays paused).
- The key is fixed once chosen, and the owner stays unless the definition names another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.context import JobContext
from bot.errors import Conflict, InvalidInput
from handlers.campaigns import service
from handlers.campaigns.audience import check_references
from handlers.campaigns.problems import SpecInvalid
from handlers.campaigns.spec import CampaignSpec
from storage.models import Member
from storage.models.campaigns import Campaign

StateChange = Literal["activate", "pause", "resume", "archive"]
STATE_CHANGES: tuple[StateChange, ...] = ("activate", "pause", "resume", "archive")
LISTED = ("draft", "active", "paused", "ended", "archived")


@dataclass(frozen=True)
class CampaignRow:
    """A campaign in a list: its state, owner, size and progress."""

    campaign: Campaign
    owner: str
    """The owner's name ("" when none)."""
    steps: int
    next_at: datetime | None
    """The earliest planned send (None when nothing is planned)."""
    sends: int
    reached: int


async def overview(ctx: JobContext, statuses: tuple[str, ...] = LISTED) -> list[CampaignRow]:
    """The campaigns in ``statuses`` (newest start first), with their next send and what they sent."""
    rows = []
    for campaign in await ctx.repo.campaigns.all(list(statuses)):
        upcoming = [
            schedule.next_fire_at
            for schedule in await ctx.repo.campaigns.schedules(campaign.id)
            if schedule.enabled and schedule.next_fire_at is not None
        ]
        owner = await ctx.repo.members.get(campaign.owner_member_id) if campaign.owner_member_id else None
        totals = await ctx.repo.campaigns.totals(campaign.id)
        rows.append(
            CampaignRow(
                campaign,
                owner.name if owner is not None else "",
                len(campaign.spec.get("steps", [])),
                min(upcoming) if upcoming and campaign.status == "active" else None,
                totals.sends,
                totals.reach,
            )
        )
    return rows


async def save(
    ctx: JobContext,
    spec: CampaignSpec,
    actor: Member | None,
    existing: Campaign | None,
    *,
    start: bool = False,
) -> Campaign:
    """Create or change a campaign from a form (see the module's rules); raises `SpecInvalid` with every
    problem, `InvalidInput` (``field="key"``) for a key in use or changed, `Conflict` for an archived one."""
    if existing is None:
        if await ctx.repo.campaigns.by_key(spec.key) is not None:
            raise InvalidInput("campaign.error.key_taken", field="key", given=spec.key)
    elif existing.key != spec.key:
        raise InvalidInput("campaign.error.key_fixed", field="key")
    if existing is not None and existing.status == "archived":
        raise Conflict("campaign.error.archived", slug=existing.key)
    if (existing is None or existing.status == "draft") and not start:
        problems = [
            problem
            for problem in await check_references(ctx, spec)
            if problem.key != "campaign.error.no_steps"
        ]
        if problems:
            raise SpecInvalid(problems)
        campaign = await service.save_draft(ctx, spec, actor)
        await ctx.audit(actor, "campaign.draft", f"campaign:{campaign.id}", key=campaign.key)
        return campaign
    result = await service.apply_campaign(ctx, spec, actor)
    assert result.campaign is not None
    return result.campaign


async def change_state(ctx: JobContext, campaign: Campaign, change: StateChange, actor: Member | None) -> str:
    """Start a draft, pause, resume or archive ``campaign``; returns the outcome's prompt key
    (``campaign.activated``, ``campaign.paused`` … or ``campaign.discarded`` for a draft archived).
    Raises `Conflict` when its state does not allow the change."""
    if change == "activate":
        if campaign.status != "draft":
            raise Conflict("campaign.error.not_draft", slug=campaign.key, status=campaign.status)
        await service.apply_campaign(ctx, service.spec_of(campaign), actor)
        return "campaign.activated"
    if change == "archive":
        discarded = campaign.status == "draft"
        await service.archive(ctx, campaign, actor)
        return "campaign.discarded" if discarded else "campaign.archived"
    await (service.pause if change == "pause" else service.resume)(ctx, campaign, actor)
    return f"campaign.{change}d"
