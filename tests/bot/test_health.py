"""`/healthz` tells a load balancer the truth: 200 when the database and the clock work, 503 when not."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import Services
from bot.clock import ManualClock
from bot.server import create_app
from tests.conftest import make_settings
from tests.databases import Templates


@pytest.fixture
async def health(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://klantpet.test") as client:
        yield client


async def lose_the_database(database_url: str, templates: Templates) -> None:
    """The database goes away under a running bot (the server is down, the file is gone)."""
    if database_url.startswith("postgresql"):
        await templates.drop(database_url)
        return
    path = Path(database_url.split(":///", 1)[1])
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    path.mkdir()  # SQLite cannot open a folder: every new connection fails


async def test_an_unreachable_database_makes_the_bot_unhealthy(
    health: httpx.AsyncClient, services: Services, database_url: str, templates: Templates, tmp_path: Path
) -> None:
    before = await health.get("/healthz")
    assert before.status_code == 200 and before.json()["database"] == "ok"
    await lose_the_database(database_url, templates)
    await services.database.engine.dispose()  # connections kept open from before are gone with it
    after = await health.get("/healthz")
    assert after.status_code == 503
    body = after.json()
    assert body["status"] == "degraded" and body["database"].startswith("unavailable")
    assert "postgres@" not in after.text and str(tmp_path) not in after.text  # no address or path leaks
    if database_url.startswith("sqlite"):
        shutil.rmtree(database_url.split(":///", 1)[1])


async def test_a_stopped_scheduler_makes_the_bot_unhealthy(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    services = Services(make_settings(tmp_path, database_url, background=True), clock=clock)
    await services.start()
    try:
        transport = httpx.ASGITransport(app=create_app(services))
        async with httpx.AsyncClient(transport=transport, base_url="http://klantpet.test") as client:
            running = await client.get("/healthz")
            assert running.status_code == 200 and running.json()["scheduler"] == "running"
            await services.scheduler.stop()
            stopped = await client.get("/healthz")
            assert stopped.status_code == 503
            assert stopped.json()["scheduler"] == "stopped" and stopped.json()["status"] == "degraded"
    finally:
        await services.stop()
