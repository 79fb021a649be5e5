"""Shared steps for the story dialogues: a CX manager, moving time, and reading story cards."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from bot.app import Services
from bot.clock import ManualClock
from handlers.story_files import starter_library
from storage.models import Role
from storage.repositories import Repos
from tests.harness import Chat, Person, Seen

STARTER_PER_LOCALE = len(starter_library()) // 2


async def count_stories(services: Services, status: str | None = None) -> int:
    async with services.database.transaction() as session:
        return sum(
            n for (_, state), n in (await Repos(session).stories.counts()).items() if status in (None, state)
        )


async def manager(chat: Chat, name: str = "Chloé", locale: str = "nl") -> Person:
    return await chat.member(name, roles=[Role.cx_manager], locale=locale)


async def advance(chat: Chat, clock: ManualClock, until: timedelta, step: timedelta) -> None:
    """Move the clock in steps, firing what is due and delivering it, as the background tasks would."""
    end = clock.now() + until
    while clock.now() < end:
        clock.advance(step)
        await chat.services.scheduler.run_due()
        await chat.deliver()


def stories_in(seen: list[Seen]) -> list[Seen]:
    return [message for message in seen if "story.card" in message.keys]


def title_of(message: Seen) -> str:
    """The story's title: the first bold text of the card."""
    found = re.search(r"<b>(.*?)</b>", message.html)
    assert found, message.html
    return html.unescape(found.group(1))
