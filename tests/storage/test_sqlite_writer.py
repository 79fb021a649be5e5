"""On SQLite one process writes one transaction at a time, in arrival order; a writer that cannot have its turn
within the busy timeout fails as SQLite itself would. (SQLite only: PostgreSQL writes side by side.)"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import literal_column, select
from sqlalchemy.exc import OperationalError

import storage.db
from storage.db import Database
from storage.models import ProcessedEvent
from storage.repositories import Repos

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def database(sqlite_database: Database) -> Database:
    return sqlite_database


async def note(database: Database, event_id: str, hold: float = 0.0) -> None:
    async with database.transaction() as session:
        await Repos(session).events.first_time("web", event_id, NOW)
        await asyncio.sleep(hold)


async def test_writers_take_turns_in_the_order_they_came(database: Database) -> None:
    first = asyncio.create_task(note(database, "1", hold=0.2))
    await asyncio.sleep(0.05)  # the first holds the turn; the others queue behind it
    others = [asyncio.create_task(note(database, str(n))) for n in range(2, 6)]
    await asyncio.gather(first, *others)
    async with database.reading() as session:
        order = (
            await session.scalars(select(ProcessedEvent.event_id).order_by(literal_column("rowid")))
        ).all()
    assert list(order) == ["1", "2", "3", "4", "5"]


async def test_a_writer_that_cannot_have_its_turn_in_time_fails_and_writes_nothing(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT", 0.3)
    async with database.transaction() as session:
        await Repos(session).events.first_time("web", "first", NOW)
        slow = asyncio.create_task(note(database, "slow", hold=1.5))
        await asyncio.sleep(0.05)  # queued behind this transaction
    # The turn has just passed to `slow` (woken, not yet run): the writer free for a moment. Coming back
    # at once must not jump the queue nor wait without a limit.
    with pytest.raises(OperationalError, match="database is locked"):
        await note(database, "late")  # (without a limit it would have its turn after `slow`, and succeed)
    assert not slow.done()
    await slow
    async with database.reading() as session:
        events = (
            await session.scalars(select(ProcessedEvent.event_id).order_by(literal_column("rowid")))
        ).all()
    assert list(events) == ["first", "slow"]
