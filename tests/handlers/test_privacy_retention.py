"""The daily retention job: every rule deletes exactly what is older than its period, and nothing newer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.app import Services
from bot.clock import ManualClock
from storage.models import AuditEntry
from storage.models.feedback import (
    FeedbackDraft,
    FeedbackItem,
    FeedbackMessage,
    FeedbackRelayQueue,
    FeedbackStatus,
)
from storage.models.pulses import (
    PulseComment,
    PulseGroupStat,
    PulseInvitation,
    PulseParticipation,
    PulseRound,
)
from storage.models.telegram import TelegramFormSession, TelegramInvite
from storage.repositories import Repos

RUN = datetime(2029, 12, 3, 3, 0, tzinfo=UTC)  # half an hour after the daily job's 03:30 (Amsterdam)
DAY = timedelta(days=1)


def pulse_round(name: str, status: str, opened: datetime, closed: datetime | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "status": status,
        "audience": {"kind": "everyone", "ids": [], "names": []},
        "question_ids": ["enps", "open-improve"],
        "timezone": "Europe/Amsterdam",
        "opens_at": opened,
        "closes_at": closed or RUN + 2 * DAY,
        "opened_at": opened,
        "closed_at": closed,
        "created_at": opened,
    }


async def seed(services: Services) -> dict[str, int]:
    """Rows on both sides of each rule's cut-off; returns the ids the assertions need."""
    async with services.database.transaction() as session:
        repos = Repos(session)
        anna = await repos.members.create("Anna", now=RUN - 1000 * DAY)
        ids: dict[str, int] = {"anna": anna.id}
        for name, closed_days_ago in (("old_closed", 731), ("recent_closed", 729), ("open", None)):
            item = await repos.feedback.add_item(
                text_sealed="sealed",
                category="other",
                mode="named",
                source="chat",
                created_at=RUN - 1000 * DAY,
                giver_member_id=anna.id,
            )
            await repos.feedback.add_message(item, author="staff", text_sealed="sealed", at=RUN - 900 * DAY)
            if closed_days_ago is not None:
                item.status = FeedbackStatus.done.value
                item.closed_at = RUN - closed_days_ago * DAY
            ids[name] = item.id
        for days in (8, 6):
            await repos.feedback.enqueue_relay("in", "sealed", RUN - days * DAY)
        for token, days in (("old", 3), ("new", 1)):
            await repos.feedback.add_draft(token, "sealed", RUN - days * DAY)

        comments_old = await repos.pulses.add_round(
            **pulse_round("a", "closed", RUN - 400 * DAY, RUN - 366 * DAY)
        )
        comments_new = await repos.pulses.add_round(
            **pulse_round("b", "closed", RUN - 400 * DAY, RUN - 364 * DAY)
        )
        for found in (comments_old, comments_new):
            await repos.pulses.add_comments(found.id, "open-improve", ["Meer tijd", "Minder regels"])
        leftover = await repos.pulses.add_round(
            **pulse_round("c", "cancelled", RUN - 30 * DAY, RUN - 20 * DAY)
        )
        too_long = await repos.pulses.add_round(**pulse_round("d", "open", RUN - 181 * DAY))
        running = await repos.pulses.add_round(**pulse_round("e", "open", RUN - 179 * DAY))
        for found in (leftover, too_long, running):
            await repos.pulses.invite(found.id, [(anna.id, None)])
            await repos.pulses.create_tallies(found.id, {"enps": range(11)}, [])
            assert await repos.pulses.record_answer(found.id, anna.id, "enps", 8, None)
        ids.update(too_long=too_long.id, running=running.id, leftover=leftover.id)

        telegram = repos.telegram
        for days_ago, used in ((31, True), (29, True), (31, False), (-1, False)):
            await telegram.create_invite(anna.id, RUN - (days_ago + 7) * DAY, timedelta(days=7))
            if used:
                invite = (
                    await session.scalars(select(TelegramInvite).order_by(TelegramInvite.id.desc()))
                ).first()
                assert invite is not None
                invite.used_at = RUN - days_ago * DAY
        for chat_id, age in (("1", timedelta(days=2)), ("2", timedelta(hours=1))):
            await telegram.start_form(
                chat_id=chat_id,
                user_id="9",
                member_id=anna.id,
                token="t",
                form={},
                origin={},
                message_ref=None,
                now=RUN - age,
            )
    return ids


async def count(services: Services, model: Any, *where: Any) -> int:
    async with services.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_each_rule_deletes_exactly_what_is_older_than_its_period(
    services: Services, clock: ManualClock
) -> None:
    ids = await seed(services)
    clock.set(RUN)
    assert await services.scheduler.run_due() >= 1

    async with services.database.transaction() as session:
        items = set((await session.scalars(select(FeedbackItem.id))).all())
        [entry] = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.retention"))
        ).all()
        rounds = {r.id: r for r in (await session.scalars(select(PulseRound))).all()}
    assert items == {ids["recent_closed"], ids["open"]}, "closed more than 730 days ago: gone with its thread"
    assert await count(services, FeedbackMessage) == 2
    assert await count(services, FeedbackRelayQueue) == 1 and await count(services, FeedbackDraft) == 1
    assert await count(services, PulseComment) == 2, "the round closed 364 days ago keeps its comments"
    assert rounds[ids["too_long"]].status == "closed", "open longer than the participation period"
    assert rounds[ids["running"]].status == "open"
    for model in (PulseParticipation, PulseInvitation):
        assert await count(services, model) == 1
        assert await count(services, model, model.round_id == ids["running"]) == 1
    assert await count(services, PulseGroupStat, PulseGroupStat.round_id == ids["too_long"]) == 1
    assert await count(services, TelegramInvite) == 2, "used or expired more than 30 days ago: gone"
    assert await count(services, TelegramInvite, TelegramInvite.used_at.is_(None)) == 1
    assert await count(services, TelegramFormSession) == 1
    assert {
        key: entry.detail["removed"][key]
        for key in (
            "feedback_closed",
            "feedback_relay_queue",
            "feedback_drafts",
            "pulse_rounds_closed",
            "pulse_participation",
            "pulse_comments",
            "telegram_invites",
            "telegram_forms",
        )
    } == {
        "feedback_closed": 1,
        "feedback_relay_queue": 1,
        "feedback_drafts": 1,
        "pulse_rounds_closed": 1,
        "pulse_participation": 2,
        "pulse_comments": 2,
        "telegram_invites": 2,
        "telegram_forms": 1,
    }

    clock.advance(DAY)
    await services.scheduler.run_due()
    assert await count(services, FeedbackItem) == 2 and await count(services, PulseComment) == 2, "idempotent"
