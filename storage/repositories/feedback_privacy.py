"""What the feedback tables hold about a member, erasing it, and retention.

Part of `FeedbackRepository` (``ctx.repo.feedback``); texts stay sealed here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.feedback import (
    FeedbackItem,
    FeedbackMessage,
    FeedbackRelayQueue,
    FeedbackStatus,
    FeedbackTheme,
    FeedbackThemeUpdate,
)


class FeedbackPrivacyRows:
    session: AsyncSession

    # --- Privacy ---------------------------------------------------------------------------------
    async def export_for_member(self, member_id: int) -> dict[str, Any]:
        """What the feedback tables hold about a member, texts still sealed (``*_sealed``): their named
        items with the whole thread, the items they own, what they wrote as staff, their themes and
        updates. Anonymous items are nobody's and never appear here."""
        given = (
            await self.session.scalars(
                select(FeedbackItem)
                .where(FeedbackItem.giver_member_id == member_id)
                .order_by(FeedbackItem.id)
            )
        ).all()
        threads: dict[int, list[dict[str, Any]]] = {item.id: [] for item in given}
        if threads:
            messages = await self.session.scalars(
                select(FeedbackMessage)
                .where(FeedbackMessage.item_id.in_(list(threads)))
                .order_by(FeedbackMessage.id)
            )
            for message in messages:
                threads[message.item_id].append(
                    {
                        "author": message.author,
                        "staff_member_id": message.author_member_id,
                        "text_sealed": message.text_sealed,
                        "at": message.created_at,
                    }
                )
        owned = await self.session.execute(
            select(FeedbackItem.id, FeedbackItem.status)
            .where(FeedbackItem.owner_member_id == member_id)
            .order_by(FeedbackItem.id)
        )
        written = await self.session.scalars(
            select(FeedbackMessage)
            .where(FeedbackMessage.author_member_id == member_id, FeedbackMessage.author == "staff")
            .order_by(FeedbackMessage.id)
        )
        themes = await self.session.scalars(
            select(FeedbackTheme).where(FeedbackTheme.owner_member_id == member_id).order_by(FeedbackTheme.id)
        )
        updates = await self.session.scalars(
            select(FeedbackThemeUpdate)
            .where(FeedbackThemeUpdate.author_member_id == member_id)
            .order_by(FeedbackThemeUpdate.id)
        )
        return {
            "named_items": [
                {
                    "id": item.id,
                    "status": item.status,
                    "category": item.category,
                    "source": item.source,
                    "text_sealed": item.text_sealed,
                    "reason_sealed": item.reason_sealed,
                    "owner_member_id": item.owner_member_id,
                    "theme_id": item.theme_id,
                    "created_at": item.created_at,
                    "answered_at": item.answered_at,
                    "closed_at": item.closed_at,
                    "thread": threads[item.id],
                }
                for item in given
            ],
            "items_owned": [{"id": item_id, "status": status} for item_id, status in owned.all()],
            "staff_answers": [
                {"item_id": message.item_id, "text_sealed": message.text_sealed, "at": message.created_at}
                for message in written
            ],
            "themes_owned": [
                {"id": theme.id, "title": theme.title, "status": theme.status, "created_at": theme.created_at}
                for theme in themes
            ],
            "updates_written": [
                {
                    "theme_id": update.theme_id,
                    "status": update.status,
                    "text": update.text,
                    "at": update.created_at,
                }
                for update in updates
            ],
        }

    async def erase_named_texts(self, member_id: int, erased: Callable[[], str]) -> int:
        """Replace the text, the won't-do reason and the whole thread of a member's named items by
        ``erased()`` (a sealed placeholder); the items stay, so counts per status and category hold."""
        items = (
            await self.session.scalars(select(FeedbackItem).where(FeedbackItem.giver_member_id == member_id))
        ).all()
        for item in items:
            item.text_sealed = erased()
            item.reason_sealed = erased() if item.reason_sealed else None
        if items:
            messages = await self.session.scalars(
                select(FeedbackMessage).where(FeedbackMessage.item_id.in_([item.id for item in items]))
            )
            for message in messages:
                message.text_sealed = erased()
        await self.session.flush()
        return len(items)

    async def relayed_items(self) -> Sequence[FeedbackItem]:
        """Every item with a giver mapping (only the relay may open them)."""
        statement = select(FeedbackItem).where(FeedbackItem.relay_blob.is_not(None)).order_by(FeedbackItem.id)
        return (await self.session.scalars(statement)).all()

    async def forget_closed_before(self, cutoff: datetime) -> int:
        """Delete items closed (done / won't do) before ``cutoff``, with their threads."""
        closed = [status.value for status in FeedbackStatus if status.closed]
        old = select(FeedbackItem.id).where(FeedbackItem.status.in_(closed), FeedbackItem.closed_at < cutoff)
        await self.session.execute(delete(FeedbackMessage).where(FeedbackMessage.item_id.in_(old)))
        result = await self.session.execute(
            delete(FeedbackItem).where(FeedbackItem.status.in_(closed), FeedbackItem.closed_at < cutoff)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def forget_relay_rows_before(self, cutoff: datetime) -> int:
        """Delete relay queue rows left over from before ``cutoff`` (normally worked within minutes)."""
        result = await self.session.execute(
            delete(FeedbackRelayQueue).where(FeedbackRelayQueue.created_at < cutoff)
        )
        return int(getattr(result, "rowcount", 0) or 0)
