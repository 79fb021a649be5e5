"""The audit log: who did or read what. The dashboard's audit page (`bot.dashboard.pages_audit`) and
``klantpet privacy audit`` filter it by actor, action and date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        actor_member_id: int | None,
        action: str,
        subject: str | None = None,
        *,
        at: datetime | None = None,
        **detail: Any,
    ) -> None:
        self.session.add(
            AuditEntry(
                at=at or datetime.now(UTC),
                actor_member_id=actor_member_id,
                action=action,
                subject=subject,
                detail=detail,
            )
        )

    async def latest(self, limit: int = 100) -> Sequence[AuditEntry]:
        statement = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        return (await self.session.scalars(statement)).all()

    async def search(
        self,
        *,
        actor_member_id: int | None = None,
        system: bool = False,
        action: str | None = None,
        subject: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Sequence[AuditEntry]:
        """*Dashboard*: entries newest first, filtered by every given criterion.

        ``actor_member_id``: done by that member; ``system``: done by nobody (jobs, the command line).
        ``action``: exactly that action, or every action under a prefix ending in a dot (``"feedback."``).
        ``since``/``until``: the half-open window [since, until).
        """
        statement = select(AuditEntry)
        if actor_member_id is not None:
            statement = statement.where(AuditEntry.actor_member_id == actor_member_id)
        elif system:
            statement = statement.where(AuditEntry.actor_member_id.is_(None))
        if action:
            statement = statement.where(
                AuditEntry.action.startswith(action, autoescape=True)
                if action.endswith(".")
                else AuditEntry.action == action
            )
        if subject is not None:
            statement = statement.where(AuditEntry.subject == subject)
        if since is not None:
            statement = statement.where(AuditEntry.at >= since)
        if until is not None:
            statement = statement.where(AuditEntry.at < until)
        statement = statement.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset(offset).limit(limit)
        return (await self.session.scalars(statement)).all()

    async def actions(self) -> list[str]:
        """*Dashboard*: every action in the log, for a filter's choices."""
        statement = select(AuditEntry.action).distinct().order_by(AuditEntry.action)
        return list((await self.session.scalars(statement)).all())

    async def actors(self) -> list[int]:
        """*Dashboard*: every member who did something on record, for a filter's choices."""
        statement = (
            select(AuditEntry.actor_member_id)
            .where(AuditEntry.actor_member_id.is_not(None))
            .distinct()
            .order_by(AuditEntry.actor_member_id)
        )
        return [member_id for member_id in await self.session.scalars(statement) if member_id is not None]

    async def export_for_member(self, member_id: int) -> list[dict[str, Any]]:
        """Entries the member did, and entries about them (subject ``member:<id>``), oldest first."""
        statement = (
            select(AuditEntry)
            .where(or_(AuditEntry.actor_member_id == member_id, AuditEntry.subject == f"member:{member_id}"))
            .order_by(AuditEntry.id)
        )
        return [
            {
                "at": entry.at,
                "by_you": entry.actor_member_id == member_id,
                "action": entry.action,
                "subject": entry.subject,
                "detail": entry.detail,
            }
            for entry in await self.session.scalars(statement)
        ]

    async def forget_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)
