"""Per campaign: what it sent, whom it reached, how people engaged, and its pulses against its baseline.

Pulse figures come from `handlers.pulses.round_results`, so the anonymity rules hold here too: a round's
eNPS appears only after it closed and only when enough people answered.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from bot.context import JobContext
from handlers.pulses import round_results
from storage.models import Member
from storage.models.campaigns import Campaign
from storage.repositories.campaigns import StepTotals


@dataclass(frozen=True)
class RoundFigures:
    round_id: int
    name: str
    status: str
    opens_at: datetime
    baseline: bool
    invited: int
    responded: int | None
    """Known after closing."""
    response_rate: int | None
    enps: int | None
    enps_change: int | None
    """Against the campaign's own baseline round (or the latest earlier baseline); positive is better."""
    baseline_name: str | None


@dataclass(frozen=True)
class CampaignStats:
    key: str
    name: str
    status: str
    sends: int
    """Things the campaign did (a DM, a post, a round, a ritual switched on), failures included."""
    failed: int
    delivered: int
    """Messages the platforms accepted."""
    reached: int
    """People reached: each DM once, each post's channel members, each round's invited."""
    people: int
    """Distinct people reached by direct message."""
    story_replies: int
    story_reactions: int
    story_people: int
    snippets_posted: int
    """Snippets nudged leaders posted after their nudge."""
    pulse_invited: int
    pulse_responded: int
    joiners: int
    journey: dict[str, int]
    steps: list[StepTotals] = field(default_factory=list)
    rounds: list[RoundFigures] = field(default_factory=list)

    @property
    def engagement(self) -> int | None:
        """People who did something (replied, reacted, answered a pulse, posted a snippet) per 100 reached."""
        engaged = self.story_people + self.pulse_responded + self.snippets_posted
        return round(100 * engaged / self.reached) if self.reached else None

    @property
    def response_rate(self) -> int | None:
        return round(100 * self.pulse_responded / self.pulse_invited) if self.pulse_invited else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(engagement=self.engagement, response_rate=self.response_rate)
        return data


async def campaign_stats(ctx: JobContext, campaign: Campaign, actor: Member | None = None) -> CampaignStats:
    """The campaign's figures; reading them is audited (``campaign.stats.read``)."""
    repo = ctx.repo.campaigns
    totals = await repo.totals(campaign.id)
    replies, reactions, story_people = await repo.story_engagement(campaign.id)
    rounds = await _rounds(ctx, campaign)
    closed = [figures for figures in rounds if figures.responded is not None]
    await ctx.audit(actor, "campaign.stats.read", f"campaign:{campaign.id}")
    return CampaignStats(
        key=campaign.key,
        name=campaign.name,
        status=campaign.status,
        sends=totals.sends,
        failed=totals.failed,
        delivered=await repo.delivered(campaign.id),
        reached=totals.reach,
        people=totals.members,
        story_replies=replies,
        story_reactions=reactions,
        story_people=story_people,
        snippets_posted=await repo.snippets_posted_since(
            await repo.nudged_leaders(campaign.id), campaign.ends_at
        ),
        pulse_invited=sum(figures.invited for figures in closed),
        pulse_responded=sum(figures.responded or 0 for figures in closed),
        joiners=await repo.joiners(campaign.id),
        journey=await repo.journey_counts(campaign.id),
        steps=await repo.step_totals(campaign.id),
        rounds=rounds,
    )


async def _rounds(ctx: JobContext, campaign: Campaign) -> list[RoundFigures]:
    figures: list[RoundFigures] = []
    baseline: RoundFigures | None = None
    for round_id in await ctx.repo.campaigns.pulse_round_ids(campaign.id):
        pulse_round = await ctx.repo.pulses.get(round_id)
        if pulse_round is None:
            continue
        if pulse_round.status != "closed":
            figures.append(
                RoundFigures(
                    pulse_round.id,
                    pulse_round.name,
                    pulse_round.status,
                    pulse_round.opens_at,
                    pulse_round.baseline,
                    pulse_round.invited_count,
                    None,
                    None,
                    None,
                    None,
                    None,
                )
            )
            continue
        results = await round_results(ctx, pulse_round)
        change: int | None = None
        baseline_name: str | None = None
        if baseline is not None and not results.baseline:
            baseline_name = baseline.name
            if results.enps is not None and baseline.enps is not None:
                change = results.enps - baseline.enps
        elif results.comparison is not None:
            baseline_name = results.comparison.baseline_name
            change = results.comparison.enps_change
        current = RoundFigures(
            results.round_id,
            results.name,
            results.status,
            results.opens_at,
            results.baseline,
            results.invited,
            results.responded,
            results.response_rate,
            results.enps,
            change,
            baseline_name,
        )
        if results.baseline and baseline is None:
            baseline = current
        figures.append(current)
    return figures
