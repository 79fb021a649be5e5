"""Apply Alembic migrations programmatically (at start and by `klantpet db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x4B6C616E74706574  # "Klantpet": the PostgreSQL advisory lock key held while migrating


def alembic_config(url: str = "") -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    config.set_main_option("version_path_separator", "os")
    return config


async def upgrade(database: Database) -> None:
    """Bring the schema to the newest revision (all heads); safe when several instances start at once."""

    def _upgrade(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # One instance migrates; the others wait here, then find the schema up to date. The lock ends
            # with the transaction. (SQLite needs none: BEGIN IMMEDIATE already lets one writer in.)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config = alembic_config(database.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")

    async with database.engine.begin() as connection:
        await connection.run_sync(_upgrade)


def new_revision(message: str, revision_id: str, scratch: str) -> str:
    """Write a migration for what the models add beyond all current heads (a maintainer's tool)."""
    import asyncio

    async def prepare() -> None:
        database = Database(scratch)
        await upgrade(database)
        await database.dispose()

    asyncio.run(prepare())
    config = alembic_config(scratch)
    script = command.revision(config, message=message, autogenerate=True, rev_id=revision_id, head="heads")
    path = getattr(script, "path", None) if script is not None and not isinstance(script, list) else None
    return str(path)
