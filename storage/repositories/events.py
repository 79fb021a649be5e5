"""Processed inbound event ids, for de-duplication of platform retries."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedEvent
from storage.upsert import insert_ignore


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

    async def seen(self, platform: str, event_id: str) -> bool:
        from sqlalchemy import select

        statement = select(ProcessedEvent.event_id).where(
            ProcessedEvent.platform == platform, ProcessedEvent.event_id == event_id
        )
        return (await self.session.scalar(statement)) is not None

    async def forget_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)
