"""Meetings, ritual runs, absences and the ritual's on/off history; the silo-conflict register's queries
are inherited from `storage.repositories.silo_register`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from storage.models import Meeting, MeetingParticipant, Member
from storage.models.ritual import RitualAbsence, RitualRun, RitualSwitch, SiloConflict
from storage.repositories.silo_register import (
    UNRESOLVED,
    PairCount,
    RitualMeasures,
    SiloMatrix,
    SiloRegister,
)
from storage.upsert import insert_ignore

__all__ = ["UNRESOLVED", "PairCount", "RitualMeasures", "RitualRepository", "SiloMatrix"]
FOREVER = datetime.max.replace(tzinfo=UTC)


class RitualRepository(SiloRegister):
    # --- Meetings ----------------------------------------------------------------------------------
    async def meeting(self, meeting_id: int) -> Meeting | None:
        """The meeting, unless it was removed."""
        meeting = await self.session.get(Meeting, meeting_id)
        return meeting if meeting is not None and meeting.removed_at is None else None

    async def meetings(self, *, include_removed: bool = False) -> Sequence[Meeting]:
        statement = select(Meeting).order_by(Meeting.name, Meeting.id)
        if not include_removed:
            statement = statement.where(Meeting.removed_at.is_(None))
        return (await self.session.scalars(statement)).unique().all()

    async def meeting_for_channel(self, channel_id: int) -> Meeting | None:
        """The meeting held in this conversation (one with the ritual on first)."""
        statement = (
            select(Meeting)
            .where(Meeting.channel_id == channel_id, Meeting.removed_at.is_(None))
            .order_by(Meeting.ritual_enabled.desc(), Meeting.id)
        )
        return (await self.session.scalars(statement)).unique().first()

    async def add_meeting(self, meeting: Meeting) -> Meeting:
        self.session.add(meeting)
        await self.session.flush()
        return meeting

    async def set_participants(self, meeting: Meeting, member_ids: Iterable[int]) -> None:
        """Set who takes part. A newcomer starts level with the staying participant who wore the cap least
        (their ``cap_offset``), so the rotation does not hand them the cap week after week to catch up."""
        wanted = list(dict.fromkeys(member_ids))
        current = {participant.member_id: participant for participant in meeting.participants}
        history = await self.cap_history(meeting.id) if meeting.id is not None else {}

        def worn(member_id: int) -> int:
            return history.get(member_id, (0, None))[0]

        staying = [current[member_id] for member_id in wanted if member_id in current]
        level = min((worn(p.member_id) + p.cap_offset for p in staying), default=0)
        meeting.participants = [
            current.get(member_id)
            or MeetingParticipant(member_id=member_id, cap_offset=max(0, level - worn(member_id)))
            for member_id in wanted
        ]
        await self.session.flush()

    async def remove_meeting(self, meeting: Meeting, now: datetime) -> None:
        """Remove a meeting: it disappears with its participants, but its runs and switches stay for the
        measures (a removed meeting no longer counts as scheduled from ``now``)."""
        meeting.removed_at = now
        meeting.participants = []
        await self.session.flush()

    async def switch_ritual(self, meeting: Meeting, now: datetime) -> bool:
        """Record the ritual's state when it differs from the last recorded one; True when recorded."""
        statement = (
            select(RitualSwitch)
            .where(RitualSwitch.meeting_id == meeting.id)
            .order_by(RitualSwitch.switched_at.desc(), RitualSwitch.id.desc())
            .limit(1)
        )
        latest = (await self.session.scalars(statement)).first()
        if latest is not None and latest.enabled == meeting.ritual_enabled:
            return False
        at = now if latest is not None else meeting.created_at
        self.session.add(RitualSwitch(meeting_id=meeting.id, switched_at=at, enabled=meeting.ritual_enabled))
        await self.session.flush()
        return True

    async def ritual_periods(self, meeting: Meeting) -> list[tuple[datetime, datetime]]:
        """The [start, end) periods in which the meeting's ritual was on (until its removal)."""
        statement = (
            select(RitualSwitch.switched_at, RitualSwitch.enabled)
            .where(RitualSwitch.meeting_id == meeting.id)
            .order_by(RitualSwitch.switched_at, RitualSwitch.id)
        )
        switches = [(_aware(at), bool(enabled)) for at, enabled in (await self.session.execute(statement))]
        if not switches:  # never switched: its present state since it was created
            switches = [(meeting.created_at, meeting.ritual_enabled)]
        periods: list[tuple[datetime, datetime]] = []
        started: datetime | None = None
        for at, enabled in switches:
            if enabled and started is None:
                started = at
            elif not enabled and started is not None:
                periods.append((started, at))
                started = None
        if started is not None:
            periods.append((started, meeting.removed_at or FOREVER))
        end = meeting.removed_at or FOREVER
        return [(start, min(stop, end)) for start, stop in periods if start < end]

    async def participants(self, meeting: Meeting) -> Sequence[Member]:
        """The meeting's active participants, by name."""
        statement = (
            select(Member)
            .join(MeetingParticipant, MeetingParticipant.member_id == Member.id)
            .where(MeetingParticipant.meeting_id == meeting.id, Member.active.is_(True))
            .order_by(Member.name, Member.id)
        )
        return (await self.session.scalars(statement)).unique().all()

    # --- Runs --------------------------------------------------------------------------------------
    async def run(self, run_id: int) -> RitualRun | None:
        return await self.session.get(RitualRun, run_id)

    async def run_at(self, meeting_id: int, occurrence: datetime) -> RitualRun | None:
        statement = select(RitualRun).where(
            RitualRun.meeting_id == meeting_id, RitualRun.occurrence == occurrence
        )
        return (await self.session.scalars(statement)).first()

    async def recent_runs(self, meeting_id: int, limit: int = 10) -> Sequence[RitualRun]:
        """The newest runs first."""
        statement = (
            select(RitualRun)
            .where(RitualRun.meeting_id == meeting_id)
            .order_by(RitualRun.occurrence.desc(), RitualRun.id.desc())
            .limit(limit)
        )
        return (await self.session.scalars(statement)).all()

    async def add_run(self, run: RitualRun) -> RitualRun:
        self.session.add(run)
        await self.session.flush()
        return run

    async def cap_history(self, meeting_id: int) -> dict[int, tuple[int, datetime]]:
        """member id → (times they wore the cap at this meeting, when they last did)."""
        statement = (
            select(RitualRun.cap_member_id, func.count(), func.max(RitualRun.occurrence))
            .where(RitualRun.meeting_id == meeting_id, RitualRun.cap_member_id.is_not(None))
            .group_by(RitualRun.cap_member_id)
        )
        history: dict[int, tuple[int, datetime]] = {}
        for member_id, count, last in (await self.session.execute(statement)).all():
            if member_id is None:
                continue
            moment = last if isinstance(last, datetime) else datetime.fromisoformat(str(last))
            history[int(member_id)] = (int(count), _aware(moment))
        return history

    async def runs_awaiting_debrief(self, meeting_id: int, started_before: datetime) -> Sequence[RitualRun]:
        """Runs that started before ``started_before`` (so have ended) and got no debrief yet."""
        statement = (
            select(RitualRun)
            .where(
                RitualRun.meeting_id == meeting_id,
                RitualRun.debrief_sent_at.is_(None),
                RitualRun.cap_member_id.is_not(None),
                RitualRun.occurrence <= started_before,
                RitualRun.occurrence > started_before - timedelta(days=1),
            )
            .order_by(RitualRun.occurrence)
        )
        return (await self.session.scalars(statement)).all()

    async def moments_since(self, since: datetime) -> Sequence[RitualRun]:
        """Debriefed runs since ``since`` that left a customer moment, oldest first."""
        statement = (
            select(RitualRun)
            .where(RitualRun.debriefed_at >= since, RitualRun.customer_moment.is_not(None))
            .order_by(RitualRun.debriefed_at)
        )
        return (await self.session.scalars(statement)).all()

    # --- Absences ----------------------------------------------------------------------------------
    async def add_absence(self, meeting_id: int, member_id: int, day: date, now: datetime) -> bool:
        """Record that ``member_id`` is not at the meeting on ``day``; False if known already."""
        inserted = await insert_ignore(
            self.session,
            RitualAbsence.__table__,  # type: ignore[arg-type]
            {"meeting_id": meeting_id, "member_id": member_id, "day": day, "created_at": now},
            ["meeting_id", "member_id", "day"],
        )
        return inserted == 1

    async def remove_absence(self, meeting_id: int, member_id: int, day: date) -> bool:
        result = await self.session.execute(
            delete(RitualAbsence).where(
                RitualAbsence.meeting_id == meeting_id,
                RitualAbsence.member_id == member_id,
                RitualAbsence.day == day,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def absent_ids(self, meeting_id: int, day: date) -> set[int]:
        statement = select(RitualAbsence.member_id).where(
            RitualAbsence.meeting_id == meeting_id, RitualAbsence.day == day
        )
        return set((await self.session.scalars(statement)).all())

    # --- Privacy -----------------------------------------------------------------------------------
    async def export_for_member(self, member_id: int) -> dict[str, Any]:
        """The member's meetings (and those they created), the times they wore the cap, their absences and
        the conflicts they own or reported."""
        created = await self.session.execute(
            select(Meeting.id, Meeting.name, Meeting.created_at)
            .where(Meeting.created_by == member_id)
            .order_by(Meeting.id)
        )
        meetings = await self.session.execute(
            select(Meeting.id, Meeting.name)
            .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
            .where(MeetingParticipant.member_id == member_id)
            .order_by(Meeting.id)
        )
        caps = await self.session.execute(
            select(RitualRun, Meeting.name)
            .join(Meeting, Meeting.id == RitualRun.meeting_id)
            .where(RitualRun.cap_member_id == member_id)
            .order_by(RitualRun.occurrence)
        )
        absences = await self.session.execute(
            select(RitualAbsence.day, Meeting.name)
            .join(Meeting, Meeting.id == RitualAbsence.meeting_id)
            .where(RitualAbsence.member_id == member_id)
            .order_by(RitualAbsence.day)
        )
        conflicts = (
            await self.session.scalars(
                select(SiloConflict)
                .where(or_(SiloConflict.owner_member_id == member_id, SiloConflict.reported_by == member_id))
                .order_by(SiloConflict.id)
            )
        ).unique()
        return {
            "meetings": [{"id": meeting_id, "name": name} for meeting_id, name in meetings.all()],
            "meetings_created": [
                {"id": meeting_id, "name": name, "created_at": created_at}
                for meeting_id, name, created_at in created.all()
            ],
            "cap_wearer": [
                {
                    "meeting": name,
                    "occurrence": run.occurrence,
                    "debrief_answer": run.debrief_answer,
                    "customer_moment": run.customer_moment,
                }
                for run, name in caps.all()
            ],
            "absences": [{"meeting": name, "day": day.isoformat()} for day, name in absences.all()],
            "silo_conflicts": [
                {
                    "id": conflict.id,
                    "pair": conflict.pair,
                    "you_own_it": conflict.owner_member_id == member_id,
                    "you_reported_it": conflict.reported_by == member_id,
                    "status": conflict.status,
                    "goals": conflict.goals,
                    "customer_impact": conflict.customer_impact,
                    "next_step": conflict.next_step,
                    "created_at": conflict.created_at,
                }
                for conflict in conflicts
            ],
        }

    async def forget_member(self, member_id: int) -> int:
        """Remove the member from every meeting, forget their absences and empty the customer moments they
        wrote as cap wearer. Runs and conflicts keep pointing at the (anonymised) member row, so rotation
        counts and the register's numbers hold."""
        removed = 0
        for statement in (
            delete(RitualAbsence).where(RitualAbsence.member_id == member_id),
            delete(MeetingParticipant).where(MeetingParticipant.member_id == member_id),
            update(RitualRun)
            .where(RitualRun.cap_member_id == member_id, RitualRun.customer_moment.is_not(None))
            .values(customer_moment=None),
        ):
            result = await self.session.execute(statement)
            removed += int(getattr(result, "rowcount", 0) or 0)
        return removed


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
