"""Schedules and their next fire times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Schedule


class ScheduleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, schedule_id: int) -> Schedule | None:
        return await self.session.get(Schedule, schedule_id)

    async def by_ref(self, kind: str, ref: str) -> Schedule | None:
        statement = select(Schedule).where(Schedule.kind == kind, Schedule.ref == ref)
        return (await self.session.scalars(statement)).first()

    async def put(
        self,
        *,
        kind: str,
        ref: str,
        timezone: str,
        starts_at: datetime,
        next_fire_at: datetime | None,
        now: datetime,
        rrule: str | None = None,
        ends_at: datetime | None = None,
        payload: dict[str, Any] | None = None,
        enabled: bool = True,
    ) -> Schedule:
        """Create or replace the schedule identified by (kind, ref)."""
        schedule = await self.by_ref(kind, ref)
        if schedule is None:
            schedule = Schedule(kind=kind, ref=ref, fire_count=0)
            self.session.add(schedule)
        schedule.timezone = timezone
        schedule.starts_at = starts_at
        schedule.ends_at = ends_at
        schedule.rrule = rrule
        schedule.payload = payload or {}
        schedule.enabled = enabled
        schedule.next_fire_at = next_fire_at
        schedule.updated_at = now
        await self.session.flush()
        return schedule

    async def claim_due(self, now: datetime, limit: int = 100) -> Sequence[Schedule]:
        """Due schedules, locked for this transaction (SKIP LOCKED: other instances take the rest)."""
        statement = (
            select(Schedule)
            .where(
                Schedule.enabled.is_(True), Schedule.next_fire_at.is_not(None), Schedule.next_fire_at <= now
            )
            .order_by(Schedule.next_fire_at, Schedule.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(statement)).all()

    async def upcoming(self) -> Sequence[tuple[int, datetime]]:
        """(id, next fire time) of every enabled schedule, for the clock."""
        statement = select(Schedule.id, Schedule.next_fire_at).where(
            Schedule.enabled.is_(True), Schedule.next_fire_at.is_not(None)
        )
        return [
            (row[0], row[1]) for row in (await self.session.execute(statement)).all() if row[1] is not None
        ]

    async def earliest(self) -> datetime | None:
        """The earliest next fire time of any enabled schedule."""
        from sqlalchemy import func

        statement = select(func.min(Schedule.next_fire_at)).where(
            Schedule.enabled.is_(True), Schedule.next_fire_at.is_not(None)
        )
        found = await self.session.scalar(statement)
        if isinstance(found, str):
            found = datetime.fromisoformat(found)
        if found is not None and found.tzinfo is None:
            from datetime import UTC

            found = found.replace(tzinfo=UTC)
        return found

    async def latest_change(self) -> datetime | None:
        from sqlalchemy import func

        return await self.session.scalar(select(func.max(Schedule.updated_at)))

    async def of_kind(self, kind: str) -> Sequence[Schedule]:
        statement = select(Schedule).where(Schedule.kind == kind).order_by(Schedule.id)
        return (await self.session.scalars(statement)).all()
