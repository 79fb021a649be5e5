"""Feedback items, threads, themes, updates and drafts (texts arrive sealed).

The repository never sees a key: it stores and returns sealed texts and the sealed relay blob as they are.
Functions marked *dashboard* are the read side the CX dashboard draws from. The relay's rows are in
`storage.repositories.feedback_relay`, privacy and retention in `storage.repositories.feedback_privacy`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.feedback import (
    OPEN_STATUSES,
    FeedbackDraft,
    FeedbackItem,
    FeedbackMessage,
    FeedbackStatus,
    FeedbackTheme,
    FeedbackThemeUpdate,
)
from storage.repositories.feedback_privacy import FeedbackPrivacyRows
from storage.repositories.feedback_relay import FeedbackRelayRows

OPEN_VALUES = tuple(status.value for status in OPEN_STATUSES)


class FeedbackRepository(FeedbackRelayRows, FeedbackPrivacyRows):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- Items -----------------------------------------------------------------------------------
    async def add_item(
        self,
        *,
        text_sealed: str,
        category: str,
        mode: str,
        source: str,
        created_at: datetime,
        giver_member_id: int | None = None,
        relay_blob: str | None = None,
    ) -> FeedbackItem:
        item = FeedbackItem(
            status=FeedbackStatus.new.value,
            category=category,
            mode=mode,
            source=source,
            text_sealed=text_sealed,
            giver_member_id=giver_member_id,
            relay_blob=relay_blob,
            created_at=created_at,
            waiting_since=created_at,
            status_changed_at=created_at,
            sla_stage=0,
        )
        self.session.add(item)
        await self.session.flush()
        return item

    async def item(self, item_id: int) -> FeedbackItem | None:
        return await self.session.get(FeedbackItem, item_id)

    async def inbox(
        self,
        statuses: Iterable[str] = OPEN_VALUES,
        *,
        owner_member_id: int | None = None,
        theme_id: int | None = None,
        limit: int = 50,
    ) -> Sequence[FeedbackItem]:
        """*Dashboard*: items in these statuses, oldest first (optionally one owner's or one theme's)."""
        statement = select(FeedbackItem).where(FeedbackItem.status.in_(list(statuses)))
        if owner_member_id is not None:
            statement = statement.where(FeedbackItem.owner_member_id == owner_member_id)
        if theme_id is not None:
            statement = statement.where(FeedbackItem.theme_id == theme_id)
        statement = statement.order_by(FeedbackItem.created_at, FeedbackItem.id).limit(limit)
        return (await self.session.scalars(statement)).all()

    async def of_giver(self, member_id: int, limit: int = 20) -> Sequence[FeedbackItem]:
        """A member's own *named* items, newest first (anonymous ones are nobody's)."""
        statement = (
            select(FeedbackItem)
            .where(FeedbackItem.giver_member_id == member_id)
            .order_by(FeedbackItem.id.desc())
            .limit(limit)
        )
        return (await self.session.scalars(statement)).all()

    async def waiting(self) -> Sequence[FeedbackItem]:
        """Open items whose giver waits for an answer (the SLA candidates), oldest first."""
        statement = (
            select(FeedbackItem)
            .where(
                FeedbackItem.status.in_(list(OPEN_VALUES)),
                FeedbackItem.waiting_since.is_not(None),
            )
            .order_by(FeedbackItem.waiting_since, FeedbackItem.id)
        )
        return (await self.session.scalars(statement)).all()

    async def counts_by_status(self) -> dict[str, int]:
        """*Dashboard*: how many items are in each status."""
        statement = select(FeedbackItem.status, func.count()).group_by(FeedbackItem.status)
        return {status: int(count) for status, count in (await self.session.execute(statement)).all()}

    async def counts_by_category(self, since: datetime | None = None) -> dict[str, int]:
        """*Dashboard*: items per category (received since ``since``)."""
        statement = select(FeedbackItem.category, func.count()).group_by(FeedbackItem.category)
        if since is not None:
            statement = statement.where(FeedbackItem.created_at >= since)
        return {category: int(count) for category, count in (await self.session.execute(statement)).all()}

    async def received_between(self, start: datetime, end: datetime) -> int:
        statement = select(func.count()).where(
            FeedbackItem.created_at >= start, FeedbackItem.created_at < end
        )
        return int(await self.session.scalar(statement) or 0)

    async def closed_between(self, start: datetime, end: datetime) -> dict[str, int]:
        """*Dashboard*: items closed in [start, end), by status (done / wont_do)."""
        statement = (
            select(FeedbackItem.status, func.count())
            .where(FeedbackItem.closed_at >= start, FeedbackItem.closed_at < end)
            .group_by(FeedbackItem.status)
        )
        return {status: int(count) for status, count in (await self.session.execute(statement)).all()}

    # --- Threads ---------------------------------------------------------------------------------
    async def add_message(
        self, item: FeedbackItem, *, author: str, text_sealed: str, at: datetime, member_id: int | None = None
    ) -> FeedbackMessage:
        message = FeedbackMessage(
            item_id=item.id, author=author, author_member_id=member_id, text_sealed=text_sealed, created_at=at
        )
        self.session.add(message)
        await self.session.flush()
        return message

    async def thread(self, item_id: int) -> Sequence[FeedbackMessage]:
        statement = (
            select(FeedbackMessage).where(FeedbackMessage.item_id == item_id).order_by(FeedbackMessage.id)
        )
        return (await self.session.scalars(statement)).all()

    # --- Themes ----------------------------------------------------------------------------------
    async def add_theme(self, title: str, owner_member_id: int | None, now: datetime) -> FeedbackTheme:
        theme = FeedbackTheme(
            title=title,
            status=FeedbackStatus.acknowledged.value,
            owner_member_id=owner_member_id,
            created_at=now,
            updated_at=now,
        )
        self.session.add(theme)
        await self.session.flush()
        return theme

    async def theme(self, theme_id: int) -> FeedbackTheme | None:
        return await self.session.get(FeedbackTheme, theme_id)

    async def themes(self, statuses: Iterable[str] | None = None) -> Sequence[FeedbackTheme]:
        """*Dashboard*: themes, newest first."""
        statement = select(FeedbackTheme).order_by(FeedbackTheme.id.desc())
        if statuses is not None:
            statement = statement.where(FeedbackTheme.status.in_(list(statuses)))
        return (await self.session.scalars(statement)).all()

    async def theme_sizes(self) -> dict[int, int]:
        """*Dashboard*: how many items each theme holds."""
        statement = (
            select(FeedbackItem.theme_id, func.count())
            .where(FeedbackItem.theme_id.is_not(None))
            .group_by(FeedbackItem.theme_id)
        )
        rows = (await self.session.execute(statement)).all()
        return {int(theme_id): int(count) for theme_id, count in rows if theme_id is not None}

    async def add_update(
        self,
        theme: FeedbackTheme,
        *,
        status: str,
        text: str,
        author_member_id: int | None,
        channel_id: int | None,
        now: datetime,
    ) -> FeedbackThemeUpdate:
        update = FeedbackThemeUpdate(
            theme_id=theme.id,
            status=status,
            text=text,
            author_member_id=author_member_id,
            channel_id=channel_id,
            contributors=0,
            unreachable=0,
            created_at=now,
        )
        self.session.add(update)
        await self.session.flush()
        return update

    async def updates_between(self, start: datetime, end: datetime) -> Sequence[FeedbackThemeUpdate]:
        """*Dashboard*: "you said, we did" updates written in [start, end), oldest first."""
        statement = (
            select(FeedbackThemeUpdate)
            .where(FeedbackThemeUpdate.created_at >= start, FeedbackThemeUpdate.created_at < end)
            .order_by(FeedbackThemeUpdate.id)
        )
        return (await self.session.scalars(statement)).all()

    # --- Drafts ----------------------------------------------------------------------------------
    async def add_draft(self, token: str, text_sealed: str, day: datetime) -> None:
        self.session.add(FeedbackDraft(token=token, text_sealed=text_sealed, created_at=day))
        await self.session.flush()

    async def take_draft(self, token: str) -> str | None:
        """The draft's sealed text, removed; None when it was used (or dropped) already."""
        draft = await self.session.get(FeedbackDraft, token)
        if draft is None:
            return None
        sealed = draft.text_sealed
        await self.session.delete(draft)
        await self.session.flush()
        return sealed

    async def has_draft(self, token: str) -> bool:
        return await self.session.get(FeedbackDraft, token) is not None

    async def drop_drafts(self, before: datetime) -> int:
        result = await self.session.execute(delete(FeedbackDraft).where(FeedbackDraft.created_at < before))
        return int(getattr(result, "rowcount", 0) or 0)

    # --- Visibility helpers ----------------------------------------------------------------------
    async def owned_or_given(self, member_id: int, limit: int = 30) -> Sequence[FeedbackItem]:
        """Open items a member owns, and their own named items."""
        statement = (
            select(FeedbackItem)
            .where(
                or_(FeedbackItem.owner_member_id == member_id, FeedbackItem.giver_member_id == member_id),
                FeedbackItem.status.in_(list(OPEN_VALUES)),
            )
            .order_by(FeedbackItem.created_at, FeedbackItem.id)
            .limit(limit)
        )
        return (await self.session.scalars(statement)).all()
