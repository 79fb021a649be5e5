"""The demo organisation: the people, departments, channels and meeting the README promises, all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import handlers.stories
from bot import demo
from bot.app import Services
from storage.models import Meeting, Role
from storage.repositories import Repos


async def test_the_demo_has_the_organisation_the_tour_needs(services: Services) -> None:
    assert await demo.seed(services)
    assert not await demo.seed(services), "seeded once only"
    async with services.database.transaction() as session:
        repos = Repos(session)
        people = await repos.members.active()
        channels = {channel.name for channel in await repos.channels.all("web")}
        meetings = (await session.scalars(select(Meeting))).all()
    assert len(people) == 13
    assert {person.department_name for person in people} == set(demo.DEPARTMENTS)
    roles = {role for person in people for role in person.role_names}
    assert {Role.leader, Role.cx_manager, Role.admin} <= roles
    assert {"algemeen", "klantverhalen"} <= channels
    assert [meeting.name for meeting in meetings] == ["Weekstart Klantenservice"]
    assert meetings[0].rrule and meetings[0].ritual_enabled


async def test_a_feature_that_fails_to_seed_leaves_no_half_demo(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(ctx: object) -> None:
        raise RuntimeError("a bug in one feature's demo data")

    monkeypatch.setattr(handlers.stories, "seed_demo", broken)
    with pytest.raises(RuntimeError):
        await demo.seed(services)
    async with services.database.transaction() as session:
        assert await Repos(session).members.count() == 0, "members without the rest of the tour"
        assert await session.scalar(select(func.count()).select_from(Meeting)) == 0
    monkeypatch.undo()
    assert await demo.seed(services), "the next start seeds the whole demo"
    async with services.database.transaction() as session:
        repos = Repos(session)
        assert await repos.members.count() == 13
        assert await repos.stories.latest_post("nl") is not None, "this week's story is posted"
