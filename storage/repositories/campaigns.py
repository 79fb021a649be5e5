"""Campaigns, the sends they caused, new joiners' journeys, and the schedules that belong to a campaign."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, Schedule
from storage.models.campaigns import Campaign, CampaignJourneyStep, CampaignSend
from storage.models.leadership import LeaderSnippet
from storage.models.stories import StoryEngagement, StoryPost

SCHEDULE_KINDS = ("campaign.send", "campaign.journey", "campaign.restore")


@dataclass(frozen=True)
class SendTotals:
    sends: int
    failed: int
    reach: int
    members: int
    """Distinct members reached by direct message."""


@dataclass(frozen=True)
class StepTotals:
    step_key: str
    kind: str
    sends: int
    failed: int
    reach: int
    last_sent_at: datetime | None


class CampaignRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- Campaigns ------------------------------------------------------------------------------------------
    async def get(self, campaign_id: int) -> Campaign | None:
        return await self.session.get(Campaign, campaign_id)

    async def by_key(self, key: str) -> Campaign | None:
        statement = select(Campaign).where(Campaign.key == key.strip().lower())
        return (await self.session.scalars(statement)).first()

    async def add(self, campaign: Campaign) -> Campaign:
        self.session.add(campaign)
        await self.session.flush()
        return campaign

    async def delete(self, campaign: Campaign) -> None:
        await self.session.delete(campaign)
        await self.session.flush()

    async def all(self, statuses: Iterable[str] | None = None) -> Sequence[Campaign]:
        statement = select(Campaign).order_by(Campaign.starts_at.desc(), Campaign.id.desc())
        if statuses is not None:
            statement = statement.where(Campaign.status.in_(list(statuses)))
        return (await self.session.scalars(statement)).all()

    # --- Schedules ------------------------------------------------------------------------------------------
    async def schedules(self, campaign_id: int, kinds: Iterable[str] = SCHEDULE_KINDS) -> Sequence[Schedule]:
        """Every schedule a campaign made (refs start with ``campaign:<id>:``)."""
        statement = (
            select(Schedule)
            .where(Schedule.kind.in_(list(kinds)), Schedule.ref.startswith(f"campaign:{campaign_id}:"))
            .order_by(Schedule.next_fire_at, Schedule.id)
        )
        return (await self.session.scalars(statement)).all()

    # --- Sends ------------------------------------------------------------------------------------------------
    async def record_send(self, **values: Any) -> CampaignSend | None:
        """Record one send under its idempotency key; None when that key was recorded before."""
        if await self.send_by_key(values["idempotency_key"]) is not None:
            return None
        send = CampaignSend(**values)
        try:
            async with self.session.begin_nested():
                self.session.add(send)
                await self.session.flush()
        except IntegrityError:  # another instance recorded it a moment ago
            return None
        return send

    async def send_by_key(self, key: str) -> CampaignSend | None:
        statement = select(CampaignSend).where(CampaignSend.idempotency_key == key)
        return (await self.session.scalars(statement)).first()

    async def sends(self, campaign_id: int, step_key: str | None = None) -> Sequence[CampaignSend]:
        statement = select(CampaignSend).where(CampaignSend.campaign_id == campaign_id)
        if step_key is not None:
            statement = statement.where(CampaignSend.step_key == step_key)
        return (await self.session.scalars(statement.order_by(CampaignSend.sent_at, CampaignSend.id))).all()

    async def count_member_sends(self, campaign_id: int, kind: str, member_id: int) -> int:
        """How many ``kind`` sends (e.g. stories) this campaign made to this member."""
        statement = select(func.count(CampaignSend.id)).where(
            CampaignSend.campaign_id == campaign_id,
            CampaignSend.kind == kind,
            CampaignSend.member_id == member_id,
            CampaignSend.status == "sent",
        )
        return int(await self.session.scalar(statement) or 0)

    async def totals(self, campaign_id: int) -> SendTotals:
        base = CampaignSend.campaign_id == campaign_id
        sends, failed, reach = (
            await self.session.execute(
                select(
                    func.count(CampaignSend.id),
                    func.coalesce(func.sum(case((CampaignSend.status == "failed", 1), else_=0)), 0),
                    func.coalesce(func.sum(CampaignSend.reach), 0),
                ).where(base)
            )
        ).one()
        members = await self.session.scalar(
            select(func.count(func.distinct(CampaignSend.member_id))).where(
                base, CampaignSend.member_id.is_not(None), CampaignSend.status == "sent"
            )
        )
        return SendTotals(int(sends), int(failed), int(reach), int(members or 0))

    async def step_totals(self, campaign_id: int) -> list[StepTotals]:
        statement = (
            select(
                CampaignSend.step_key,
                CampaignSend.kind,
                func.count(CampaignSend.id),
                func.coalesce(func.sum(case((CampaignSend.status == "failed", 1), else_=0)), 0),
                func.coalesce(func.sum(CampaignSend.reach), 0),
                func.max(CampaignSend.sent_at),
            )
            .where(CampaignSend.campaign_id == campaign_id)
            .group_by(CampaignSend.step_key, CampaignSend.kind)
            .order_by(CampaignSend.step_key)
        )
        return [
            StepTotals(row[0], row[1], int(row[2]), int(row[3]), int(row[4]), row[5])
            for row in (await self.session.execute(statement)).all()
        ]

    async def delivered(self, campaign_id: int) -> int:
        """Messages the platforms accepted (the outbox's ``sent``) under this campaign's keys."""
        statement = select(func.count(Delivery.id)).where(
            Delivery.idempotency_key.startswith(f"campaign:{campaign_id}:"), Delivery.status == "sent"
        )
        return int(await self.session.scalar(statement) or 0)

    async def story_engagement(self, campaign_id: int) -> tuple[int, int, int]:
        """(replies, reactions, distinct people who replied or reacted) on the campaign's story posts."""
        statement = (
            select(
                func.coalesce(func.sum(case((StoryEngagement.kind == "reply", 1), else_=0)), 0),
                func.coalesce(func.sum(case((StoryEngagement.kind == "reaction", 1), else_=0)), 0),
                func.count(func.distinct(StoryEngagement.member_id)),
            )
            .select_from(StoryEngagement)
            .join(StoryPost, StoryPost.id == StoryEngagement.post_id)
            .where(StoryPost.delivery_key.startswith(f"campaign:{campaign_id}:"))
        )
        replies, reactions, people = (await self.session.execute(statement)).one()
        return int(replies), int(reactions), int(people)

    async def pulse_round_ids(self, campaign_id: int) -> list[int]:
        statement = (
            select(CampaignSend.pulse_round_id)
            .where(CampaignSend.campaign_id == campaign_id, CampaignSend.pulse_round_id.is_not(None))
            .order_by(CampaignSend.sent_at, CampaignSend.id)
        )
        return [int(value) for value in (await self.session.scalars(statement)).all() if value is not None]

    async def nudged_leaders(self, campaign_id: int) -> dict[int, datetime]:
        """Leaders nudged to write a snippet, with their first nudge."""
        statement = (
            select(CampaignSend.member_id, func.min(CampaignSend.sent_at))
            .where(
                CampaignSend.campaign_id == campaign_id,
                CampaignSend.kind == "snippet",
                CampaignSend.status == "sent",
                CampaignSend.member_id.is_not(None),
            )
            .group_by(CampaignSend.member_id)
        )
        return {
            int(row[0]): row[1] for row in (await self.session.execute(statement)).all() if row[0] is not None
        }

    # --- Journeys ---------------------------------------------------------------------------------------------
    async def plan_journey_step(self, **values: Any) -> bool:
        """Plan one journey step for one joiner; False when it was planned before."""
        existing = await self.session.scalar(
            select(CampaignJourneyStep.id).where(
                CampaignJourneyStep.campaign_id == values["campaign_id"],
                CampaignJourneyStep.member_id == values["member_id"],
                CampaignJourneyStep.step_key == values["step_key"],
            )
        )
        if existing is not None:
            return False
        self.session.add(CampaignJourneyStep(**values))
        await self.session.flush()
        return True

    async def due_journey_steps(self, campaign_id: int, until: datetime) -> Sequence[CampaignJourneyStep]:
        statement = (
            select(CampaignJourneyStep)
            .where(
                CampaignJourneyStep.campaign_id == campaign_id,
                CampaignJourneyStep.status == "planned",
                CampaignJourneyStep.due_at <= until,
            )
            .order_by(CampaignJourneyStep.due_at, CampaignJourneyStep.id)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(statement)).all()

    async def next_journey_due(self, campaign_id: int) -> datetime | None:
        statement = select(func.min(CampaignJourneyStep.due_at)).where(
            CampaignJourneyStep.campaign_id == campaign_id, CampaignJourneyStep.status == "planned"
        )
        return await self.session.scalar(statement)

    async def journey_steps(
        self, campaign_id: int, statuses: Iterable[str] | None = None, step_key: str | None = None
    ) -> Sequence[CampaignJourneyStep]:
        statement = select(CampaignJourneyStep).where(CampaignJourneyStep.campaign_id == campaign_id)
        if statuses is not None:
            statement = statement.where(CampaignJourneyStep.status.in_(list(statuses)))
        if step_key is not None:
            statement = statement.where(CampaignJourneyStep.step_key == step_key)
        return (
            await self.session.scalars(statement.order_by(CampaignJourneyStep.due_at, CampaignJourneyStep.id))
        ).all()

    async def journey_counts(self, campaign_id: int) -> dict[str, int]:
        statement = (
            select(CampaignJourneyStep.status, func.count(CampaignJourneyStep.id))
            .where(CampaignJourneyStep.campaign_id == campaign_id)
            .group_by(CampaignJourneyStep.status)
        )
        return {row[0]: int(row[1]) for row in (await self.session.execute(statement)).all()}

    async def joiners(self, campaign_id: int) -> int:
        statement = select(func.count(func.distinct(CampaignJourneyStep.member_id))).where(
            CampaignJourneyStep.campaign_id == campaign_id
        )
        return int(await self.session.scalar(statement) or 0)

    async def drop_planned_journeys(self, campaign_id: int, keep_steps: Iterable[str]) -> None:
        """Forget planned journey steps of steps that no longer exist."""
        for step in await self.journey_steps(campaign_id, ["planned", "waiting"]):
            if step.step_key not in set(keep_steps):
                await self.session.delete(step)
        await self.session.flush()

    async def snippets_posted_since(self, first_nudges: dict[int, datetime], until: datetime | None) -> int:
        """Snippets the nudged leaders posted after their first nudge (and before ``until``)."""
        if not first_nudges:
            return 0
        statement = select(LeaderSnippet.author_member_id, LeaderSnippet.posted_at).where(
            LeaderSnippet.author_member_id.in_(list(first_nudges)), LeaderSnippet.posted_at.is_not(None)
        )
        count = 0
        for author, posted_at in (await self.session.execute(statement)).all():
            if (
                posted_at is not None
                and posted_at >= first_nudges[author]
                and (until is None or posted_at <= until)
            ):
                count += 1
        return count

    # --- Privacy -----------------------------------------------------------------------------------
    async def export_for_member(self, member_id: int) -> dict[str, Any]:
        """Campaigns the member owns or created, what campaigns sent them, and their new-joiner journey."""
        campaigns = await self.session.scalars(
            select(Campaign)
            .where(or_(Campaign.owner_member_id == member_id, Campaign.created_by == member_id))
            .order_by(Campaign.id)
        )
        sends = await self.session.execute(
            select(CampaignSend, Campaign.name)
            .join(Campaign, Campaign.id == CampaignSend.campaign_id)
            .where(CampaignSend.member_id == member_id)
            .order_by(CampaignSend.sent_at, CampaignSend.id)
        )
        journey = await self.session.execute(
            select(CampaignJourneyStep, Campaign.name)
            .join(Campaign, Campaign.id == CampaignJourneyStep.campaign_id)
            .where(CampaignJourneyStep.member_id == member_id)
            .order_by(CampaignJourneyStep.due_at, CampaignJourneyStep.id)
        )
        return {
            "campaigns": [
                {
                    "id": campaign.id,
                    "name": campaign.name,
                    "status": campaign.status,
                    "you_own_it": campaign.owner_member_id == member_id,
                    "you_created_it": campaign.created_by == member_id,
                    "created_at": campaign.created_at,
                }
                for campaign in campaigns
            ],
            "sent_to_you": [
                {
                    "campaign": name,
                    "step": send.step_key,
                    "kind": send.kind,
                    "status": send.status,
                    "sent_at": send.sent_at,
                }
                for send, name in sends.all()
            ],
            "journey": [
                {"campaign": name, "step": step.step_key, "due_at": step.due_at, "status": step.status}
                for step, name in journey.all()
            ],
        }

    async def forget_member(self, member_id: int) -> dict[int, int]:
        """Drop the member's planned journey steps (a plan for someone who is gone); returns how many per
        campaign, whose journey schedule then needs re-arming. Steps already done and sends keep pointing
        at the anonymised member, so a campaign's figures stay as they were."""
        planned = (
            CampaignJourneyStep.member_id == member_id,
            CampaignJourneyStep.status.in_(["planned", "waiting"]),
        )
        counts = await self.session.execute(
            select(CampaignJourneyStep.campaign_id, func.count(CampaignJourneyStep.id))
            .where(*planned)
            .group_by(CampaignJourneyStep.campaign_id)
        )
        removed = {campaign_id: int(count) for campaign_id, count in counts.all()}
        await self.session.execute(delete(CampaignJourneyStep).where(*planned))
        return removed
