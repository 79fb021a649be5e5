"""The question cards of a round as outbox rows (keyed ``pulse:q:<round>:…``): found at closing to settle them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery


class PulseCards:
    """Part of `storage.repositories.pulses.PulseRepository`."""

    session: AsyncSession

    async def cards(self, round_id: int) -> Sequence[Delivery]:
        """Question cards of a round (outbox rows keyed ``pulse:q:<round>:…``), oldest first."""
        statement = (
            select(Delivery)
            .where(Delivery.idempotency_key.like(f"pulse:q:{round_id}:%"), Delivery.edit_ref.is_(None))
            .order_by(Delivery.id)
        )
        return (await self.session.scalars(statement)).all()

    async def edited_refs(self, platform_message_ids: Iterable[str]) -> set[str]:
        """Which of these messages have an edit queued or sent (a card that already shows "answered")."""
        ids = [ref for ref in platform_message_ids if ref]
        if not ids:
            return set()
        statement = select(Delivery.edit_ref).where(Delivery.edit_ref.in_(ids))
        return {ref for ref in (await self.session.scalars(statement)).all() if ref}

    async def withdraw(self, deliveries: Iterable[Delivery]) -> None:
        """Cancel cards not sent yet (a round closed before a late send-window slot came)."""
        ids = [delivery.id for delivery in deliveries if delivery.status == "pending"]
        if ids:
            await self.session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.status == "pending")
                .values(status="cancelled", last_error="pulse round closed")
                .execution_options(synchronize_session=False)
            )
