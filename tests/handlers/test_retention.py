"""The daily retention job removes what is older than the settings allow, and nothing newer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import Response
from sqlalchemy import func, select

from bot.app import Services
from bot.clock import ManualClock
from bot.dashboard.auth import DashboardAuth
from bot.messages import Message
from storage.models import AuditEntry, Delivery, ProcessedEvent, Role, WebMessage
from storage.models.dashboard import DashboardSession, LoginFailure
from storage.repositories import Repos
from tests.harness import Chat


async def counts(services: Services) -> tuple[int, int, int, int]:
    async with services.database.transaction() as session:
        events = await session.scalar(select(func.count()).select_from(ProcessedEvent))
        sent = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == "sent")
        )
        pending = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == "pending")
        )
        audit = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action != "privacy.retention")
        )
    return int(events or 0), int(sent or 0), int(pending or 0), int(audit or 0)


async def test_retention_runs_daily_and_keeps_recent_and_pending_data(
    services: Services, clock: ManualClock
) -> None:
    async with services.database.transaction() as session:
        repos = Repos(session)
        assert await repos.schedules.by_ref("privacy.retention", "daily") is not None, "scheduled at start"
        await repos.events.first_time("web", "old-event", clock.now())
        for key, status in (("old-sent", "sent"), ("old-pending", "pending")):
            await services.outbox.enqueue(
                session,
                key=key,
                topic="t",
                platform="nowhere",
                target="x",
                message=Message.text("x"),
                locale="nl",
            )
            delivery = await repos.deliveries.by_key(key)
            assert delivery is not None
            delivery.status = status
    clock.advance(timedelta(days=100))
    async with services.database.transaction() as session:
        await Repos(session).events.first_time("web", "new-event", clock.now())
    assert (await counts(services))[:3] == (2, 1, 1)
    clock.advance(timedelta(days=1))
    assert await services.scheduler.run_due() == 1
    events, sent, pending, _ = await counts(services)
    assert (events, sent, pending) == (1, 0, 1), "old event ids and sent messages go; pending messages never"


async def test_web_chat_audit_log_and_dashboard_sign_ins_are_kept_only_as_long_as_allowed(
    chat: Chat, clock: ManualClock
) -> None:
    """Web chat messages a year, the audit log two years, sessions 12 hours, failed sign-ins a day."""
    services = chat.services
    auth = DashboardAuth(services)
    lars = await chat.member("Lars Hendriks", roles=[Role.admin])
    anna = await chat.member("Anna de Vries")
    first = clock.now()

    async def moment(words: str) -> None:
        """Anna writes in the web chat, Lars does something on record, both use the dashboard."""
        await anna.says(words)
        await lars.says(f"role grant #{anna.member.id} leader")
        await auth.open(Response(), lars.member.id)
        assert await auth.check_password("iemand", "fout wachtwoord") is None

    await moment("Hallo, wat kun je?")
    clock.set(datetime(2027, 11, 25, 2, 0, tzinfo=UTC))  # a year and two days later, 03:00 in Amsterdam
    await moment("Nog een vraag")
    clock.advance(timedelta(minutes=45))  # the daily job's 03:30 has just passed
    assert await services.scheduler.run_due() >= 1
    kept = await remaining(services)
    assert kept["web"] and all(at > first for at in kept["web"]), "last year's chat is gone, today's stays"
    assert min(kept["audit"]) == first, "the audit log keeps two years"
    assert len(kept["sessions"]) == 1 and kept["sessions"][0] > first, "older than 12 hours goes"
    assert len(kept["failures"]) == 1 and kept["failures"][0] > first, "older than a day goes"

    clock.set(datetime(2028, 11, 25, 2, 45, tzinfo=UTC))  # two years and two days after the first
    assert await services.scheduler.run_due() >= 1
    kept = await remaining(services)
    assert kept["audit"] and min(kept["audit"]) > first + timedelta(days=365), "two-year-old entries go"
    assert kept["sessions"] == [] and kept["failures"] == []


async def remaining(services: Services) -> dict[str, list[datetime]]:
    """When each kept row was made (audit: every entry but the retention job's own)."""
    async with services.database.transaction() as session:
        return {
            "web": list(await session.scalars(select(WebMessage.created_at))),
            "audit": list(
                await session.scalars(select(AuditEntry.at).where(AuditEntry.action != "privacy.retention"))
            ),
            "sessions": list(await session.scalars(select(DashboardSession.created_at))),
            "failures": list(await session.scalars(select(LoginFailure.at))),
        }
