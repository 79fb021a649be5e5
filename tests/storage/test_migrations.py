"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.models import Base


async def test_migrations_match_the_models(database_url: str) -> None:
    database = Database(database_url)

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    try:
        async with database.engine.connect() as connection:
            found = await connection.run_sync(differences)
    finally:
        await database.dispose()
    assert found == [], f"models and migrations differ; run `klantpet db revision`: {found}"
