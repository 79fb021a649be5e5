"""Dashboard sessions, passwords and failed sign-in attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.dashboard import DashboardPassword, DashboardSession, LoginFailure


class DashboardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_session(self, token_hash: str, member_id: int, csrf_token: str, now: datetime) -> None:
        self.session.add(
            DashboardSession(
                token_hash=token_hash,
                member_id=member_id,
                csrf_token=csrf_token,
                created_at=now,
                last_seen_at=now,
            )
        )
        await self.session.flush()

    async def session_for(self, token_hash: str) -> DashboardSession | None:
        return await self.session.get(DashboardSession, token_hash)

    async def close_session(self, token_hash: str) -> None:
        await self.session.execute(delete(DashboardSession).where(DashboardSession.token_hash == token_hash))

    async def close_sessions_of(self, member_id: int) -> None:
        await self.session.execute(delete(DashboardSession).where(DashboardSession.member_id == member_id))

    async def forget_sessions_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(DashboardSession).where(DashboardSession.created_at < cutoff)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def password_for_login(self, login: str) -> DashboardPassword | None:
        statement = select(DashboardPassword).where(func.lower(DashboardPassword.login) == login.lower())
        return (await self.session.scalars(statement)).first()

    async def set_password(self, member_id: int, login: str, password_hash: str, now: datetime) -> None:
        existing = await self.session.get(DashboardPassword, member_id)
        if existing is None:
            self.session.add(
                DashboardPassword(member_id=member_id, login=login, password_hash=password_hash, set_at=now)
            )
        else:
            existing.login, existing.password_hash, existing.set_at = login, password_hash, now
        await self.session.flush()

    async def record_failure(self, login_hash: str, now: datetime) -> None:
        self.session.add(LoginFailure(login_hash=login_hash, at=now))

    async def failures_since(self, login_hash: str, since: datetime) -> int:
        statement = select(func.count()).where(
            LoginFailure.login_hash == login_hash, LoginFailure.at >= since
        )
        return int(await self.session.scalar(statement) or 0)

    async def forget_failures_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(delete(LoginFailure).where(LoginFailure.at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)

    async def export_for_member(self, member_id: int) -> dict[str, Any]:
        """The member's password-fallback login (never the hash) and their open sessions' times."""
        password = await self.session.get(DashboardPassword, member_id)
        sessions = await self.session.scalars(
            select(DashboardSession)
            .where(DashboardSession.member_id == member_id)
            .order_by(DashboardSession.created_at)
        )
        return {
            "password_login": (
                {"login": password.login, "set_at": password.set_at} if password is not None else None
            ),
            "sessions": [
                {"signed_in_at": found.created_at, "last_seen_at": found.last_seen_at} for found in sessions
            ],
        }

    async def forget_member(self, member_id: int) -> None:
        """Sign the member out everywhere and remove their dashboard password."""
        await self.close_sessions_of(member_id)
        await self.session.execute(delete(DashboardPassword).where(DashboardPassword.member_id == member_id))
