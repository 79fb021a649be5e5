"""The klantpet ritual in a Teams meeting chat, end to end through the real handlers.

A team lead links a meeting to its Teams meeting chat with the ordinary meeting form; from then on Teams'
own meeting start and end events (sent through the SDK's hosting, as Teams sends them) open the ritual in
that chat and send the debrief to whoever wears the cap, in their personal chat.
"""

from __future__ import annotations

import uuid
from typing import Any

from bot.app import Services
from bot.platforms.teams_render import VERB
from storage.models import Role
from storage.repositories import Repos
from tests.fakes.teams_api import FakeTeams
from tests.platforms.teams_harness import (
    AAD,
    Teams,
    card_of,
    fake,
    services,
    settings,
    teams,
    texts_in,
)
from tests.platforms.test_teams_render import elements

FIXTURES = (fake, services, settings, teams)  # pytest hands these to the tests by name
BRAM = "6f1c2e54-1d7e-4a86-9c1e-2b7f9d3a0002"
MEETING = "Weekly CX sync"
PEOPLE = {AAD: "Anna de Vries", BRAM: "Bram Jansen"}


async def say_in(teams: Teams, chat: str, text: str, person: str) -> dict[str, Any]:
    return await teams.say(
        text,
        conversation_type="groupChat",
        conversation_id=chat,
        aad_object_id=person,
        from_name=PEOPLE[person],
    )


async def personal_chat_of(services: Services, person: str) -> str:
    async with services.database.transaction() as session:
        member = await Repos(session).members.by_identity("teams", person)
        assert member is not None and member.identities[0].dm_ref, "no personal chat with them yet"
        return member.identities[0].dm_ref


async def link_meeting(teams: Teams, services: Services, fake: FakeTeams, chat: str) -> None:
    """Anna and Bram talk to Klantpet in the meeting chat; Bram, a team lead, links the meeting to it."""
    await say_in(teams, chat, "help", AAD)
    await say_in(teams, chat, "help", BRAM)
    async with services.database.transaction() as session:
        repos = Repos(session)
        bram = await repos.members.by_identity("teams", BRAM)
        assert bram is not None
        await repos.members.grant(bram, Role.leader)
    await say_in(teams, chat, f"meetings add {MEETING}", BRAM)
    bram_chat = await personal_chat_of(services, BRAM)  # the form is only for him: his personal chat
    form = card_of(teams.sent(bram_chat)[-1])
    values = {field["id"]: field.get("value", "") for field in elements(form, "Input.Text")}
    typed = {"days": "ma", "time": "10:00", "participants": "Anna de Vries, Bram Jansen"}
    for field_id in values:
        name = field_id.rsplit(".", 1)[-1]
        values[field_id] = typed.get(name, values[field_id])
    submit = elements(form, "Action.Execute")[0]
    invoke = fake.invoke_action_execute(
        VERB,
        {**submit["data"], **values},  # Teams merges the inputs into the action's data
        reply_to_id=teams.sent(bram_chat)[-1]["id"],
        aad_object_id=BRAM,
        from_name=PEOPLE[BRAM],
        conversation_id=bram_chat,
    )
    assert (await teams.post(invoke)).status_code == 200
    await services.outbox.drain()
    async with services.database.transaction() as session:
        repos = Repos(session)
        channel = await repos.channels.by_external("teams", chat)
        assert channel is not None and channel.kind == "group"
        meeting = await repos.ritual.meeting_for_channel(channel.id)
        assert meeting is not None and meeting.name == MEETING and len(meeting.participants) == 2


def wearer_in(text: str) -> str:
    named = [person for person, name in PEOPLE.items() if name in text]
    assert len(named) == 1, f"expected one wearer in {text!r}"
    return named[0]


async def test_a_meeting_chat_gets_the_ritual_opening_at_start_and_the_debrief_at_the_end(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    chat = f"19:meeting_{uuid.uuid4().hex}@thread.v2"
    await link_meeting(teams, services, fake, chat)
    before = len(teams.sent(chat))

    start = fake.meeting_start(title=MEETING, conversation_id=chat, aad_object_id=BRAM)
    assert (await teams.post(start)).status_code == 202
    await services.outbox.drain()
    [opening] = teams.sent(chat)[before:]
    text = texts_in(card_of(opening))
    wearer = wearer_in(text)
    assert services.catalog.t("nl", "ritual.opening", meeting=MEETING, name=PEOPLE[wearer]) in text
    cap_buttons = [action["title"] for action in elements(card_of(opening), "Action.Execute")]
    assert cap_buttons == [
        services.catalog.t("nl", key)
        for key in ("ritual.button_pass", "ritual.button_take", "ritual.button_absent")
    ]
    again = fake.meeting_start(title=MEETING, conversation_id=chat, aad_object_id=AAD)  # someone re-joins
    assert (await teams.post(again)).status_code == 202
    await services.outbox.drain()
    assert len(teams.sent(chat)) == before + 1, "one opening per meeting"

    # the other participant takes the cap with the card's button, in the meeting chat
    other = next(person for person in PEOPLE if person != wearer)
    take = next(
        action
        for action in elements(card_of(opening), "Action.Execute")
        if action["title"] == services.catalog.t("nl", "ritual.button_take")
    )
    click = fake.invoke_action_execute(
        VERB,
        take["data"],
        reply_to_id=opening["id"],
        aad_object_id=other,
        from_name=PEOPLE[other],
        conversation_id=chat,
        conversation_type="groupChat",
    )
    assert (await teams.post(click)).status_code == 200
    await services.outbox.drain()
    taken = texts_in(card_of(teams.sent(chat)[-1]))
    assert services.catalog.t("nl", "ritual.taken", name=PEOPLE[other], passer=PEOPLE[wearer]) in taken

    end = fake.meeting_end(title=MEETING, conversation_id=chat, aad_object_id=BRAM)
    assert (await teams.post(end)).status_code == 202
    await services.outbox.drain()
    cap_chat = await personal_chat_of(services, other)
    debrief = card_of(teams.sent(cap_chat)[-1])
    first_name = PEOPLE[other].split()[0]
    assert services.catalog.t("en", "ritual.debrief", name=first_name, meeting=MEETING) in texts_in(debrief)
    assert [action["title"] for action in elements(debrief, "Action.Execute")] == [
        services.catalog.t("en", "ritual.button_yes"),
        services.catalog.t("en", "ritual.button_no"),
    ]
    debriefs = len(teams.sent(cap_chat))
    late_end = fake.meeting_end(title=MEETING, conversation_id=chat, aad_object_id=AAD)
    assert (await teams.post(late_end)).status_code == 202
    await services.outbox.drain()
    assert len(teams.sent(cap_chat)) == debriefs, "one debrief per meeting"
    assert len(teams.sent(chat)) == before + 2  # the opening and the cap changing hands, nothing more
