"""The outbox table: enqueue, claim, and record the outcome of deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery
from storage.upsert import insert_ignore


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(self, rows: list[dict[str, Any]]) -> int:
        """Insert deliveries; rows whose idempotency key exists already are skipped. Returns how many were new."""
        if not rows:
            return 0
        inserted = 0
        for start in range(0, len(rows), 500):
            inserted += await insert_ignore(
                self.session,
                Delivery.__table__,  # type: ignore[arg-type]
                rows[start : start + 500],
                ["idempotency_key"],
            )
        return inserted

    async def claim_due(
        self, now: datetime, limit: int, claimer: str, lease: timedelta, platforms: Sequence[str]
    ) -> Sequence[Delivery]:
        """Claim up to ``limit`` due deliveries for ``lease`` (SKIP LOCKED on PostgreSQL)."""
        due = (
            select(Delivery.id)
            .where(
                Delivery.status == "pending",
                Delivery.not_before <= now,
                Delivery.platform.in_(list(platforms)),
                or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
            )
            .order_by(Delivery.priority, Delivery.not_before, Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(Delivery)
            .where(Delivery.id.in_(due.scalar_subquery()))
            .values(claimed_until=now + lease, claimed_by=claimer)
            .returning(Delivery)
            .execution_options(synchronize_session=False)
        )
        claimed = (await self.session.scalars(statement)).all()
        return sorted(claimed, key=lambda row: (row.priority, row.not_before, row.id))

    def _held(self, delivery_id: int, claimer: str | None) -> Any:
        """Only while ``claimer`` still holds the (pending) row: a stale dispatcher changes nothing."""
        condition = (Delivery.id == delivery_id) & (Delivery.status == "pending")
        if claimer is not None:
            condition = condition & (Delivery.claimed_by == claimer)
        return condition

    async def mark_sent(
        self, delivery_id: int, platform_message_id: str | None, now: datetime, claimer: str | None = None
    ) -> None:
        await self.session.execute(
            update(Delivery)
            .where(self._held(delivery_id, claimer))
            .values(
                status="sent",
                platform_message_id=platform_message_id,
                sent_at=now,
                attempts=Delivery.attempts + 1,
                claimed_until=None,
                last_error=None,
            )
        )

    async def reschedule(
        self,
        delivery_id: int,
        not_before: datetime,
        error: str,
        count_attempt: bool,
        claimer: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"not_before": not_before, "claimed_until": None, "last_error": error[:500]}
        if count_attempt:
            values["attempts"] = Delivery.attempts + 1
        await self.session.execute(update(Delivery).where(self._held(delivery_id, claimer)).values(**values))

    async def record_outcomes(
        self,
        now: datetime,
        claimer: str,
        sent: Sequence[tuple[int, str | None]] = (),
        retries: Sequence[tuple[int, datetime, str, bool]] = (),
        failed: Sequence[tuple[int, str]] = (),
    ) -> None:
        """Record many outcomes at once (one statement per kind), each only while ``claimer`` holds the row.

        ``sent``: (id, platform message id); ``retries``: (id, not before, error, counts as an attempt);
        ``failed``: (id, error).
        """
        table: Any = Delivery.__table__
        held = (
            (table.c.id == bindparam("b_id"))
            & (table.c.status == "pending")
            & (table.c.claimed_by == claimer)
        )
        if sent:
            await self.session.execute(
                update(table)
                .where(held)
                .values(
                    status="sent",
                    platform_message_id=bindparam("b_ref"),
                    sent_at=now,
                    attempts=table.c.attempts + 1,
                    claimed_until=None,
                    last_error=None,
                ),
                [{"b_id": delivery_id, "b_ref": reference} for delivery_id, reference in sent],
            )
        for counted in (True, False):
            chosen = [retry for retry in retries if retry[3] is counted]
            if chosen:
                await self.session.execute(
                    update(table)
                    .where(held)
                    .values(
                        not_before=bindparam("b_not_before"),
                        claimed_until=None,
                        last_error=bindparam("b_error"),
                        attempts=table.c.attempts + (1 if counted else 0),
                    ),
                    [
                        {"b_id": delivery_id, "b_not_before": not_before, "b_error": error[:500]}
                        for delivery_id, not_before, error, _ in chosen
                    ],
                )
        if failed:
            await self.session.execute(
                update(table)
                .where(held)
                .values(
                    status="failed",
                    last_error=bindparam("b_error"),
                    claimed_until=None,
                    attempts=table.c.attempts + 1,
                ),
                [{"b_id": delivery_id, "b_error": error[:500]} for delivery_id, error in failed],
            )

    async def mark_failed(self, delivery_id: int, error: str, claimer: str | None = None) -> None:
        await self.session.execute(
            update(Delivery)
            .where(self._held(delivery_id, claimer))
            .values(
                status="failed", last_error=error[:500], claimed_until=None, attempts=Delivery.attempts + 1
            )
        )

    async def release(self, delivery_ids: Sequence[int], claimer: str) -> None:
        """Give claimed rows back (graceful shutdown) so another dispatcher takes them at once."""
        if delivery_ids:
            await self.session.execute(
                update(Delivery)
                .where(
                    Delivery.id.in_(list(delivery_ids)),
                    Delivery.status == "pending",
                    Delivery.claimed_by == claimer,
                )
                .values(claimed_until=None, claimed_by=None)
            )

    async def renew(self, delivery_ids: Sequence[int], claimer: str, until: datetime) -> None:
        """Extend the lease of rows ``claimer`` still holds."""
        await self.session.execute(
            update(Delivery)
            .where(
                Delivery.id.in_(list(delivery_ids)),
                Delivery.status == "pending",
                Delivery.claimed_by == claimer,
            )
            .values(claimed_until=until)
        )

    async def backlog(self, now: datetime) -> int:
        """Deliveries due by ``now`` and not sent yet (those planned for later are not a backlog)."""
        statement = (
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status == "pending", Delivery.not_before <= now)
        )
        return int(await self.session.scalar(statement) or 0)

    async def next_due_at(self, platforms: Sequence[str], now: datetime) -> datetime | None:
        """When the next delivery this dispatcher could claim is due (claimed ones: when their lease ends)."""
        statement = select(func.min(func.coalesce(Delivery.claimed_until, Delivery.not_before))).where(
            Delivery.status == "pending", Delivery.platform.in_(list(platforms))
        )
        found = await self.session.scalar(statement)
        if isinstance(found, str):  # SQLite returns COALESCE of datetimes as text
            found = datetime.fromisoformat(found)
        if found is not None and found.tzinfo is None:
            found = found.replace(tzinfo=UTC)
        return found

    async def by_platform_message(self, platform: str, platform_message_id: str) -> Delivery | None:
        statement = select(Delivery).where(
            Delivery.platform == platform, Delivery.platform_message_id == platform_message_id
        )
        return (await self.session.scalars(statement.order_by(Delivery.id))).first()

    async def recent_for_member(
        self, member_id: int, limit: int, skip_topics: Sequence[str] = ()
    ) -> Sequence[Delivery]:
        """The newest deliveries sent to ``member_id`` (direct messages and replies), newest first."""
        statement = (
            select(Delivery)
            .where(Delivery.member_id == member_id, Delivery.status == "sent", Delivery.edit_ref.is_(None))
            .order_by(Delivery.id.desc())
            .limit(limit)
        )
        if skip_topics:
            statement = statement.where(Delivery.topic.not_in(list(skip_topics)))
        return (await self.session.scalars(statement)).all()

    async def by_key(self, key: str) -> Delivery | None:
        return (await self.session.scalars(select(Delivery).where(Delivery.idempotency_key == key))).first()

    async def counts_by_status(self) -> dict[str, int]:
        statement = select(Delivery.status, func.count()).group_by(Delivery.status)
        return {status: int(count) for status, count in (await self.session.execute(statement)).all()}

    async def sent_by_topic_since(self, since: datetime) -> dict[str, int]:
        statement = (
            select(Delivery.topic, func.count())
            .where(Delivery.status == "sent", Delivery.sent_at >= since, Delivery.topic != "edit")
            .group_by(Delivery.topic)
        )
        return {topic: int(count) for topic, count in (await self.session.execute(statement)).all()}

    async def forget_finished_before(self, cutoff: datetime) -> int:
        """Delete sent and given-up deliveries created before ``cutoff`` (pending ones are never deleted)."""
        statement = delete(Delivery).where(
            Delivery.status.in_(["sent", "failed"]), Delivery.created_at < cutoff
        )
        result = await self.session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    async def forget_member(self, member_id: int) -> tuple[int, int]:
        """Cancel (delete) every personal message still to be sent to the member, delete those sent to them
        personally; channel posts only lose the link to them. Returns (cancelled, deleted)."""
        personal = or_(Delivery.channel_id.is_(None), Delivery.ephemeral.is_(True))
        cancelled = await self.session.execute(
            delete(Delivery).where(Delivery.member_id == member_id, Delivery.status == "pending", personal)
        )
        deleted = await self.session.execute(
            delete(Delivery).where(Delivery.member_id == member_id, personal)
        )
        await self.session.execute(
            update(Delivery).where(Delivery.member_id == member_id).values(member_id=None)
        )
        return int(getattr(cancelled, "rowcount", 0) or 0), int(getattr(deleted, "rowcount", 0) or 0)
