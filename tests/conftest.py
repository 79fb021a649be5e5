"""Shared fixtures: both databases, services on a manual clock, and the web-chat dialogue harness."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Services
from bot.clock import ManualClock
from bot.config import Settings
from tests.databases import PostgresUnavailable, Templates
from tests.harness import Chat

IN_CI = os.environ.get("CI", "").lower() == "true"
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Amsterdam


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    found = Templates(tmp_path_factory.mktemp("databases"))
    yield found
    found.cleanup()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, templates: Templates) -> AsyncIterator[str]:
    """A fresh, migrated database; every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield await templates.sqlite()
        return
    try:
        url = await templates.postgres()
    except PostgresUnavailable as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI: {error}")
        pytest.skip(f"PostgreSQL not available locally: {error}")
    yield url
    await templates.drop(url)


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "background": False,
        "demo": False,
        "web_chat": True,
        "log_format": "text",
        "organisation": "Testbedrijf",
        "secret_key": "test-secret-key-shared-by-every-instance-in-tests",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
async def services(settings: Settings, clock: ManualClock) -> AsyncIterator[Services]:
    built = Services(settings, clock=clock)
    await built.start()
    yield built
    await built.stop()


@pytest.fixture
async def chat(services: Services) -> Chat:
    return Chat(services)
