"""Leader snippets, their replies and reactions, the CX relay and leaders' customer contacts.

The monthly aggregates (`monthly_contacts`, `monthly_snippets`) are what the CX dashboard draws: per
leader, per calendar month in a given time zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import Channel
from storage.models.leadership import (
    CustomerContact,
    LeaderSnippet,
    Relay,
    RelayLeg,
    SnippetReaction,
    SnippetReply,
    SnippetStatus,
)
from storage.upsert import insert_ignore

MonthlyCounts = dict[int, dict[str, int]]
"""member id → ``YYYY-MM`` → count."""


@dataclass(frozen=True)
class Responses:
    replies: int = 0
    reactions: int = 0


class LeadershipRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- Snippets --------------------------------------------------------------------------------
    async def create_snippet(
        self,
        author_member_id: int,
        *,
        text: str,
        video_url: str | None,
        story_id: int | None,
        contact_id: int | None,
        now: datetime,
        status: SnippetStatus = SnippetStatus.draft,
    ) -> LeaderSnippet:
        snippet = LeaderSnippet(
            author_member_id=author_member_id,
            text=text,
            video_url=video_url,
            story_id=story_id,
            contact_id=contact_id,
            status=status.value,
            revision=1,
            created_at=now,
            updated_at=now,
        )
        self.session.add(snippet)
        await self.session.flush()
        return snippet

    async def snippet(self, snippet_id: int) -> LeaderSnippet | None:
        return await self.session.get(LeaderSnippet, snippet_id)

    async def snippets_by(self, author_member_id: int, limit: int = 10) -> Sequence[LeaderSnippet]:
        statement = (
            select(LeaderSnippet)
            .where(
                LeaderSnippet.author_member_id == author_member_id,
                LeaderSnippet.status != SnippetStatus.cancelled.value,
            )
            .order_by(LeaderSnippet.id.desc())
            .limit(limit)
        )
        return (await self.session.scalars(statement)).all()

    async def recent_snippets(self, statuses: Iterable[str], limit: int = 30) -> Sequence[LeaderSnippet]:
        """*Dashboard*: everyone's snippets in these statuses, newest first."""
        statement = (
            select(LeaderSnippet)
            .where(LeaderSnippet.status.in_(list(statuses)))
            .order_by(
                func.coalesce(LeaderSnippet.posted_at, LeaderSnippet.post_at, LeaderSnippet.created_at).desc()
            )
            .limit(limit)
        )
        return (await self.session.scalars(statement)).all()

    async def has_snippet_underway(self, author_member_id: int, since: datetime) -> bool:
        """Whether the author has a snippet awaiting approval or its posting time, made after ``since``."""
        statement = select(func.count()).where(
            LeaderSnippet.author_member_id == author_member_id,
            LeaderSnippet.status.in_([SnippetStatus.pending.value, SnippetStatus.scheduled.value]),
            LeaderSnippet.updated_at >= since,
        )
        return bool(await self.session.scalar(statement))

    async def channels_named(self, names: Iterable[str]) -> Sequence[Channel]:
        """Every channel (on every platform) with one of these names."""
        statement = (
            select(Channel)
            .where(Channel.name.in_(list(names)), Channel.kind != "dm")
            .order_by(Channel.platform, Channel.name)
        )
        return (await self.session.scalars(statement)).all()

    async def record_reply(
        self, snippet_id: int, member_id: int, channel_id: int | None, text: str, now: datetime
    ) -> SnippetReply:
        reply = SnippetReply(
            snippet_id=snippet_id, member_id=member_id, channel_id=channel_id, text=text, created_at=now
        )
        self.session.add(reply)
        await self.session.flush()
        return reply

    async def set_reaction(
        self, snippet_id: int, member_id: int, emoji: str, *, added: bool, now: datetime
    ) -> None:
        if added:
            row: dict[str, Any] = {
                "snippet_id": snippet_id,
                "member_id": member_id,
                "emoji": emoji,
                "created_at": now,
            }
            await insert_ignore(
                self.session,
                SnippetReaction.__table__,  # type: ignore[arg-type]
                row,
                ["snippet_id", "member_id", "emoji"],
            )
        else:
            await self.session.execute(
                delete(SnippetReaction).where(
                    SnippetReaction.snippet_id == snippet_id,
                    SnippetReaction.member_id == member_id,
                    SnippetReaction.emoji == emoji,
                )
            )

    async def responses(self, snippet_ids: Sequence[int]) -> dict[int, Responses]:
        """Reply and reaction counts per snippet."""
        if not snippet_ids:
            return {}
        replies = await self._count_by(SnippetReply.snippet_id, snippet_ids)
        reactions = await self._count_by(SnippetReaction.snippet_id, snippet_ids)
        return {
            snippet_id: Responses(replies.get(snippet_id, 0), reactions.get(snippet_id, 0))
            for snippet_id in snippet_ids
        }

    async def _count_by(self, column: InstrumentedAttribute[int], ids: Sequence[int]) -> dict[int, int]:
        statement = select(column, func.count()).where(column.in_(list(ids))).group_by(column)
        return {int(key): int(count) for key, count in (await self.session.execute(statement)).all()}

    async def replies(self, snippet_id: int) -> Sequence[SnippetReply]:
        statement = (
            select(SnippetReply).where(SnippetReply.snippet_id == snippet_id).order_by(SnippetReply.id)
        )
        return (await self.session.scalars(statement)).all()

    async def reactions(self, snippet_id: int) -> Sequence[SnippetReaction]:
        statement = select(SnippetReaction).where(SnippetReaction.snippet_id == snippet_id)
        return (await self.session.scalars(statement)).all()

    # --- The CX relay ------------------------------------------------------------------------------
    async def running_relay(self) -> Relay | None:
        return (await self.session.scalars(select(Relay).where(Relay.running.is_(True)))).first()

    async def latest_relay(self) -> Relay | None:
        """The running relay, else the one that ended last."""
        statement = select(Relay).order_by(Relay.running.is_(True).desc(), Relay.id.desc()).limit(1)
        return (await self.session.scalars(statement)).first()

    async def start_relay(self, starter_member_id: int, now: datetime) -> Relay:
        """A running relay whose first leg (the starter's) is passed at once."""
        relay = Relay(started_by_member_id=starter_member_id, status="active", running=True, started_at=now)
        self.session.add(relay)
        await self.session.flush()
        self.session.add(
            RelayLeg(
                relay_id=relay.id,
                position=0,
                holder_member_id=starter_member_id,
                challenge="",
                received_at=now,
                passed_at=now,
                reminders=0,
            )
        )
        await self.session.flush()
        return relay

    async def end_relay(self, relay: Relay, status: str, now: datetime) -> None:
        relay.status = status
        relay.running = None
        relay.ended_at = now
        await self.session.flush()

    async def legs(self, relay_id: int) -> Sequence[RelayLeg]:
        statement = select(RelayLeg).where(RelayLeg.relay_id == relay_id).order_by(RelayLeg.position)
        return (await self.session.scalars(statement)).all()

    async def leg(self, leg_id: int) -> RelayLeg | None:
        return await self.session.get(RelayLeg, leg_id)

    async def add_leg(
        self, relay: Relay, holder_member_id: int, passed_by_member_id: int, challenge: str, now: datetime
    ) -> RelayLeg:
        position = await self.session.scalar(
            select(func.coalesce(func.max(RelayLeg.position), -1) + 1).where(RelayLeg.relay_id == relay.id)
        )
        leg = RelayLeg(
            relay_id=relay.id,
            position=int(position or 0),
            holder_member_id=holder_member_id,
            passed_by_member_id=passed_by_member_id,
            challenge=challenge,
            received_at=now,
            reminders=0,
        )
        self.session.add(leg)
        await self.session.flush()
        return leg

    async def open_leg_of(self, member_id: int) -> RelayLeg | None:
        """The leg of the running relay in which ``member_id`` holds the baton, if any."""
        statement = (
            select(RelayLeg)
            .join(Relay, Relay.id == RelayLeg.relay_id)
            .where(
                Relay.running.is_(True),
                RelayLeg.holder_member_id == member_id,
                RelayLeg.passed_at.is_(None),
            )
        )
        return (await self.session.scalars(statement)).first()

    # --- Customer contacts -----------------------------------------------------------------------------
    async def log_contact(self, member_id: int, kind: str, note: str, now: datetime) -> CustomerContact:
        contact = CustomerContact(member_id=member_id, kind=kind, note=note, occurred_at=now, created_at=now)
        self.session.add(contact)
        await self.session.flush()
        return contact

    async def contact(self, contact_id: int) -> CustomerContact | None:
        return await self.session.get(CustomerContact, contact_id)

    async def count_contacts(self, member_id: int, start: datetime, end: datetime) -> int:
        statement = select(func.count()).where(
            CustomerContact.member_id == member_id,
            CustomerContact.occurred_at >= start,
            CustomerContact.occurred_at < end,
        )
        return int(await self.session.scalar(statement) or 0)

    async def monthly_contacts(self, start: datetime, end: datetime, timezone: str) -> MonthlyCounts:
        """Customer contacts per leader per calendar month (in ``timezone``) within [start, end)."""
        statement = select(CustomerContact.member_id, CustomerContact.occurred_at).where(
            CustomerContact.occurred_at >= start, CustomerContact.occurred_at < end
        )
        return _by_month((await self.session.execute(statement)).all(), timezone)

    async def monthly_snippets(self, start: datetime, end: datetime, timezone: str) -> MonthlyCounts:
        """Posted snippets per leader per calendar month (in ``timezone``) within [start, end)."""
        statement = select(LeaderSnippet.author_member_id, LeaderSnippet.posted_at).where(
            LeaderSnippet.posted_at >= start, LeaderSnippet.posted_at < end
        )
        return _by_month((await self.session.execute(statement)).all(), timezone)

    # --- Privacy ---------------------------------------------------------------------------------
    async def export_for_member(self, member_id: int) -> dict[str, Any]:
        """A leader's snippets, relay legs and customer contacts; anyone's snippet replies and reactions."""
        snippets = await self.session.scalars(
            select(LeaderSnippet)
            .where(LeaderSnippet.author_member_id == member_id)
            .order_by(LeaderSnippet.id)
        )
        replies = await self.session.scalars(
            select(SnippetReply).where(SnippetReply.member_id == member_id).order_by(SnippetReply.id)
        )
        reactions = await self.session.scalars(
            select(SnippetReaction)
            .where(SnippetReaction.member_id == member_id)
            .order_by(SnippetReaction.snippet_id, SnippetReaction.emoji)
        )
        legs = await self.session.scalars(
            select(RelayLeg)
            .where(or_(RelayLeg.holder_member_id == member_id, RelayLeg.passed_by_member_id == member_id))
            .order_by(RelayLeg.relay_id, RelayLeg.position)
        )
        contacts = await self.session.scalars(
            select(CustomerContact).where(CustomerContact.member_id == member_id).order_by(CustomerContact.id)
        )
        return {
            "snippets": [
                {
                    "id": snippet.id,
                    "status": snippet.status,
                    "text": snippet.text,
                    "video_url": snippet.video_url,
                    "story_id": snippet.story_id,
                    "review_note": snippet.review_note,
                    "created_at": snippet.created_at,
                    "posted_at": snippet.posted_at,
                }
                for snippet in snippets
            ],
            "snippet_replies": [
                {"snippet_id": reply.snippet_id, "text": reply.text, "at": reply.created_at}
                for reply in replies
            ],
            "snippet_reactions": [
                {"snippet_id": reaction.snippet_id, "emoji": reaction.emoji, "at": reaction.created_at}
                for reaction in reactions
            ],
            "relay_legs": [
                {
                    "relay_id": leg.relay_id,
                    "position": leg.position,
                    "role": "holder" if leg.holder_member_id == member_id else "passed_by",
                    "challenge": leg.challenge,
                    "received_at": leg.received_at,
                    "shared_at": leg.shared_at,
                    "passed_at": leg.passed_at,
                }
                for leg in legs
            ],
            "customer_contacts": [
                {"kind": contact.kind, "note": contact.note, "occurred_at": contact.occurred_at}
                for contact in contacts
            ],
        }

    async def erase_texts_of(self, member_id: int) -> int:
        """Empty what the member wrote (snippets, replies, contact notes, the challenges they passed the relay
        baton with); the rows stay for the counts."""
        changed = 0
        for statement in (
            update(LeaderSnippet)
            .where(LeaderSnippet.author_member_id == member_id)
            .values(text="", video_url=None, review_note=None),
            update(SnippetReply).where(SnippetReply.member_id == member_id).values(text=""),
            update(CustomerContact).where(CustomerContact.member_id == member_id).values(note=""),
            update(RelayLeg).where(RelayLeg.passed_by_member_id == member_id).values(challenge=""),
        ):
            result = await self.session.execute(statement)
            changed += int(getattr(result, "rowcount", 0) or 0)
        return changed


def month_key(moment: datetime, timezone: str) -> str:
    """``YYYY-MM`` of ``moment`` on the wall calendar of ``timezone``."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m")


def _by_month(rows: Iterable[tuple[int, datetime | None]], timezone: str) -> MonthlyCounts:
    # Bucketing in Python keeps month boundaries in the organisation's zone identical on both databases.
    counts: MonthlyCounts = defaultdict(lambda: defaultdict(int))
    for member_id, moment in rows:
        if moment is not None:
            counts[member_id][month_key(moment, timezone)] += 1
    return {member_id: dict(months) for member_id, months in counts.items()}
