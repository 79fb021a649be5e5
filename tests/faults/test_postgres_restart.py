"""PostgreSQL restarts in the middle of a broadcast: the bot carries on by itself and loses nothing.

The test runs its own PostgreSQL server (initdb into a temporary folder, as the ``postgres`` user) so that
restarting it disturbs nothing else.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import Services
from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import IN_CI, make_settings
from tests.fakes.server import free_port, serve
from tests.fakes.slack_api import FakeSlack
from tests.faults.support import (
    SECRET_KEY,
    add_members,
    open_pulse,
    slack_dms,
    slack_settings,
    slack_users,
    wait_for,
)

PEOPLE = 600

pytestmark = pytest.mark.slow


def _binaries() -> Path | None:
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PrivatePostgres:
    """A PostgreSQL server of this test's own, on a free port."""

    def __init__(self, folder: Path, binaries: Path) -> None:
        self.folder, self.binaries, self.port = folder, binaries, free_port()
        self.data = folder / "data"

    def _as_postgres(self, *command: str) -> None:
        runner = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        subprocess.run([*runner, *command], check=True, capture_output=True, timeout=120)

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(self.binaries / "pg_ctl"),
            action,
            "-D",
            str(self.data),
            "-w",
            "-l",
            str(self.folder / "server.log"),
            "-o",
            options,
            *extra,
        )

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres(
            str(self.binaries / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"
        )
        self._pg_ctl("start")

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")  # every connection is cut, as in a real restart

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "immediate")

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    binaries = _binaries()
    reason = None
    if binaries is None:
        reason = "PostgreSQL's initdb/pg_ctl are not installed"
    elif os.geteuid() == 0 and shutil.which("runuser") is None:
        reason = "runuser is needed to run PostgreSQL as root's guest"
    if reason:
        if IN_CI:
            pytest.fail(f"a private PostgreSQL is required under CI: {reason}")
        pytest.skip(reason)
    assert binaries is not None
    # Not under pytest's own temporary folder: the postgres user must be able to reach it.
    folder = Path(tempfile.mkdtemp(prefix="klantpet-pg-"))
    server = PrivatePostgres(folder, binaries)
    try:
        server.start()
    except subprocess.CalledProcessError as error:
        shutil.rmtree(folder, ignore_errors=True)
        message = f"could not start a private PostgreSQL: {error.stderr.decode(errors='replace')[-500:]}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def test_the_bot_rides_out_a_postgres_restart_during_a_broadcast(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    migrated = Database(private_postgres.url)
    await upgrade(migrated)
    await migrated.dispose()
    fake = FakeSlack(rate_per_channel=1.0)
    people = slack_users(fake, PEOPLE)
    with serve(fake.app) as api_url:
        services = Services(
            make_settings(
                tmp_path,
                private_postgres.url,
                web_chat=False,
                background=True,
                secret_key=SECRET_KEY,
                outbox_lease_seconds=5,
                **slack_settings(api_url),
            )
        )
        await add_members(services.database, "slack", people)
        await services.start()
        try:
            await open_pulse(services)
            await wait_for(lambda: len(slack_dms(fake)) >= 100, 60, "the broadcast to start")
            started = time.monotonic()
            await asyncio.to_thread(private_postgres.restart)
            restarted_at = len(slack_dms(fake))
            outage = time.monotonic() - started
            await wait_for(lambda: len(slack_dms(fake)) == PEOPLE, 180, "every DM after the restart")
            await wait_for(lambda: services.outbox.idle, 60, "the last outcomes to be recorded")
            health = await services.outbox.backlog()
        finally:
            await services.stop()
            await services.database.dispose()
    received = slack_dms(fake)
    duplicates = sum(received.values()) - len(received)
    print(
        f"\nPostgreSQL restarted ({outage:.1f} s) after {restarted_at} of {PEOPLE} DMs; "
        f"all {len(received)} arrived, {duplicates} twice; backlog afterwards: {health}"
    )
    assert len(received) == PEOPLE
    assert duplicates <= services.settings.outbox_batch_size
    assert health == 0, "deliveries left behind after the restart"
