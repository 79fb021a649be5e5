"""Fixtures of the storage tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.db import Database
from tests.databases import Templates


@pytest.fixture
async def sqlite_database(templates: Templates) -> AsyncIterator[Database]:
    """A migrated SQLite database, for what only SQLite has (aiosqlite's thread, the one writer)."""
    found = Database(await templates.sqlite())
    yield found
    await found.dispose()
