"""A reading transaction sees what is committed, does not wait for a write going on, and cannot write."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from storage.db import Database
from storage.models import Member
from storage.repositories import Repos

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def members(database: Database) -> int:
    async with database.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(Member)) or 0)


async def test_a_reader_sees_the_committed_state_while_a_write_is_open(database_url: str) -> None:
    database = Database(database_url)
    try:
        async with database.transaction() as session:
            await Repos(session).members.create("Anna", identities=[("web", "anna")], now=NOW)
        async with database.transaction() as session:
            await Repos(session).members.create("Bram", identities=[("web", "bram")], now=NOW)
            await session.flush()
            # the write holds SQLite's only write lock; a reader neither waits for it nor sees it yet
            assert await asyncio.wait_for(members(database), timeout=5) == 1
        assert await members(database) == 2
    finally:
        await database.dispose()


async def test_a_write_in_a_reading_transaction_fails_and_changes_nothing(database_url: str) -> None:
    database = Database(database_url)
    try:
        with pytest.raises(DBAPIError, match="(?i)read.?only"):
            async with database.reading() as session:
                await Repos(session).members.create("Cas", identities=[("web", "cas")], now=NOW)
        assert await members(database) == 0
        async with database.transaction() as session:  # the pooled connection writes again afterwards
            await Repos(session).members.create("Cas", identities=[("web", "cas")], now=NOW)
        assert await members(database) == 1
    finally:
        await database.dispose()
