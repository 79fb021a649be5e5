"""The klantpet opening as dialogues: meetings set up in chat, the scheduled opening, a fair rotation that
skips absent people, passing the cap, and `pet` in a meeting channel."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

from bot.clock import ManualClock
from handlers.ritual_rotation import bank
from storage.models import Role
from tests.handlers.ritual_dialogue import (
    WEEKSTART,
    add_meeting,
    at,
    local,
    openings,
    questions,
    team,
    wearer,
)
from tests.harness import Chat, Seen

MONDAY = date(2026, 11, 23)


async def test_leader_sets_up_a_meeting_and_the_opening_comes_two_minutes_early(
    chat: Chat, clock: ManualClock
) -> None:
    people = await team(chat)
    saved = await add_meeting(people.bram)
    assert saved.key == "ritual.meeting_saved"
    assert "5" in saved.text and "maandag 23 november 10:00" in saved.text

    await at(chat, clock, local(MONDAY, 9, 57))
    assert await openings(people.anna) == []
    await at(chat, clock, local(MONDAY, 9, 58))
    [opening] = await openings(people.anna)
    assert wearer(opening, people) in people.participants
    asked = questions(opening)
    assert len(asked) == 3
    by_text = {question.nl: question.category for question in bank()}
    assert len({by_text[text] for text in asked}) == 3, "three questions from three categories"

    await at(chat, clock, local(MONDAY, 10, 1))
    assert len(await openings(people.anna)) == 1, "one opening per occurrence"


async def test_only_a_leader_or_cx_manager_sets_up_a_meeting(chat: Chat) -> None:
    people = await team(chat)
    outcome = await people.anna.says("klantpet vergaderingen nieuw", where=WEEKSTART)
    assert outcome.error is not None and outcome.error.key == "error.not_allowed"
    await people.anna.says("vergaderingen")
    assert (await people.anna.last_reply()).key == "ritual.meetings_none"


async def test_bad_meeting_form_comes_back_with_errors_and_stores_nothing(
    chat: Chat, clock: ManualClock
) -> None:
    people = await team(chat)
    await add_meeting(people.bram, days="maandagochtend", time="25:00", channel="nergens", duration="0")
    form = await people.bram.latest_form()
    assert form.key == "ritual.meeting_form.title"
    assert chat.t("nl", "ritual.error.unknown_channel", channel="nergens") in form.text
    assert chat.t("nl", "error.invalid_time", time="25:00") in form.text
    assert chat.t("nl", "ritual.error.minutes", low=5, high=480) in form.text
    await people.bram.says("vergaderingen")
    assert (await people.bram.last_reply()).key == "ritual.meetings_none"
    await at(chat, clock, local(MONDAY, 10, 0))
    assert await openings(people.anna) == []

    await people.bram.submits(
        {
            **{"name": "Weekstart", "channel": "weekstart", "days": "ma, wo", "time": "10:00"},
            "duration": "45",
        },
        form,
    )
    assert (await people.bram.last_reply(WEEKSTART)).key == "ritual.meeting_saved"


async def test_rotation_is_fair_over_twenty_meetings_and_skips_absent_people(
    chat: Chat, clock: ManualClock
) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    # Everyone is away twice (said ahead in a DM).
    away = {
        1: people.anna,
        2: people.bram,
        3: people.daan,
        5: people.fatima,
        6: people.hanna,
        9: people.anna,
        11: people.bram,
        12: people.daan,
        14: people.fatima,
        15: people.hanna,
    }
    for week, person in away.items():
        day = MONDAY + timedelta(weeks=week)
        await person.says(f"afwezig {day.isoformat()}")
        assert (await person.last_reply()).key == "ritual.absent_noted"

    wearers = []
    previous: list[str] = []
    for week in range(20):
        day = MONDAY + timedelta(weeks=week)
        await at(chat, clock, local(day, 9, 59))
        opening = (await openings(people.anna))[-1]
        cap = wearer(opening, people)
        if week == 7:  # the wearer turns out not to be there and clicks "not there": the cap moves on
            await cap.clicks(chat.t("nl", "ritual.button_absent"), opening)
            away[week] = cap
            cap = wearer(await people.anna.last_reply(WEEKSTART), people)
        assert cap is not away.get(week), f"week {week}: {cap.member.name} said they were away"
        asked = questions(opening)
        assert not set(asked) & set(previous), "never the same question twice in a row"
        previous = asked
        wearers.append(cap.member.name)
        await at(chat, clock, local(day, 10, 50))

    counts = Counter(wearers)
    assert len(wearers) == 20 and len(await openings(people.anna)) == 20
    assert set(counts) == {person.member.name for person in people.participants}
    assert max(counts.values()) - min(counts.values()) <= 1, counts


async def test_passing_the_cap_goes_to_the_next_fair_person(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    await at(chat, clock, local(MONDAY, 9, 58))
    [opening] = await openings(people.anna)
    first = wearer(opening, people)
    await first.clicks(chat.t("nl", "ritual.button_pass"), opening)
    passed = await people.anna.last_reply(WEEKSTART)
    assert passed.key == "ritual.passed"
    second = wearer(passed, people)
    assert second is not first

    bystander = next(person for person in people.participants if person not in (first, second))
    outcome = await bystander.clicks(chat.t("nl", "ritual.button_pass"), passed)
    assert outcome.error is not None and outcome.error.key == "ritual.error.not_your_cap"
    assert (await people.anna.last_reply(WEEKSTART)).id == passed.id, "the cap stays where it is"

    await second.clicks(chat.t("nl", "ritual.button_pass"), passed)
    third = wearer(await people.anna.last_reply(WEEKSTART), people)
    assert third not in (first, second)
    await chat.channel("weekstart", [people.chloe])
    await people.chloe.clicks(chat.t("nl", "ritual.button_pass"), passed)  # a CX manager may move it on
    fourth = wearer(await people.anna.last_reply(WEEKSTART), people)
    assert fourth not in (first, second, third)

    outsider = await chat.member("Gijs Mulder", department="Sales")
    await chat.channel("weekstart", [outsider])
    outcome = await outsider.clicks(chat.t("nl", "ritual.button_take"), opening)
    assert outcome.error is not None and outcome.error.key == "ritual.error.not_participant"
    await first.clicks(chat.t("nl", "ritual.button_take"), opening)
    taken = await people.anna.last_reply(WEEKSTART)
    assert taken.key == "ritual.taken" and wearer(taken, people) is first


async def test_pet_in_a_meeting_channel_opens_now_once(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    await add_meeting(people.bram, days="wo")  # not today: `pet` makes an ad-hoc occurrence
    await people.anna.says("pet", where=WEEKSTART)
    [opening] = await openings(people.anna)
    cap = wearer(opening, people)

    await people.daan.says("klantpet start", where=WEEKSTART)
    assert len(await openings(people.anna)) == 1, "a second `pet` shows the ritual that is going on"
    assert wearer(await people.daan.last_reply(WEEKSTART), people) is cap

    await people.anna.says("pet")
    assert (await people.anna.last_reply()).key == "ritual.error.pet_in_channel"
    elsewhere = await chat.channel("koffie", people.participants)
    outcome = await people.anna.says("pet", where=elsewhere)
    assert outcome.error is not None and outcome.error.key == "ritual.error.no_meeting_here"
    outcome = await people.anna.says("pet is een mooi woord", where=WEEKSTART)
    assert outcome.error is None and outcome.replies == [], "chat that merely starts with 'pet' is left alone"


async def test_changing_a_meeting_moves_its_ritual(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    await people.bram.says("vergaderingen wijzig 1")
    form = await people.bram.latest_form()
    assert form.key == "ritual.meeting_form.title" and 'value="10:00"' in form.html
    await people.bram.submits(
        {"name": "Weekstart", "channel": "weekstart", "days": "ma", "time": "11:00", "duration": "30"}, form
    )
    assert (await people.bram.last_reply()).key == "ritual.meeting_saved"
    await at(chat, clock, local(MONDAY, 10, 30))
    assert await openings(people.anna) == []
    await at(chat, clock, local(MONDAY, 10, 58))
    assert len(await openings(people.anna)) == 1

    outcome = await people.anna.says("vergaderingen ritueel 1 uit")
    assert outcome.error is not None and outcome.error.key == "error.not_allowed"
    await people.bram.says("vergaderingen ritueel 1 uit")
    assert (await people.bram.last_reply()).key == "ritual.meeting_toggled"
    await at(chat, clock, local(MONDAY + timedelta(weeks=1), 11, 0))
    assert len(await openings(people.anna)) == 1, "no ritual while it is off"
    await people.bram.says("vergaderingen ritueel 1 aan")
    await at(chat, clock, local(MONDAY + timedelta(weeks=2), 11, 0))
    assert len(await openings(people.anna)) == 2


def _bold_names(seen: Seen) -> set[str]:
    return set(re.findall(r"<b>([^<]+)</b>", seen.html))


async def test_a_newcomer_joins_the_rotation_level_instead_of_catching_up(
    chat: Chat, clock: ManualClock
) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    for week in range(10):  # five people, ten meetings: everyone wore the cap twice
        await at(chat, clock, local(MONDAY + timedelta(weeks=week), 9, 59))
        await at(chat, clock, local(MONDAY + timedelta(weeks=week), 10, 50))
    gijs = await chat.member("Gijs Mulder", department="Sales")
    await chat.channel("weekstart", [gijs])
    names = ", ".join(person.member.name for person in [*people.participants, gijs])
    await people.bram.says("vergaderingen wijzig 1")
    await people.bram.submits(
        {
            "name": "Weekstart",
            "channel": "weekstart",
            "days": "ma",
            "time": "10:00",
            "duration": "45",
            "participants": names,
        }
    )
    assert (await people.bram.last_reply()).key == "ritual.meeting_saved"

    everyone = {person.member.name for person in [*people.participants, gijs]}
    wearers = []
    for week in range(10, 16):
        await at(chat, clock, local(MONDAY + timedelta(weeks=week), 9, 59))
        [name] = _bold_names((await openings(people.anna))[-1]) & everyone
        wearers.append(name)
        await at(chat, clock, local(MONDAY + timedelta(weeks=week), 10, 50))
    assert Counter(wearers) == Counter(everyone), f"each of the six once in six weeks: {wearers}"


async def test_meetings_are_changed_only_by_their_leaders_or_cx_managers(
    chat: Chat, clock: ManualClock
) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    ilse = await chat.member("Ilse de Wit", department="Sales", roles=[Role.leader])  # another team's lead
    for command in ("vergaderingen wijzig 1", "vergaderingen ritueel 1 uit", "vergaderingen verwijder 1"):
        outcome = await ilse.says(command)
        assert outcome.error is not None and outcome.error.key == "ritual.error.not_your_meeting", command
    await at(chat, clock, local(MONDAY, 9, 58))
    assert len(await openings(people.anna)) == 1, "the ritual is still on"

    await people.chloe.says("vergaderingen ritueel 1 uit")
    assert (await people.chloe.last_reply()).key == "ritual.meeting_toggled"
    await people.bram.says("vergaderingen verwijder 1")
    assert (await people.bram.last_reply()).key == "ritual.meeting_removed"
    await people.bram.says("vergaderingen")
    assert (await people.bram.last_reply()).key == "ritual.meetings_none"
    outcome = await people.bram.says("vergaderingen wijzig 1")
    assert outcome.error is not None and outcome.error.key == "ritual.error.unknown_meeting"
