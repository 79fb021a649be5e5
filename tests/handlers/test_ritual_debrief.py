"""The debrief as dialogues: the cap wearer's DM at the meeting's end, the conflict form (and its refusals),
and real meeting start/end events de-duplicated against the scheduled opening and debrief."""

from __future__ import annotations

import uuid
from datetime import date

from bot.clock import ManualClock
from bot.events import Actor, MeetingEvent, Where
from tests.handlers.ritual_dialogue import WEEKSTART, Team, add_meeting, at, local, openings, team, wearer
from tests.harness import Chat, Person

MONDAY = date(2026, 11, 23)


async def _departments(chat: Chat) -> dict[str, str]:
    from storage.repositories import Repos

    async with chat.services.database.transaction() as session:
        return {d.name: str(d.id) for d in await Repos(session).members.departments()}


async def debriefed(chat: Chat, clock: ManualClock, people: Team) -> Person:
    """A meeting held on Monday; at its end the cap wearer has the debrief question in their DM."""
    await add_meeting(people.bram)
    await at(chat, clock, local(MONDAY, 9, 58))
    cap = wearer((await openings(people.anna))[0], people)
    await at(chat, clock, local(MONDAY, 10, 44))
    assert await cap.replies_with("ritual.debrief") == []
    await at(chat, clock, local(MONDAY, 10, 45))
    assert len(await cap.replies_with("ritual.debrief")) == 1
    return cap


async def _silos(person: Person) -> str:
    await person.says("silo's alle")
    return (await person.last_reply()).text


