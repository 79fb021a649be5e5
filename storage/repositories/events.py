"""Processed inbound event ids, for de-duplication of platform retries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedEvent
from storage.upsert import insert_ignore, insert_ignore_returning


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(self, platform: str, event_id: str, now: datetime | None = None) -> bool:
        """Record the event; False when it was handled before (in this transaction's view)."""
        inserted = await insert_ignore(
            self.session,
            ProcessedEvent.__table__,  # type: ignore[arg-type]
            {"platform": platform, "event_id": event_id, "received_at": now or datetime.now(UTC)},
            ["platform", "event_id"],
        )
        return inserted == 1

    async def first_times(self, platform: str, event_ids: Iterable[str], now: datetime) -> set[str]:
        """Record several events in one statement; the ids not handled before."""
        rows = [  # in one order in every process: two batches never wait for each other's rows crosswise
            {"platform": platform, "event_id": event_id, "received_at": now}
            for event_id in sorted(set(event_ids))
        ]
        inserted = await insert_ignore_returning(
            self.session,
            ProcessedEvent.__table__,  # type: ignore[arg-type]
            rows,
            ["platform", "event_id"],
            ["event_id"],
        )
        return {str(event_id) for (event_id,) in inserted}

    async def forget(self, platform: str, event_ids: Iterable[str]) -> None:
        """Unrecord events (claimed in this transaction, then left to be handled one by one)."""
        ids = list(event_ids)
        if ids:
            await self.session.execute(
                delete(ProcessedEvent).where(
                    ProcessedEvent.platform == platform, ProcessedEvent.event_id.in_(ids)
                )
            )

    async def seen(self, platform: str, event_id: str) -> bool:
        from sqlalchemy import select

        statement = select(ProcessedEvent.event_id).where(
            ProcessedEvent.platform == platform, ProcessedEvent.event_id == event_id
        )
        return (await self.session.scalar(statement)) is not None

    async def forget_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)
