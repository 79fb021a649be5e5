"""Several instances starting at once against one fresh database all come up, and migrate it exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage.db import Database
from storage.migrate import alembic_config
from tests.databases import PG_ADMIN, PG_URL

INSTANCES = 3


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database with no tables at all, as on the very first start."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"klantpet_fresh_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(PG_ADMIN, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required under CI: {error}")
        pytest.skip(f"PostgreSQL not available locally: {error}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield PG_URL.format(name=name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_instances_starting_together_all_migrate_one_fresh_database(
    empty_database: str, tmp_path: Path
) -> None:
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("KLANTPET_")},
        "KLANTPET_DATABASE_URL": empty_database,
        "KLANTPET_DATA_DIR": str(tmp_path / "data"),
    }
    command = [str(Path(sys.executable).parent / "klantpet"), "db", "upgrade"]
    instances = [
        subprocess.Popen(
            command, env=environment, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(INSTANCES)
    ]
    outcomes = [instance.communicate(timeout=300) for instance in instances]
    for instance, (_, errors) in zip(instances, outcomes, strict=True):
        assert instance.returncode == 0, errors.decode(errors="replace")[-2000:]
    database = Database(empty_database)
    try:
        async with database.engine.connect() as connection:
            versions = set(
                (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars()
            )
            members = (await connection.execute(text("SELECT count(*) FROM members"))).scalar_one()
    finally:
        await database.dispose()
    assert versions == set(ScriptDirectory.from_config(alembic_config()).get_heads())
    assert members == 0
