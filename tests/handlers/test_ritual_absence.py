"""Absences as dialogues: said ahead and taken back, a day in the past refused, and the only one there
saying they are away."""

from __future__ import annotations

from datetime import date

from bot.clock import ManualClock
from storage.repositories import Repos
from tests.handlers.ritual_dialogue import WEEKSTART, add_meeting, at, local, openings, team, wearer
from tests.harness import Chat

MONDAY = date(2026, 11, 23)


async def _absent_ids(chat: Chat, day: date) -> set[int]:
    async with chat.services.database.transaction() as session:
        repos = Repos(session)
        [meeting] = await repos.ritual.meetings()
        return await repos.ritual.absent_ids(meeting.id, day)


async def test_absence_is_said_ahead_taken_back_and_never_in_the_past(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    outcome = await people.anna.says("afwezig 2020-01-01")
    assert outcome.error is not None and outcome.error.key == "ritual.error.past_date"
    outcome = await people.anna.says("afwezig 22-11")  # yesterday without a year: next year's 22 November
    assert outcome.error is None
    outcome = await people.anna.says("afwezig gisteren")
    assert outcome.error is not None and outcome.error.key == "ritual.error.bad_date"
    assert await _absent_ids(chat, date(2020, 1, 1)) == set()
    assert await _absent_ids(chat, date(2027, 11, 22)) == {people.anna.member.id}

    everyone_but_daan = [person for person in people.participants if person is not people.daan]
    for person in everyone_but_daan:
        await person.says("klantpet afwezig maandag", where=WEEKSTART)
        assert (await person.last_reply(WEEKSTART)).key == "ritual.absent_noted"
    await people.anna.says("aanwezig maandag")
    assert (await people.anna.last_reply()).key == "ritual.present_noted"
    assert await _absent_ids(chat, MONDAY) == {p.member.id for p in everyone_but_daan} - {
        people.anna.member.id
    }

    await at(chat, clock, local(MONDAY, 9, 58))
    assert wearer((await openings(people.anna))[0], people) in (people.anna, people.daan)
    outcome = await people.anna.says("aanwezig 2020-01-01")
    assert outcome.error is not None and outcome.error.key == "ritual.error.past_date"


async def test_the_only_one_there_who_says_they_are_away_hears_that_nobody_is_left(
    chat: Chat, clock: ManualClock
) -> None:
    people = await team(chat)
    await add_meeting(people.bram, participants="Anna de Vries")
    await at(chat, clock, local(MONDAY, 9, 58))
    [opening] = await openings(people.anna)
    assert wearer(opening, people) is people.anna
    await people.anna.clicks(chat.t("nl", "ritual.button_absent"), opening)
    told = await people.anna.last_reply(WEEKSTART)
    assert told.key == "ritual.absent_nobody_left" and told.private
    assert len(await people.anna.replies_with("ritual.passed_absent", WEEKSTART)) == 0
