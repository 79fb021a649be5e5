"""The relay's rows: its sealed queue, and what it keeps (or forgets) of its messages in the outbox.

Part of `FeedbackRepository` (``ctx.repo.feedback``); the queue holds sealed payloads only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery
from storage.models.feedback import FeedbackRelayQueue, FeedbackThemeUpdate


class FeedbackRelayRows:
    session: AsyncSession

    # --- The relay queue -------------------------------------------------------------------------
    async def enqueue_relay(self, direction: str, sealed: str, day: datetime) -> None:
        self.session.add(FeedbackRelayQueue(direction=direction, sealed=sealed, created_at=day))
        await self.session.flush()

    async def relay_queue(self) -> Sequence[FeedbackRelayQueue]:
        statement = select(FeedbackRelayQueue).with_for_update(skip_locked=True)
        return (await self.session.scalars(statement)).all()

    async def drop_relay_rows(self, row_ids: Sequence[int]) -> None:
        if row_ids:
            await self.session.execute(
                delete(FeedbackRelayQueue).where(FeedbackRelayQueue.id.in_(list(row_ids)))
            )

    async def hush_deliveries(
        self,
        *,
        day: datetime,
        now: datetime,
        topic: str,
        spare_topic: str,
        keys: Sequence[str] = (),
        key_prefix: str | None = None,
        platform: str | None = None,
        message_ref: str | None = None,
    ) -> None:
        """Move these outbox rows to ``topic`` and keep only ``day`` as their time (rows due already become
        due since the day began): rows with ``keys``, whose key starts with ``key_prefix`` (an event's
        replies), or that sent or edited the message ``message_ref`` on ``platform``. Rows on
        ``spare_topic`` are left alone."""
        chosen: list[ColumnElement[bool]] = []
        if keys:
            chosen.append(Delivery.idempotency_key.in_(list(keys)))
        if key_prefix:
            chosen.append(Delivery.idempotency_key.startswith(key_prefix, autoescape=True))
        if platform and message_ref:
            chosen.append(
                and_(
                    Delivery.platform == platform,
                    or_(Delivery.platform_message_id == message_ref, Delivery.edit_ref == message_ref),
                )
            )
        if not chosen:
            return
        rows = and_(or_(*chosen), Delivery.topic != spare_topic)
        await self.session.execute(
            update(Delivery).where(rows, Delivery.not_before <= now).values(not_before=day)
        )
        await self.session.execute(update(Delivery).where(rows).values(topic=topic, created_at=day))

    async def forget_sent(self, relay_topic: str, quiet_topic: str, day: datetime) -> None:
        """Sent (or given-up) rows on ``quiet_topic`` are deleted. Those on ``relay_topic`` keep only what
        routes a reply in their thread back to the relay (the key with its sealed handle, the platform's
        message id): no text, no recipient, and ``day`` as every time."""
        finished = Delivery.status.in_(["sent", "failed"])
        await self.session.execute(delete(Delivery).where(Delivery.topic == quiet_topic, finished))
        await self.session.execute(
            update(Delivery)
            .where(Delivery.topic == relay_topic, finished, Delivery.target != "")
            .values(
                target="",
                member_id=None,
                message={},
                last_error=None,
                created_at=day,
                not_before=day,
                sent_at=day,
                claimed_by=None,
                claimed_until=None,
            )
        )

    async def pending_until(self, *topics: str) -> datetime | None:
        """When the last row on these topics still waiting in the outbox falls due (None: none waits)."""
        statement = select(func.max(Delivery.not_before)).where(
            Delivery.topic.in_(list(topics)), Delivery.status == "pending"
        )
        found = await self.session.scalar(statement)
        if isinstance(found, str):  # SQLite may return an aggregate of datetimes as text
            found = datetime.fromisoformat(found)
        if found is not None and found.tzinfo is None:
            found = found.replace(tzinfo=UTC)
        return found

    async def count_reach(self, update_id: int, reached: int, unreachable: int) -> None:
        """Add the anonymous givers the relay reached (or could not) to a "you said, we did" update."""
        found = await self.session.get(FeedbackThemeUpdate, update_id)
        if found is not None:
            found.contributors += reached
            found.unreachable += unreachable

    async def relay_backlog(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(FeedbackRelayQueue)) or 0)
