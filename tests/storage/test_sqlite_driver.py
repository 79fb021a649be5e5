"""SQLite through aiosqlite with one trip to its thread per statement: the same results, errors and
transactions as SQLAlchemy's stock adapter, in a third of the trips. (SQLite only: PostgreSQL has no thread.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import Member, ProcessedEvent
from storage.repositories import Repos
from storage.upsert import insert_ignore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def database(sqlite_database: Database) -> Database:
    return sqlite_database


async def test_rows_counts_and_new_ids_come_back_as_before(database: Database) -> None:
    async with database.transaction() as session:
        anna = await Repos(session).members.create("Anna", identities=[("web", "anna")], now=NOW)
        bram = await Repos(session).members.create("Bram", identities=[("web", "bram")], now=NOW)
        assert anna.id and bram.id and anna.id != bram.id  # ids the database gave
    async with database.transaction() as session:
        names = (await session.scalars(select(Member.name).order_by(Member.name))).all()
        changed = await session.execute(update(Member).where(Member.name == "Anna").values(title="CX"))
        found = await Repos(session).members.by_identity("web", "bram")
    assert list(names) == ["Anna", "Bram"]
    assert getattr(changed, "rowcount", None) == 1
    assert (
        found is not None and found.name == "Bram" and [i.external_id for i in found.identities] == ["bram"]
    )


async def test_insert_ignore_counts_what_it_inserted_one_row_or_several(database: Database) -> None:
    table: Any = ProcessedEvent.__table__
    row = {"platform": "slack", "event_id": "E1", "received_at": NOW}
    async with database.transaction() as session:
        assert await insert_ignore(session, table, row, ["platform", "event_id"]) == 1
        assert await insert_ignore(session, table, row, ["platform", "event_id"]) == 0
        several = [{**row, "event_id": f"E{n}"} for n in range(1, 5)]
        assert await insert_ignore(session, table, several, ["platform", "event_id"]) == 3
        await session.execute(insert(ProcessedEvent), [{**row, "event_id": f"M{n}"} for n in range(3)])
    async with database.reading() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedEvent)) == 7


async def test_a_failed_statement_raises_the_usual_error_and_the_transaction_keeps_nothing(
    database: Database,
) -> None:
    with pytest.raises(IntegrityError):
        async with database.transaction() as session:
            await Repos(session).members.create("Cas", identities=[("web", "cas")], now=NOW)
            await session.flush()
            await Repos(session).members.create("Cas again", identities=[("web", "cas")], now=NOW)
            await session.flush()
    async with database.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 0
    async with database.transaction() as session:  # the pooled connection is fine afterwards
        await Repos(session).members.create("Cas", identities=[("web", "cas")], now=NOW)
    async with database.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 1


async def test_a_streamed_result_still_arrives_row_by_row(database: Database) -> None:
    async with database.transaction() as session:
        for n in range(5):
            await Repos(session).members.create(f"M{n}", identities=[("web", f"m{n}")], now=NOW)
    async with database.reading() as session:
        streamed = await session.stream_scalars(select(Member.name).order_by(Member.name))
        assert [name async for name in streamed] == [f"M{n}" for n in range(5)]


async def test_each_statement_is_one_trip_to_the_thread(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = 0
    real = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal trips
        trips += 1
        return await real(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    async with database.transaction() as session:
        await session.execute(text("SELECT 1"))  # the transaction has begun
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        for n in range(10):
            assert (await session.execute(text("SELECT :n"), {"n": n})).scalar() == n
        await session.execute(update(Member).values(title="x"))
        assert trips == 11
    assert trips == 12  # the commit; the pool's rollback of the committed connection makes no trip


async def test_a_connection_given_back_in_the_middle_of_a_write_is_rolled_back(database: Database) -> None:
    def write_unknown_to_sqlalchemy(connection: Any) -> None:
        cursor = connection.connection.dbapi_connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(
            "INSERT INTO processed_events (platform, event_id, received_at) VALUES ('web', 'E', '')"
        )

    async with database.engine.connect() as connection:
        await connection.run_sync(write_unknown_to_sqlalchemy)
    # the pool's reset undid the write and let go of SQLite's write lock
    async with database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedEvent)) == 0
        await session.execute(insert(ProcessedEvent).values(platform="web", event_id="F", received_at=NOW))
    async with database.reading() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1


async def test_a_cursor_kept_across_a_commit_still_has_its_write_rolled_back(database: Database) -> None:
    def commit_then_write_on_the_same_cursor(connection: Any) -> None:
        dbapi = connection.connection.dbapi_connection
        cursor = dbapi.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(
            "INSERT INTO processed_events (platform, event_id, received_at) VALUES ('web', 'E', '')"
        )
        dbapi.commit()
        cursor.execute("BEGIN IMMEDIATE")  # legal DB-API use: the cursor outlives the commit
        cursor.execute(
            "INSERT INTO processed_events (platform, event_id, received_at) VALUES ('web', 'G', '')"
        )

    async with database.engine.connect() as connection:
        await connection.run_sync(commit_then_write_on_the_same_cursor)
    async with database.transaction() as session:  # the write lock was let go, and only E was kept
        events = (await session.scalars(select(ProcessedEvent.event_id))).all()
    assert list(events) == ["E"]
