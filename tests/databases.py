"""Fresh, migrated databases for tests: SQLite files and PostgreSQL databases cloned from a template.

PostgreSQL runs at 127.0.0.1:5432 (user postgres, trust auth). Locally a missing server skips those
tests with a clear reason; under CI (``CI=true``) it fails them instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import asyncpg

from storage.db import Database
from storage.migrate import upgrade

PG_HOST = os.environ.get("KLANTPET_TEST_PG_HOST", "127.0.0.1")
PG_ADMIN = f"postgresql://postgres@{PG_HOST}:5432/postgres"
PG_URL = "postgresql+asyncpg://postgres@" + PG_HOST + ":5432/{name}"


class PostgresUnavailable(Exception):
    pass


async def _admin(statement: str) -> None:
    try:
        connection = await asyncpg.connect(PG_ADMIN, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        raise PostgresUnavailable(f"PostgreSQL at {PG_HOST}:5432 is not reachable: {error}") from error
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


class Templates:
    """One migrated template per back end per test session; each test gets a copy."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sqlite_template: Path | None = None
        self.pg_template: str | None = None
        self.created: list[str] = []

    async def sqlite(self) -> str:
        if self.sqlite_template is None:
            path = self.folder / "template.db"
            database = Database(f"sqlite+aiosqlite:///{path}")
            await upgrade(database)
            await database.dispose()
            self.sqlite_template = path
        copy = self.folder / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self.sqlite_template, copy)
        return f"sqlite+aiosqlite:///{copy}"

    async def postgres(self) -> str:
        if self.pg_template is None:
            name = f"klantpet_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            await _admin(f'CREATE DATABASE "{name}"')
            self.created.append(name)
            database = Database(PG_URL.format(name=name))
            await upgrade(database)
            await database.dispose()
            self.pg_template = name
        name = f"klantpet_t_{uuid.uuid4().hex[:12]}"
        await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.pg_template}"')
        self.created.append(name)
        return PG_URL.format(name=name)

    async def drop(self, url: str) -> None:
        if url.startswith("postgresql"):
            name = url.rsplit("/", 1)[1]
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if name in self.created:
                self.created.remove(name)

    def cleanup(self) -> None:
        async def work() -> None:
            for name in list(self.created):
                try:
                    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except PostgresUnavailable:
                    return

        if self.created:
            asyncio.run(work())
