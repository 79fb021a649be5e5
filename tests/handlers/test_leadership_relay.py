"""The CX relay as dialogues: passing the baton, weekly reminders, a stall escalated, the chain, refusals."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text as sql

from bot.clock import ManualClock
from handlers.leadership.relay import pass_baton
from storage.models import Role
from storage.models.leadership import CustomerContact, LeaderSnippet, RelayLeg
from tests.handlers.leadership_people import COMPANY, company_channel, count, leader, run_schedules
from tests.harness import Chat, Person


def nl(chat: Chat, key: str, **params: object) -> str:
    return chat.t("nl", key, **params)


async def share(chat: Chat, person: Person, text: str) -> None:
    await person.says(f"blog {text}")
    await person.clicks(chat.t(person.member.locale or "nl", "leadership.button_send"))


async def test_a_relay_of_three_leaders_with_a_stall_and_an_escalation(
    chat: Chat, clock: ManualClock
) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    karin = await leader(chat, "Karin Peters", "CFO")
    emma = await leader(chat, "Emma Smit", "Marketing director", locale="en")
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    anna = await chat.member("Anna de Vries")
    await company_channel(chat, lars, karin, emma, chloe, anna)

    await lars.says("estafette doorgeven Karin Peters Bel deze maand drie klanten over hun factuur.")
    assert (await lars.last_reply()).key == "leadership.relay.passed"
    baton = await karin.last_reply()
    assert baton.key == "leadership.relay.received"
    assert (
        "Lars Hendriks (CEO)" in baton.text and "Bel deze maand drie klanten over hun factuur." in baton.text
    )
    await anna.says("estafette")
    chain = (await anna.last_reply()).text
    assert "Lars Hendriks (CEO) → Karin Peters (CFO)" in chain and "Karin Peters (CFO)" in chain

    # Karin is reminded weekly; after three weeks the CX manager hears of it, once.
    for week in (1, 2):
        clock.advance(timedelta(days=7))
        await run_schedules(chat)
        assert len(await karin.replies_with("leadership.relay.reminder")) == week
        assert await chloe.replies_with("leadership.relay.escalation") == []
    clock.advance(timedelta(days=7))
    await run_schedules(chat)
    escalations = await chloe.replies_with("leadership.relay.escalation")
    assert (
        len(escalations) == 1
        and "Karin Peters (CFO)" in escalations[0].text
        and "3 weken" in escalations[0].text
    )
    assert await lars.replies_with("leadership.relay.escalation") == []
    assert await anna.replies_with("leadership.relay.escalation") == []

    # Karin shares; her post carries the relay, the reminders stop, and she is asked to pass it on.
    await share(chat, karin, "Drie klanten gebeld: de factuur is te ingewikkeld.")
    post = (await anna.replies_with("leadership.post", COMPANY))[-1]
    assert (
        nl(
            chat,
            "leadership.relay.post_note",
            giver="Lars Hendriks",
            challenge="Bel deze maand drie klanten over hun factuur.",
        )
        in post.text
    )
    assert (await karin.last_reply()).key == "leadership.relay.pass_on"
    # From now on she is reminded to pass it on (not to share); the stall clock starts again.
    for week in (1, 2):
        clock.advance(timedelta(days=7))
        await run_schedules(chat)
        assert len(await karin.replies_with("leadership.relay.pass_reminder")) == week
    assert len(await karin.replies_with("leadership.relay.reminder")) == 3
    assert len(await chloe.replies_with("leadership.relay.escalation")) == 1
    assert await chloe.replies_with("leadership.relay.escalation_passing") == []

    # She passes it on through the form; Emma is the last leader, so her snippet completes the relay.
    await karin.clicks(nl(chat, "leadership.relay.button_pass"))
    form = await karin.latest_form()
    assert "Emma Smit (Marketing director)" in form.html and "Lars Hendriks" not in form.html
    await karin.submits({"peer": str(emma.member.id), "challenge": "Visit a customer with the sales team."})
    assert (await emma.last_reply()).key == "leadership.relay.received"
    await share(chat, emma, "Visited a florist with Gijs.")
    assert (await emma.last_reply()).key == "leadership.relay.finished"

    await anna.says("estafette")
    final = (await anna.last_reply()).text
    assert "Lars Hendriks (CEO) → Karin Peters (CFO) → Emma Smit (Marketing director)" in final
    assert nl(chat, "leadership.relay.ended_finished", date="28-12-2026") in final


async def test_the_baton_goes_only_to_another_leader_and_only_from_its_holder(chat: Chat) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    karin = await leader(chat, "Karin Peters", "CFO")
    await leader(chat, "Bram Jansen", "Teamleider Klantenservice")
    anna = await chat.member("Anna de Vries")
    await company_channel(chat, lars, karin, anna)
    refusals = {
        "estafette doorgeven Anna de Vries Bel een klant": "leadership.relay.not_a_leader",
        "estafette doorgeven Lars Hendriks Bel een klant": "leadership.relay.not_yourself",
        f"estafette doorgeven #{lars.member.id}": "leadership.relay.not_yourself",
        "estafette doorgeven Niemand Bekend": "leadership.relay.peer_not_found",
    }
    for text, key in refusals.items():
        outcome = await lars.says(text)
        assert outcome.error is not None and outcome.error.key == key, text
    assert await count(chat, RelayLeg) == 0
    await anna.says("estafette")
    assert (await anna.last_reply()).text == nl(chat, "leadership.relay.none")

    await lars.says("estafette doorgeven Karin")  # a unique first name and the default challenge will do
    assert nl(chat, "leadership.relay.default_challenge") in (await karin.last_reply()).text
    legs = await count(chat, RelayLeg)
    outcome = await karin.says("estafette doorgeven Bram Jansen Ga op klantbezoek")
    assert outcome.error is not None and outcome.error.key == "leadership.relay.share_first"
    outcome = await lars.says("estafette doorgeven Bram Jansen Ga op klantbezoek")
    assert outcome.error is not None and outcome.error.key == "leadership.relay.not_your_baton"
    await share(chat, karin, "Een klant gebeld.")
    outcome = await karin.says("estafette doorgeven Lars Hendriks Nog een keer")
    assert outcome.error is not None and outcome.error.key == "leadership.relay.already_ran"
    assert await count(chat, RelayLeg) == legs


async def test_an_employee_cannot_hold_or_pass_the_baton(chat: Chat) -> None:
    anna = await chat.member("Anna de Vries")
    await leader(chat, "Lars Hendriks", "CEO")
    outcome = await anna.says("estafette doorgeven Lars Hendriks Bel een klant")
    assert outcome.error is not None and outcome.error.key == "error.not_allowed"
    assert (await anna.last_reply()).text == nl(chat, "error.not_allowed", role=nl(chat, "roles.leader"))
    await anna.says("estafette")
    assert not (await anna.last_reply()).buttons()
    assert await count(chat, RelayLeg) == 0


async def test_a_cx_manager_stops_a_stuck_relay_and_the_reminders_end(chat: Chat, clock: ManualClock) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    karin = await leader(chat, "Karin Peters", "CFO")
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    outcome = await lars.says("estafette stop")
    assert outcome.error is not None and outcome.error.key == "error.not_allowed"
    await lars.says("estafette doorgeven Karin Peters Bel een klant")
    await chloe.says("estafette stop")
    assert (await chloe.last_reply()).key == "leadership.relay.stopped"
    assert (await karin.last_reply()).key == "leadership.relay.stopped_notice"
    clock.advance(timedelta(days=30))
    await run_schedules(chat)
    assert await karin.replies_with("leadership.relay.reminder") == []
    assert await chloe.replies_with("leadership.relay.escalation") == []
    # A new relay can start afterwards.
    await karin.says("estafette doorgeven Lars Hendriks Ga op klantbezoek")
    assert (await lars.last_reply()).key == "leadership.relay.received"


async def test_an_admin_who_is_not_a_leader_is_refused_politely(chat: Chat) -> None:
    ada = await chat.member("Ada Visser", roles=[Role.admin])
    karin = await leader(chat, "Karin Peters", "CFO")
    await company_channel(chat, ada, karin)
    attempts = (
        "blog Hallo allemaal",
        "vlog",
        "mijnvlogs",
        "klantcontact gebeld Een klant over de levertijd",
        "estafette doorgeven Karin Peters Bel een klant",
        "estafette doorgeven",
    )
    for text in attempts:
        outcome = await ada.says(text)
        assert outcome.error is not None and outcome.error.key == "leadership.leaders_only", text
        assert (await ada.last_reply()).text == nl(chat, "leadership.leaders_only")
    await ada.says("estafette")
    assert not (await ada.last_reply()).buttons()  # no "start a relay" for her
    assert [await count(chat, model) for model in (LeaderSnippet, RelayLeg, CustomerContact)] == [0, 0, 0]
    assert await karin.replies_with("leadership.relay.received") == []

    # An admin who is a leader too takes part like any leader.
    bram = await chat.member("Bram Jansen", roles=[Role.admin, Role.leader])
    await bram.says("estafette doorgeven Karin Peters Bel een klant")
    assert (await karin.last_reply()).key == "leadership.relay.received"


async def _until_someone_waits_for_a_lock(chat: Chat) -> None:
    """PostgreSQL: until another transaction of this database waits on a row lock. (SQLite queues whole
    transactions: the other one waits to begin; a moment is enough for it to get there.)"""
    if not chat.services.database.is_postgres:
        await asyncio.sleep(0.5)
        return
    query = sql(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(200):
        async with chat.services.database.engine.connect() as connection:
            if (await connection.execute(query)).scalar_one():
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the second start never reached the database")


async def test_two_leaders_starting_a_relay_at_once_one_hears_a_polite_no(chat: Chat) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    karin = await leader(chat, "Karin Peters", "CFO")
    bram = await leader(chat, "Bram Jansen", "COO")
    async with chat.services.database.transaction() as session:
        ctx = chat.services.job_context(session)
        giver, peer = await ctx.repo.members.get(lars.member.id), await ctx.repo.members.get(karin.member.id)
        assert giver is not None and peer is not None
        await pass_baton(ctx, giver, peer, "Bel een klant")  # Lars's start, not committed yet
        second = asyncio.create_task(bram.says("estafette doorgeven Karin Peters Ga op klantbezoek"))
        await _until_someone_waits_for_a_lock(chat)
    outcome = await second
    # PostgreSQL lets both read "no relay yet", so Bram's start collides with Lars's; SQLite runs them one
    # after the other, so Bram finds Karin holding Lars's baton. Either way: a polite no, nothing changed.
    expected = (
        "leadership.relay.changed_meanwhile"
        if chat.services.database.is_postgres
        else "leadership.relay.not_your_baton"
    )
    assert outcome.error is not None and outcome.error.key == expected
    assert (await bram.last_reply()).key == expected
    await bram.says("estafette")
    assert "Lars Hendriks (CEO) → Karin Peters (CFO)" in (await bram.last_reply()).text
    assert await count(chat, RelayLeg) == 2