async def test_a_debrief_creates_a_silo_conflict(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    cap = await debriefed(chat, clock, people)
    await cap.clicks(chat.t("nl", "ritual.button_yes"))
    departments = await _departments(chat)
    await cap.submits(
        {
            "department_a": departments["Logistiek"],
            "department_b": departments["Klantenservice"],
            "goals": "Logistiek stuurt op volle vrachtwagens, wij beloven 24 uur.",
            "impact": "Klanten wachten een dag langer dan beloofd.",
            "next_step": "Samen een realistische levertijd afspreken.",
            "owner": str(people.hanna.member.id),
            "moment": "Een klant bedankte Anna voor het terugbellen.",
        }
    )
    saved = await cap.last_reply()
    assert saved.key == "ritual.conflict_saved"
    assert "Klantenservice ↔ Logistiek" in saved.text
    assert len(await people.hanna.replies_with("ritual.owner_assigned")) == 1
    listing = await _silos(people.anna)
    assert "#1" in listing and "Klantenservice ↔ Logistiek" in listing and "Hanna Bos" in listing

    outcome = await cap.clicks(chat.t("nl", "ritual.button_no"))
    assert outcome.error is not None and outcome.error.key == "ritual.error.debrief_done"


async def test_bad_form_input_is_refused_and_nothing_is_stored(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    cap = await debriefed(chat, clock, people)
    await cap.clicks(chat.t("nl", "ritual.button_yes"))
    departments = await _departments(chat)
    bad = {
        "department_a": departments["Sales"],
        "department_b": departments["Sales"],
        "goals": "",
        "impact": "ok",
        "next_step": "   ",
        "owner": "Niemand Bekend",
        "moment": "",
    }
    await cap.submits(bad)
    form = await cap.latest_form()
    assert form.key == "ritual.conflict_form.title"
    for error in (
        chat.t("nl", "ritual.error.same_department"),
        chat.t("nl", "error.field_required"),
        chat.t("nl", "ritual.error.too_short", minimum=5),
        chat.t("nl", "error.member_not_found", reference="Niemand Bekend"),
    ):
        assert error in form.text
    assert chat.t("nl", "ritual.silos_none") in await _silos(people.chloe)

    await cap.submits({**bad, "department_a": "999"}, form)
    assert chat.t("nl", "ritual.error.unknown_department") in (await cap.latest_form()).text
    assert chat.t("nl", "ritual.silos_none") in await _silos(people.chloe)


async def test_no_conflict_gets_thanks_and_room_for_a_customer_moment(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    cap = await debriefed(chat, clock, people)
    await cap.clicks(chat.t("nl", "ritual.button_no"))
    assert (await cap.last_reply()).key == "ritual.thanks_no_conflict"
    await cap.clicks(chat.t("nl", "ritual.button_moment"))
    await cap.submits({"moment": ""})
    assert chat.t("nl", "error.field_required") in (await cap.latest_form()).text
    await cap.submits({"moment": "Een klant belde om te bedanken voor de snelle retour."})
    assert (await cap.last_reply()).key == "ritual.moment_saved"
    assert chat.t("nl", "ritual.silos_none") in await _silos(cap)


async def _meeting_event(chat: Chat, person: Person, phase: str) -> None:
    event = MeetingEvent(
        platform="web",
        event_id=uuid.uuid4().hex,
        actor=Actor("web", str(person.member.id), person.member.name),
        where=Where(external_id=WEEKSTART, kind="channel", name="weekstart", ref=WEEKSTART),
        phase=phase,  # type: ignore[arg-type]
    )
    await chat.services.router.handle(event)
    await chat.deliver()


async def test_meeting_start_and_end_events_run_the_ritual_once(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    clock.set(local(MONDAY, 9, 50))  # the meeting starts early, before the scheduled opening
    await _meeting_event(chat, people.bram, "start")
    [opening] = await openings(people.anna)
    cap = wearer(opening, people)
    await at(chat, clock, local(MONDAY, 9, 58))
    await _meeting_event(chat, people.bram, "start")
    assert len(await openings(people.anna)) == 1

    clock.set(local(MONDAY, 10, 30))  # it ends early too
    await _meeting_event(chat, people.bram, "end")
    assert len(await cap.replies_with("ritual.debrief")) == 1
    await at(chat, clock, local(MONDAY, 10, 46))
    await _meeting_event(chat, people.bram, "end")
    assert len(await cap.replies_with("ritual.debrief")) == 1


async def test_pet_end_sends_the_debrief_of_an_ad_hoc_ritual(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    await add_meeting(people.bram, days="wo")
    await people.anna.says("pet", where=WEEKSTART)
    cap = wearer((await openings(people.anna))[0], people)
    await people.anna.says("pet klaar", where=WEEKSTART)
    assert (await people.anna.last_reply(WEEKSTART)).key == "ritual.ended"
    assert len(await cap.replies_with("ritual.debrief")) == 1
    await at(chat, clock, clock.now().replace(hour=23))  # the ad-hoc debrief schedule finds it done
    assert len(await cap.replies_with("ritual.debrief")) == 1
    outcome = await people.anna.says("pet klaar", where=WEEKSTART)
    assert outcome.error is not None and outcome.error.key == "ritual.error.no_run"


async def test_the_debrief_speaks_the_wearers_language(chat: Chat, clock: ManualClock) -> None:
    people = await team(chat)
    emma = await chat.member("Emma Smit", department="Marketing", locale="en")
    await chat.channel("weekstart", [emma])
    await add_meeting(people.bram, participants="Emma Smit")
    await at(chat, clock, local(MONDAY, 10, 46))
    [debrief] = await emma.replies_with("ritual.debrief")
    assert chat.t("en", "ritual.button_yes") in debrief.buttons()
    await emma.clicks(chat.t("en", "ritual.button_no"), debrief)
    assert (await emma.last_reply()).text.startswith(chat.t("en", "ritual.thanks_no_conflict")[:20])


async def test_a_wearer_the_bot_cannot_reach_is_not_counted_as_asked(chat: Chat, clock: ManualClock) -> None:
    from storage.repositories import Repos

    people = await team(chat)
    async with chat.services.database.transaction() as session:  # a member with no chat account yet
        repos = Repos(session)
        piet = await repos.members.create("Piet Zonder", department="Sales", now=clock.now())
        channel = await repos.channels.by_external("web", WEEKSTART)
        assert channel is not None
        await repos.channels.add_member(channel, piet.id)
    await add_meeting(people.bram, participants="Piet Zonder")
    await at(chat, clock, local(MONDAY, 10, 46))
    assert len(await openings(people.anna)) == 1
    await people.chloe.says("ritueel cijfers 1")
    stats = (await people.chloe.last_reply()).text
    assert "gehouden: 1" in stats and "Nabesprekingen verstuurd: 0 · ingevuld: 0" in stats
