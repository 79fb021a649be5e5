"""Pulse counters are written last in their transaction, and only when the answer itself is kept."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.models.pulses import PulseParticipation
from storage.repositories import Repos

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def open_round(database: Database, people: int) -> tuple[int, list[int]]:
    async with database.transaction() as session:
        repos = Repos(session)
        members = [
            (await repos.members.create(f"Lid {n}", identities=[("web", f"lid-{n}")], now=NOW)).id
            for n in range(people)
        ]
        found = await repos.pulses.add_round(
            name="Maart",
            status="open",
            audience={"kind": "everyone", "ids": [], "names": []},
            question_ids=["enps"],
            timezone="Europe/Amsterdam",
            opens_at=NOW,
            closes_at=NOW + timedelta(days=3),
            opened_at=NOW,
            created_at=NOW,
        )
        await repos.pulses.invite(found.id, [(member, None) for member in members])
        await repos.pulses.create_tallies(found.id, {"enps": range(11)}, [])
        return found.id, members


async def counted(database: Database, round_id: int) -> tuple[int, dict[int, int]]:
    async with database.transaction() as session:
        answered = await session.scalar(
            select(func.count())
            .select_from(PulseParticipation)
            .where(PulseParticipation.round_id == round_id)
        )
        tallies = await Repos(session).pulses.tallies(round_id)
    counts = {value: count for value, count in tallies[("enps", 0)].items() if count}
    return int(answered or 0), counts


async def test_an_answer_rolled_back_with_its_savepoint_is_not_counted(database_url: str) -> None:
    database = Database(database_url)
    try:
        round_id, (anna, bram) = await open_round(database, 2)
        async with database.transaction() as session:
            with pytest.raises(RuntimeError):
                async with session.begin_nested():
                    assert await Repos(session).pulses.record_answer(round_id, anna, "enps", 3, None)
                    raise RuntimeError("the handler failed after recording")
            assert await Repos(session).pulses.record_answer(round_id, bram, "enps", 9, None)
        assert await counted(database, round_id) == (1, {9: 1})
    finally:
        await database.dispose()


async def test_concurrent_answers_to_one_question_are_all_counted(database_url: str) -> None:
    database = Database(database_url)
    try:
        round_id, members = await open_round(database, 12)

        async def answer(member: int, value: int) -> None:
            async with database.transaction() as session:
                assert await Repos(session).pulses.record_answer(round_id, member, "enps", value, None)
                await asyncio.sleep(0.01)  # more work after the answer, while the others answer too

        await asyncio.gather(*(answer(member, n % 3) for n, member in enumerate(members)))
        assert await counted(database, round_id) == (12, {0: 4, 1: 4, 2: 4})
    finally:
        await database.dispose()


async def test_an_answer_without_counters_keeps_nothing(database_url: str) -> None:
    database = Database(database_url)
    try:
        round_id, (anna,) = await open_round(database, 1)
        with pytest.raises(LookupError, match="no counters"):
            async with database.transaction() as session:
                await Repos(session).pulses.record_answer(round_id, anna, "eigen-vraag", 4, None)
        assert await counted(database, round_id) == (0, {})
    finally:
        await database.dispose()
