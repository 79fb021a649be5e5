"""Factories for pulse tests: an organisation of members across departments, and a round run through chat."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from storage.models import Role
from storage.repositories import Repos
from tests.harness import Chat, Person

# 30 people; Finance is the department of 3 that must never be shown on its own.
DEPARTMENTS = {"Klantenservice": 9, "Sales": 7, "Marketing": 6, "IT": 5, "Finance": 3}


async def organisation(chat: Chat, departments: dict[str, int] | None = None) -> dict[str, list[Person]]:
    """Members per department; the first member of the first department is the CX manager."""
    people: dict[str, list[Person]] = {}
    for number, (department, size) in enumerate((departments or DEPARTMENTS).items()):
        people[department] = []
        for index in range(size):
            roles = [Role.cx_manager] if number == 0 and index == 0 else []
            people[department].append(
                await chat.member(f"{department} Lid{index + 1}", department=department, roles=roles)
            )
    return people


def everyone(people: dict[str, list[Person]]) -> list[Person]:
    return [person for members in people.values() for person in members]


async def run_due(chat: Chat) -> None:
    await chat.services.scheduler.run_due()
    await chat.deliver()


async def advance(chat: Chat, clock: ManualClock, delta: timedelta) -> None:
    clock.advance(delta)
    await run_due(chat)


async def latest_round_id(chat: Chat) -> int:
    async with chat.services.database.transaction() as session:
        rounds = await Repos(session).pulses.rounds(limit=1)
        return rounds[0].id


async def answer_all(person: Person, enps: int, likert: list[int], comment: str | None) -> None:
    """Answer the open cards in order: eNPS, the Likert items, then the open question (if given)."""
    await person.clicks(str(enps))
    for value in likert:
        await person.clicks(str(value))
    if comment is not None:
        await person.submits({"answer": comment})
