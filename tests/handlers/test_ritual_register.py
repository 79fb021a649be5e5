"""The silo-conflict register as dialogues: status changes, the register's filters, the silo map (and its
matrix for the dashboard) and the ritual's measures. The weekly rhythm is in test_ritual_weekly.py."""

from __future__ import annotations

from datetime import date, timedelta

from bot.clock import ManualClock
from handlers.ritual import ritual_stats
from storage.repositories import Repos
from tests.handlers.ritual_dialogue import (
    WEEKSTART,
    add_meeting,
    at,
    local,
    openings,
    report,
    said,
    team,
    wearer,
)
from tests.harness import Chat

MONDAY = date(2026, 11, 23)


async def test_owner_or_cx_manager_changes_a_status(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    await report(chat, clock, people, "Klantenservice", "Logistiek", people.hanna)

    outcome = await people.anna.says("silo 1 status opgelost")
    assert outcome.error is not None and outcome.error.key == "ritual.error.not_owner"
    assert chat.t("nl", "ritual.status.open") in await said(people.anna, "silo 1")
    outcome = await people.hanna.says("silo 1 status klaarrr")
    assert outcome.error is not None and outcome.error.key == "ritual.error.unknown_status"
    outcome = await people.hanna.says("silo 7 status opgelost")
    assert outcome.error is not None and outcome.error.key == "ritual.error.unknown_silo"

    await people.hanna.says("silo 1 status besproken")
    assert (await people.hanna.last_reply()).key == "ritual.status_changed"
    await people.chloe.says("silo 1 status resolved")
    assert chat.t("nl", "ritual.status.resolved") in await said(people.anna, "silo 1")
    assert chat.t("nl", "ritual.silos_none") in await said(people.anna, "silo's")
    assert "#1" in await said(people.anna, "silo's opgelost")


async def test_silo_map_counts_pairs_and_flags_recurring_ones(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    await report(chat, clock, people, "Klantenservice", "Logistiek", people.hanna)
    await report(chat, clock, people, "Logistiek", "Klantenservice", people.hanna)
    await report(chat, clock, people, "Sales", "Finance", people.fatima)
    assert await people.chloe.replies_with("ritual.recurring_alert") == []
    await report(chat, clock, people, "Klantenservice", "Logistiek", people.bram)
    assert len(await people.chloe.replies_with("ritual.recurring_alert")) == 1

    async with chat.services.database.transaction() as session:
        matrix = await Repos(session).ritual.matrix()
    assert matrix.departments == ["Finance", "Klantenservice", "Logistiek", "Sales"]
    assert matrix.count("Klantenservice", "Logistiek") == matrix.count("Logistiek", "Klantenservice") == 3
    assert matrix.count("Sales", "Finance") == 1
    assert matrix.count("Sales", "Logistiek") == 0 and matrix.total == 4

    table = await said(people.anna, "silo's kaart")
    assert "FIN = Finance" in table and "KLA = Klantenservice" in table
    rows = {row.split()[0]: row.split()[1:] for row in table.replace("\u2007", " ").splitlines()[2:6]}
    assert rows["KLA"] == ["·", "·", "3", "·"] and rows["FIN"] == ["·", "·", "·", "1"]
    listing = await said(people.anna, "silo's")
    assert chat.t("nl", "ritual.silos_recurring", pairs="Klantenservice ↔ Logistiek") in listing


async def test_the_register_filters_by_department_and_by_owner(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    await report(chat, clock, people, "Klantenservice", "Logistiek", people.hanna)
    await report(chat, clock, people, "Sales", "Finance", people.fatima)
    await report(chat, clock, people, "Marketing", "Sales", people.hanna)

    sales = await said(people.anna, "silo's --afdeling sales")
    assert "#2" in sales and "#3" in sales and "#1" not in sales
    mine = await said(people.hanna, "silo's --mijn")
    assert "#1" in mine and "#3" in mine and "#2" not in mine
    assert chat.t("nl", "ritual.silos_none") in await said(people.daan, "silo's --mijn")
    both = await said(people.fatima, "silo's alle --afdeling Sales --mijn")
    assert "#2" in both and "#3" not in both
    outcome = await people.anna.says("silo's --afdeling Inkoop")
    assert outcome.error is not None and outcome.error.key == "ritual.error.unknown_department_name"


async def test_ritual_stats_count_from_the_history_and_survive_removal(
    chat: Chat, clock: ManualClock
) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    await at(chat, clock, local(MONDAY, 10, 46))  # week 0: held, and the debrief answered "no"
    cap = wearer((await openings(people.anna))[0], people)
    await cap.clicks(chat.t("nl", "ritual.button_no"))
    await report(chat, clock, people, "Sales", "Finance", people.fatima)  # an ad-hoc ritual
    clock.advance(timedelta(days=3))
    await people.fatima.says("silo 1 status opgelost")  # resolved three days after it was reported
    await people.bram.says("vergaderingen ritueel 1 uit")  # off for week 1
    await at(chat, clock, local(MONDAY + timedelta(weeks=1), 11, 0))
    await people.bram.says("vergaderingen ritueel 1 aan")
    await at(chat, clock, local(MONDAY + timedelta(weeks=2), 11, 0))  # week 2: held, debrief unanswered
    assert len(await openings(people.anna)) == 3

    outcome = await people.anna.says("ritueel cijfers")
    assert outcome.error is not None and outcome.error.key == "error.not_allowed"
    await people.chloe.says("ritueel cijfers 4")
    reply = await people.chloe.last_reply()
    assert reply.key == "ritual.stats"
    assert "Rituelen gepland: 2 · gehouden: 3 (waarvan 1 los)" in reply.text, "week 1 was not scheduled"
    assert "Nabesprekingen verstuurd: 3 · ingevuld: 2" in reply.text
    assert "Mediane tijd tot oplossing: 3.0 dagen" in reply.text
    async with chat.services.database.transaction() as session:
        found = await ritual_stats(
            chat.services.job_context(session), clock.now() - timedelta(weeks=4), clock.now()
        )
    assert found.scheduled == 2 and found.measures.held == 3 and found.measures.held_ad_hoc == 1
    assert found.measures.conflicts_reported == 1 and found.measures.conflicts_resolved == 1
    assert found.measures.resolution_days_median == 3.0

    await people.bram.says("vergaderingen verwijder 1")
    assert (await people.bram.last_reply()).key == "ritual.meeting_removed"
    await people.anna.says("vergaderingen")
    assert (await people.anna.last_reply()).key == "ritual.meetings_none"
    outcome = await people.anna.says("pet", where=WEEKSTART)
    assert outcome.error is not None and outcome.error.key == "ritual.error.no_meeting_here"
    await at(chat, clock, local(MONDAY + timedelta(weeks=3), 11, 0))
    assert len(await openings(people.anna)) == 3, "no ritual after the meeting was removed"
    await people.chloe.says("ritueel cijfers 4")
    after = (await people.chloe.last_reply()).text
    assert "Rituelen gepland: 2 · gehouden: 3 (waarvan 1 los)" in after, "the history is kept"
    assert chat.t("nl", "ritual.status.resolved") in await said(people.anna, "silo 1")
