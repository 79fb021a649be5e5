"""The onboarding journey: each new joiner's own stories from the moment they joined, and a week-four pulse
asked once enough joiners are waiting for it to be anonymous."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from handlers.campaigns import apply_campaign, templates
from storage.models import Role
from storage.repositories import Repos
from tests.conftest import START, make_settings
from tests.handlers.campaigns.factories import move_to
from tests.harness import Chat, Person


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, anonymity_threshold=3)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def stories(person: Person) -> list[str]:
    return [seen.text.split("\n")[0].strip() for seen in await person.replies_with("story.card")]


async def pulse_cards(person: Person) -> int:
    return len([seen for seen in await person.sees() if seen.key and seen.key.startswith("pulse.card")])


async def joins(chat: Chat, name: str) -> Person:
    """A new colleague arrives on the platform (a MemberJoined event)."""
    person = await chat.member(name)
    await person.opens_chat()
    await chat.services.scheduler.run_due()
    await chat.deliver()
    return person


async def test_new_joiners_follow_their_own_journey(chat: Chat, clock: ManualClock) -> None:
    clock.set(START - timedelta(days=30))
    manager = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    anna = await chat.member("Anna de Vries")
    clock.set(START)
    async with chat.services.database.transaction() as session:
        ctx = chat.services.job_context(session)
        spec = templates.load("onboarding", clock.now(), "Europe/Amsterdam")
        owner = await ctx.repo.members.get(manager.member.id)
        assert (await apply_campaign(ctx, spec, owner)).action == "created"

    await anna.opens_chat()  # a colleague of long standing opening the chat is not a new joiner
    await move_to(chat, clock, utc(11, 25, 13))
    jan = await joins(chat, "Jan Jansen")  # Wednesday 14:00: day one's 10:00 has passed, so: now
    assert len(await stories(jan)) == 1
    await move_to(chat, clock, utc(11, 27, 10))
    kees = await joins(chat, "Kees Koster")
    lies = await joins(chat, "Lies Linde")
    assert len(await stories(kees)) == 1 == len(await stories(lies))

    await move_to(chat, clock, utc(12, 2, 8, 59))
    assert len(await stories(jan)) == 1
    await move_to(chat, clock, utc(12, 2, 9))  # a week after joining, 10:00 in Amsterdam
    assert len(await stories(jan)) == 2
    await move_to(chat, clock, utc(12, 4, 9))
    assert len(await stories(kees)) == 2 == len(await stories(lies))

    await move_to(chat, clock, utc(12, 23, 9))  # week four: a story, and at 14:00 the pulse
    assert len(await stories(jan)) == 3
    assert len(set(await stories(jan))) == 3  # three different stories
    await move_to(chat, clock, utc(12, 23, 13))
    assert await pulse_cards(jan) == 0  # alone, a pulse could never be anonymous: Jan waits
    await move_to(chat, clock, utc(12, 25, 9))
    assert len(await stories(kees)) == 2  # their week four falls on Christmas Day: moved to Monday

    await move_to(chat, clock, utc(12, 28, 9))
    assert len(await stories(kees)) == 3 == len(await stories(lies))
    await move_to(chat, clock, utc(12, 28, 13))
    assert await pulse_cards(jan) == 1 == await pulse_cards(kees) == await pulse_cards(lies)
    assert await stories(anna) == [] and await pulse_cards(anna) == 0

    async with chat.services.database.transaction() as session:
        rounds = await Repos(session).pulses.rounds(limit=5)
        assert [(r.name, r.invited_count, r.audience["kind"]) for r in rounds] == [
            ("Eerste maand", 3, "members")
        ]
    await manager.says("campagne cijfers onboarding-journey")
    figures = " ".join((await manager.last_reply()).text.split())
    assert (
        "Nieuwe collega's: 3 (gepland: 0, verstuurd: 9, wachten op genoeg collega's voor de peiling: 0)"
        in figures
    )
    assert "Peiling Eerste maand: loopt nog (3 gevraagd)" in figures


async def onboarding(chat: Chat, clock: ManualClock) -> Person:
    clock.set(START)
    manager = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    async with chat.services.database.transaction() as session:
        ctx = chat.services.job_context(session)
        spec = templates.load("onboarding", clock.now(), "Europe/Amsterdam")
        await apply_campaign(ctx, spec, await ctx.repo.members.get(manager.member.id))
    return manager


async def test_a_joiner_waits_for_the_anonymous_pulse_at_most_eight_weeks(
    chat: Chat, clock: ManualClock
) -> None:
    manager = await onboarding(chat, clock)
    await move_to(chat, clock, utc(11, 25, 13))
    jan = await joins(chat, "Jan Jansen")
    await move_to(chat, clock, utc(12, 23, 13))  # week four: Jan alone on the waiting list
    week_four = utc(12, 23, 13)
    await move_to(chat, clock, week_four + timedelta(weeks=8) - timedelta(hours=2))
    assert not await manager.replies_with("campaign.journey_pulse_expired")
    await move_to(chat, clock, week_four + timedelta(weeks=8, hours=1))  # the hourly resync lets him go
    told = await manager.replies_with("campaign.journey_pulse_expired")
    assert len(told) == 1 and "1 nieuwe collega wachtte 8 weken" in " ".join(told[0].text.split())

    kees, lies = await joins(chat, "Kees Koster"), await joins(chat, "Lies Linde")
    await move_to(chat, clock, clock.now() + timedelta(weeks=4, days=3))
    assert await pulse_cards(jan) == 0 and await pulse_cards(kees) == 0 == await pulse_cards(lies)
    async with chat.services.database.transaction() as session:
        counts = await Repos(session).campaigns.journey_counts((await Repos(session).campaigns.all())[0].id)
    assert counts.get("expired") == 1 and counts.get("waiting") == 2  # two are not enough (k = 3)
    await move_to(chat, clock, clock.now() + timedelta(weeks=9))
    assert len(await manager.replies_with("campaign.journey_pulse_expired")) == 2


async def test_archiving_an_onboarding_campaign_cancels_the_journeys_under_way(
    chat: Chat, clock: ManualClock
) -> None:
    manager = await onboarding(chat, clock)
    await move_to(chat, clock, utc(11, 25, 13))
    jan = await joins(chat, "Jan Jansen")
    assert len(await stories(jan)) == 1
    await manager.says("campagne archiveer onboarding-journey")
    assert (await manager.last_reply()).key == "campaign.archived"
    await move_to(chat, clock, utc(12, 31, 12))
    assert len(await stories(jan)) == 1
    kees = await joins(chat, "Kees Koster")  # joining after the archive starts nothing
    await move_to(chat, clock, utc(12, 31, 13))
    assert await stories(kees) == []
    async with chat.services.database.transaction() as session:
        counts = await Repos(session).campaigns.journey_counts((await Repos(session).campaigns.all())[0].id)
    assert counts == {"sent": 1, "cancelled": 3}
