"""Factories for the leadership dialogue tests: titled leaders, the company channel(s), stories from the
library, and chats whose organisation changed a leadership setting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import Services
from bot.clock import ManualClock
from handlers.story_files import StoryFields
from handlers.story_library import save_story
from storage.models import Role
from storage.models.leadership import CustomerContact, LeaderSnippet, RelayLeg
from storage.models.stories import Story
from storage.repositories import Repos
from tests.conftest import make_settings
from tests.harness import Chat, Person

COMPANY = "channel:algemeen"


async def leader(chat: Chat, name: str, title: str, *, locale: str = "nl") -> Person:
    person = await chat.member(name, roles=[Role.leader], locale=locale)
    async with chat.services.database.transaction() as session:
        member = await Repos(session).members.get(person.member.id)
        assert member is not None
        member.title = title
    person.member.title = title
    return person


async def company_channel(chat: Chat, *people: Person) -> str:
    return await chat.channel("algemeen", people)


async def library_story(chat: Chat, slug: str, locale: str) -> Story:
    """A story of the starter library every organisation starts with (approved, in Dutch and English)."""
    async with chat.services.database.transaction() as session:
        story = await Repos(session).stories.by_slug(slug, locale)
    assert story is not None, slug
    return story


async def draft_story(chat: Chat, title: str) -> Story:
    """A story written in the library but not approved yet."""
    async with chat.services.database.transaction() as session:
        fields = StoryFields(
            locale="nl", title=title, story="Een klant belde twee keer over dezelfde factuur."
        )
        return await save_story(chat.services.job_context(session), fields)


async def count(chat: Chat, model: type[LeaderSnippet] | type[RelayLeg] | type[CustomerContact]) -> int:
    async with chat.services.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def snippets(chat: Chat) -> list[LeaderSnippet]:
    async with chat.services.database.transaction() as session:
        return list((await session.scalars(select(LeaderSnippet).order_by(LeaderSnippet.id))).all())


async def run_schedules(chat: Chat) -> int:
    fired = await chat.services.scheduler.run_due()
    await chat.deliver()
    return fired


@asynccontextmanager
async def _chat_with(
    tmp_path: Path, database_url: str, clock: ManualClock, **settings: object
) -> AsyncIterator[Chat]:
    services = Services(make_settings(tmp_path, database_url, **settings), clock=clock)
    await services.start()
    try:
        yield Chat(services)
    finally:
        await services.stop()


@pytest.fixture
async def approving_chat(tmp_path: Path, database_url: str, clock: ManualClock) -> AsyncIterator[Chat]:
    """A chat whose organisation asks a CX manager to approve every snippet."""
    async with _chat_with(tmp_path, database_url, clock, snippet_approval=True) as chat:
        yield chat


@pytest.fixture
async def two_language_chat(tmp_path: Path, database_url: str, clock: ManualClock) -> AsyncIterator[Chat]:
    """A chat whose snippets go to #algemeen (Dutch) and #general (English)."""
    async with _chat_with(tmp_path, database_url, clock, snippet_channels="algemeen,general") as chat:
        yield chat


@pytest.fixture
async def weekly_stall_chat(tmp_path: Path, database_url: str, clock: ManualClock) -> AsyncIterator[Chat]:
    """A chat whose CX managers hear of a baton that rests a single week."""
    async with _chat_with(tmp_path, database_url, clock, relay_stall_days=7) as chat:
        yield chat
