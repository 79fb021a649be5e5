"""The register's weekly rhythm as dialogues: owner reminders, escalation after N weeks (once), and the
digest — also in a quiet week, and also before any conflict was ever reported."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.app import Services
from bot.clock import ManualClock
from bot.config import Settings
from handlers import ritual_schedule as timing
from storage.models import Role
from storage.repositories import Repos
from tests.conftest import make_settings
from tests.handlers.ritual_dialogue import (
    CX_TEAM,
    add_meeting,
    at,
    heading,
    local,
    openings,
    report,
    said,
    team,
    wearer,
)
from tests.harness import Chat

MONDAY = date(2026, 11, 23)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, silo_mt_channel="mt", silo_escalation_weeks=4)


async def test_owner_is_reminded_weekly_and_it_escalates_after_four_weeks(
    chat: Chat, clock: ManualClock
) -> None:
    people = await team(chat)
    karin = await chat.member("Karin de Jong", department="Directie")
    mt = await chat.channel("mt", [karin])
    await add_meeting(people.bram)
    clock.set(local(MONDAY, 8, 30))
    await report(chat, clock, people, "Klantenservice", "Logistiek", people.hanna)

    for week in (1, 2, 3):
        await at(chat, clock, local(MONDAY + timedelta(weeks=week), 9, 1))
        assert len(await people.hanna.replies_with("ritual.reminder")) == week
        assert await people.chloe.replies_with("ritual.escalation") == []
    await at(chat, clock, local(MONDAY + timedelta(weeks=4), 9, 1))
    [escalation] = await people.chloe.replies_with("ritual.escalation")
    assert "Klantenservice ↔ Logistiek" in escalation.text and "Hanna Bos" in escalation.text
    assert len(await karin.replies_with("ritual.escalation", mt)) == 1
    assert len(await people.hanna.replies_with("ritual.escalated_owner")) == 1
    assert chat.t("nl", "ritual.status.escalated") in await said(people.anna, "silo 1")

    reminder = (await people.hanna.replies_with("ritual.reminder"))[-1]
    await people.hanna.clicks(
        chat.t("nl", "ritual.button_status", id=1, status=chat.t("nl", "ritual.status.resolved")), reminder
    )
    await at(chat, clock, local(MONDAY + timedelta(weeks=5), 9, 1))
    assert len(await people.chloe.replies_with("ritual.escalation")) == 1
    assert len(await people.hanna.replies_with("ritual.reminder")) == 4, "no reminder once resolved"


async def test_weekly_digest_lists_new_aging_and_resolved_conflicts_and_pairs(
    chat: Chat, clock: ManualClock
) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    await report(chat, clock, people, "Klantenservice", "Logistiek", people.hanna)
    await report(chat, clock, people, "Sales", "Finance", people.fatima)
    await report(chat, clock, people, "Logistiek", "Klantenservice", people.bram)
    await people.fatima.says("silo 2 status opgelost")

    await at(chat, clock, local(MONDAY, 9, 31))  # the digest covers the week before 09:30 on Monday
    [digest] = await people.chloe.replies_with("ritual.digest_title", CX_TEAM)
    text = digest.text
    new = text.index(heading(chat, "ritual.digest_new"))
    resolved = text.index(heading(chat, "ritual.digest_resolved"))
    pairs = text.index(heading(chat, "ritual.digest_pairs"))
    assert "#1" in text[new:resolved] and "#2" in text[new:resolved] and "#3" in text[new:resolved]
    assert "#2" in text[resolved:pairs] and "#1" not in text[resolved:pairs]
    assert "Klantenservice ↔ Logistiek: 2×" in text[pairs:]
    assert heading(chat, "ritual.digest_aging") not in text

    await at(chat, clock, local(MONDAY + timedelta(weeks=3), 9, 31))
    latest = (await people.chloe.replies_with("ritual.digest_title", CX_TEAM))[-1].text
    assert heading(chat, "ritual.digest_new") not in latest
    aging = latest[latest.index(heading(chat, "ritual.digest_aging")) :]
    assert "#1" in aging and "#3" in aging and "#2" not in aging


async def test_a_conflict_set_back_to_open_is_not_escalated_again(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    clock.set(local(MONDAY, 8, 30))
    await report(chat, clock, people, "Klantenservice", "Logistiek", people.hanna)
    for week in range(1, 10):
        await at(chat, clock, local(MONDAY + timedelta(weeks=week), 9, 1))
        if week == 4:
            assert len(await people.chloe.replies_with("ritual.escalation")) == 1
            await people.chloe.says("silo 1 status open")  # the CX manager takes it on from here
            assert (await people.chloe.last_reply()).key == "ritual.status_changed"

    assert chat.t("nl", "ritual.status.open") in await said(people.anna, "silo 1")
    assert len(await people.chloe.replies_with("ritual.escalation")) == 1
    assert len(await people.hanna.replies_with("ritual.escalated_owner")) == 1
    assert len(await people.hanna.replies_with("ritual.reminder")) == 9, "the owner is still reminded"


async def test_a_quiet_week_gets_its_digest_with_the_customer_moments(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    await add_meeting(people.bram)  # no conflict is ever reported
    await at(chat, clock, local(MONDAY, 9, 58))
    cap = wearer((await openings(people.anna))[0], people)
    await at(chat, clock, local(MONDAY, 10, 45))
    await cap.clicks(chat.t("nl", "ritual.button_no"))
    await cap.clicks(chat.t("nl", "ritual.button_moment"))
    moment = "Een klant belde om te bedanken voor de snelle retour."
    await cap.submits({"moment": moment})
    assert (await cap.last_reply()).key == "ritual.moment_saved"

    await at(chat, clock, local(MONDAY + timedelta(weeks=1), 9, 31))
    digest = (await people.chloe.replies_with("ritual.digest_title", CX_TEAM))[-1].text
    assert chat.t("nl", "ritual.digest_quiet") in digest
    assert moment in digest[digest.index(heading(chat, "ritual.digest_moments")) :]
    assert heading(chat, "ritual.digest_new") not in digest


async def test_the_weekly_jobs_are_set_up_at_start_for_existing_meetings(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    async with services.database.transaction() as session:  # a database from before the weekly jobs
        for kind in (timing.REMINDERS, timing.DIGEST):
            schedule = await Repos(session).schedules.by_ref(kind, "weekly")
            assert schedule is not None
            await session.delete(schedule)
    restarted = Services(services.settings, clock=clock)
    await restarted.start()
    await restarted.stop()

    await at(chat, clock, local(MONDAY + timedelta(weeks=1), 9, 31))
    [digest] = await people.chloe.replies_with("ritual.digest_title", CX_TEAM)
    assert chat.t("nl", "ritual.digest_quiet") in digest.text


async def test_an_unknown_digest_channel_is_logged(
    chat: Chat, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    bram = await chat.member("Bram Jansen", department="Klantenservice", roles=[Role.leader])
    await chat.channel("weekstart", [bram])  # no #cx-team: the digest has nowhere to go
    await add_meeting(bram)
    with caplog.at_level(logging.WARNING, logger="handlers.ritual_weekly"):
        await at(chat, clock, local(MONDAY, 9, 31))
    assert any("silo digest not posted" in record.getMessage() for record in caplog.records)
