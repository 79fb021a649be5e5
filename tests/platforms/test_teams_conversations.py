"""Where Teams conversations are kept: in the database, correct across instances, and gone with the person.

Two instances share one database, as in production behind a load balancer; Teams may send one activity to
either. A privacy erase leaves nothing in the Teams store that points at the person.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import Services
from bot.clock import ManualClock
from bot.config import Settings
from bot.context import JobContext
from bot.messages import Message
from handlers.privacy_erase import erase_member
from storage.models.teams import TeamsStoreItem
from storage.repositories import Repos
from tests.fakes.teams_api import FakeTeams
from tests.platforms.teams_harness import (
    AAD,
    Teams,
    fake,
    services,
    settings,
    stored_conversations,
    teams,
    with_fake_tokens,
)

FIXTURES = (fake, services, settings, teams)  # pytest hands these to the tests by name


@pytest.fixture
async def other_instance(settings: Settings, clock: ManualClock, fake: FakeTeams) -> AsyncIterator[Teams]:
    """A second Klantpet process on the same database (its own memory, its own Teams platform)."""
    built = Services(settings, clock=clock)
    with_fake_tokens(built, fake)
    await built.start()
    client = Teams(built, fake)
    yield client
    await client.http.aclose()
    await built.stop()


async def direct_message(services: Services, text: str, key: str) -> str | None:
    """Send Anna a direct message from ``services``; the delivery's status once the outbox is done."""
    async with services.database.transaction() as session:
        job = JobContext(services, session)
        member = await job.repo.members.by_identity("teams", AAD)
        assert member is not None
        await job.dm(member, Message.text(text), key=key)
    await services.outbox.drain()
    async with services.database.transaction() as session:
        delivery = await Repos(session).deliveries.by_key(key)
    return delivery.status if delivery else None


async def test_a_reinstall_is_remembered_whichever_instance_saw_the_uninstall(
    teams: Teams, services: Services, fake: FakeTeams, other_instance: Teams
) -> None:
    install = fake.installation_update("add", aad_object_id=AAD, from_name="Anna de Vries")
    conversation = install["conversation"]["id"]
    assert (await teams.post(install)).status_code == 202  # this instance stores the chat
    await services.outbox.drain()
    removed = fake.installation_update("remove", conversation_id=conversation, aad_object_id=AAD)
    assert (await other_instance.post(removed)).status_code == 202  # the other one forgets it
    assert f"proactive/conversations/{conversation}" not in await stored_conversations(services)

    again = fake.installation_update(
        "add", conversation_id=conversation, aad_object_id=AAD, from_name="Anna de Vries"
    )
    assert (await teams.post(again)).status_code == 202  # Anna adds it again; the first instance hears of it
    await services.outbox.drain()
    assert f"proactive/conversations/{conversation}" in await stored_conversations(services)
    assert (
        await direct_message(other_instance.services, "Your pulse is open", "test:after-reinstall") == "sent"
    )
    assert teams.sent(conversation)[-1]["text"] == "Your pulse is open"


async def stored_values(services: Services) -> str:
    async with services.database.transaction() as session:
        rows = (await session.scalars(select(TeamsStoreItem))).all()
        return json.dumps({row.key: row.value for row in rows})


async def test_erasing_a_member_leaves_nothing_of_them_in_the_teams_store(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    personal = (await teams.say("help"))["conversation"]["id"]
    group = (await teams.say("help", conversation_type="groupChat"))["conversation"]["id"]
    stored = await stored_values(services)
    assert AAD in stored and personal in stored  # the personal chat is known by her id
    assert "Anna de Vries" not in stored  # names are never kept with a reference

    async with services.database.transaction() as session:
        job = JobContext(services, session)
        member = await job.repo.members.by_identity("teams", AAD)
        assert member is not None
        await erase_member(job, member)

    after = await stored_values(services)
    assert AAD not in after and personal not in after
    assert await stored_conversations(services) == [f"proactive/conversations/{group}"]  # the chat stays
