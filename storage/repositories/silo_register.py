"""The silo-conflict register: conflicts, department pairs, the silo map and the ritual's measures.

`RitualRepository` (``ctx.repo.ritual``) inherits these queries; they live here so each module has one job.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Department
from storage.models.ritual import RitualRun, SiloConflict, SiloStatus

UNRESOLVED = [status.value for status in SiloStatus if status.unresolved]


@dataclass(frozen=True)
class SiloMatrix:
    """Department × department counts of silo conflicts; symmetric, the diagonal stays 0."""

    departments: list[str]
    counts: list[list[int]]

    def count(self, first: str, second: str) -> int:
        return self.counts[self.departments.index(first)][self.departments.index(second)]

    @property
    def total(self) -> int:
        return sum(sum(row) for row in self.counts) // 2


@dataclass(frozen=True)
class PairCount:
    department_a: str
    department_b: str
    count: int

    @property
    def label(self) -> str:
        return f"{self.department_a} ↔ {self.department_b}"


@dataclass(frozen=True)
class RitualMeasures:
    """What happened in a period; ``scheduled`` is added by the ritual service (it expands the rules)."""

    held: int
    held_ad_hoc: int
    debriefs_sent: int
    debriefs_completed: int
    conflicts_reported: int
    conflicts_resolved: int
    open_now: int
    resolution_days_median: float | None
    resolution_days_mean: float | None


class SiloRegister:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- The silo-conflict register ------------------------------------------------------------------
    async def add_conflict(self, conflict: SiloConflict) -> SiloConflict:
        if conflict.department_a_id > conflict.department_b_id:
            conflict.department_a_id, conflict.department_b_id = (
                conflict.department_b_id,
                conflict.department_a_id,
            )
        self.session.add(conflict)
        await self.session.flush()
        await self.session.refresh(conflict)
        return conflict

    async def conflict(self, conflict_id: int) -> SiloConflict | None:
        return await self.session.get(SiloConflict, conflict_id)

    async def conflicts(
        self,
        *,
        statuses: Iterable[str] | None = None,
        department_id: int | None = None,
        owner_id: int | None = None,
        created_since: datetime | None = None,
        created_before: datetime | None = None,
        resolved_since: datetime | None = None,
        limit: int = 200,
    ) -> Sequence[SiloConflict]:
        """Conflicts matching every given filter, oldest first."""
        statement = select(SiloConflict).order_by(SiloConflict.created_at, SiloConflict.id).limit(limit)
        if statuses is not None:
            statement = statement.where(SiloConflict.status.in_(list(statuses)))
        if department_id is not None:
            statement = statement.where(
                (SiloConflict.department_a_id == department_id)
                | (SiloConflict.department_b_id == department_id)
            )
        if owner_id is not None:
            statement = statement.where(SiloConflict.owner_member_id == owner_id)
        if created_since is not None:
            statement = statement.where(SiloConflict.created_at >= created_since)
        if created_before is not None:
            statement = statement.where(SiloConflict.created_at < created_before)
        if resolved_since is not None:
            statement = statement.where(SiloConflict.resolved_at >= resolved_since)
        return (await self.session.scalars(statement)).unique().all()

    async def pair_counts(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[PairCount]:
        """How often each department pair surfaced, most frequent first."""
        first = Department.__table__.alias("first")
        second = Department.__table__.alias("second")
        statement = (
            select(first.c.name, second.c.name, func.count(SiloConflict.id))
            .join(first, first.c.id == SiloConflict.department_a_id)
            .join(second, second.c.id == SiloConflict.department_b_id)
            .group_by(first.c.name, second.c.name)
        )
        if since is not None:
            statement = statement.where(SiloConflict.created_at >= since)
        if until is not None:
            statement = statement.where(SiloConflict.created_at < until)
        rows = (await self.session.execute(statement)).all()
        pairs = []
        for a, b, count in rows:
            low, high = sorted((str(a), str(b)), key=str.lower)
            pairs.append(PairCount(low, high, int(count)))
        return sorted(pairs, key=lambda pair: (-pair.count, pair.department_a, pair.department_b))

    async def recurring_pairs(self, now: datetime, weeks: int = 8, threshold: int = 3) -> list[PairCount]:
        """Pairs that surfaced at least ``threshold`` times in the last ``weeks`` weeks."""
        return [
            pair for pair in await self.pair_counts(now - timedelta(weeks=weeks)) if pair.count >= threshold
        ]

    async def matrix(
        self, since: datetime | None = None, until: datetime | None = None, *, all_departments: bool = False
    ) -> SiloMatrix:
        """The silo map: conflicts per department pair (only departments with conflicts, unless asked)."""
        pairs = await self.pair_counts(since, until)
        names = {name for pair in pairs for name in (pair.department_a, pair.department_b)}
        if all_departments:
            names |= {department.name for department in await self._departments()}
        departments = sorted(names, key=str.lower)
        index = {name: position for position, name in enumerate(departments)}
        counts = [[0] * len(departments) for _ in departments]
        for pair in pairs:
            a, b = index[pair.department_a], index[pair.department_b]
            counts[a][b] += pair.count
            counts[b][a] += pair.count
        return SiloMatrix(departments, counts)

    async def _departments(self) -> Sequence[Department]:
        return (await self.session.scalars(select(Department).order_by(Department.name))).all()

    async def measures(self, since: datetime, until: datetime) -> RitualMeasures:
        """Rituals held, debriefs and conflict resolution in [since, until)."""
        runs = (
            await self.session.scalars(
                select(RitualRun).where(
                    RitualRun.occurrence >= since,
                    RitualRun.occurrence < until,
                    RitualRun.cap_member_id.is_not(None),
                )
            )
        ).all()
        reported = await self.conflicts(created_since=since, created_before=until, limit=100_000)
        resolved = [
            conflict
            for conflict in await self.conflicts(resolved_since=since, limit=100_000)
            if conflict.resolved_at is not None and conflict.resolved_at < until
        ]
        days = [
            (conflict.resolved_at - conflict.created_at).total_seconds() / 86400
            for conflict in resolved
            if conflict.resolved_at is not None
        ]
        open_now = int(
            await self.session.scalar(
                select(func.count()).select_from(SiloConflict).where(SiloConflict.status.in_(UNRESOLVED))
            )
            or 0
        )
        return RitualMeasures(
            held=len(runs),
            held_ad_hoc=sum(1 for run in runs if not run.scheduled),
            debriefs_sent=sum(1 for run in runs if run.debrief_sent_at is not None),
            debriefs_completed=sum(1 for run in runs if run.debrief_answer is not None),
            conflicts_reported=len(reported),
            conflicts_resolved=len(resolved),
            open_now=open_now,
            resolution_days_median=round(statistics.median(days), 1) if days else None,
            resolution_days_mean=round(statistics.fmean(days), 1) if days else None,
        )
