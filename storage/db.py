"""Engine and session factory for SQLite (WAL, embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.sqlite_driver import one_call_dbapi

BUSY_TIMEOUT = 30.0
"""Seconds a SQLite transaction waits for its turn before it fails."""
READ_ONLY = "klantpet_read_only"


class Database:
    """One engine and its session factory. ``is_postgres`` lets repositories pick dialect features."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_postgres = parsed.get_backend_name() == "postgresql"
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            # A few kept connections (each is a thread in aiosqlite); more would only queue on the lock below.
            kwargs["pool_size"] = 2
            kwargs["max_overflow"] = 2
            kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT}
            module = one_call_dbapi()  # one trip to aiosqlite's thread per statement
            if module is not None:
                kwargs["module"] = module
        else:
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = pool_size
            kwargs["pool_pre_ping"] = True
        # hide_parameters: bound values (answers, names) never reach logs or stored error texts.
        self.engine: AsyncEngine = create_async_engine(url, hide_parameters=True, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # The same engine and pool, for `reading`: transactions that may not write (on SQLite they begin
        # deferred, see `_sqlite_begin`; on PostgreSQL they are READ ONLY).
        options: dict[str, Any] = {READ_ONLY: True}
        if self.is_postgres:
            options["postgresql_readonly"] = True
        self._reader = self.engine.execution_options(**options)
        # SQLite has one writer at a time. Waiting for it inside SQLite means its busy handler sleeping in
        # growing steps (tens of ms each) while the lock is long free again; within one process the tasks
        # queue here instead and each goes as soon as the one before is done. Other processes still meet
        # SQLite's busy timeout.
        self._writer = _Writer() if self.is_sqlite else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on any error."""
        if self._writer is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self._writer, self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A transaction that only reads; a write in it fails. On SQLite it does not queue behind the writer:
        in WAL mode a reader sees the last committed state while a write goes on."""
        async with self.sessions(bind=self._reader) as session, session.begin():
            yield session

    async def ping(self) -> None:
        from sqlalchemy import text

        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


class _Writer:
    """One SQLite transaction at a time per process, in arrival order.

    A task may open a transaction inside its own (SQLite would make it wait for itself, as before); a task
    that cannot have its turn within the busy timeout fails as SQLite itself would ("database is locked").
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0
        self._queued = 0  # tasks waiting for their turn

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            self._depth += 1
            return
        if not self._lock.locked() and not self._queued:
            await self._lock.acquire()  # free, and nobody's turn comes first: taken at once, no timer to set
        else:
            # (also when it is free only because the next in turn has been woken and has yet to take it)
            self._queued += 1
            try:
                async with asyncio.timeout(BUSY_TIMEOUT):
                    await self._lock.acquire()
            except TimeoutError:
                raise OperationalError(
                    "BEGIN", None, sqlite3.OperationalError("database is locked")
                ) from None
            finally:
                self._queued -= 1
        self._owner, self._depth = task, 1

    async def __aexit__(self, *_: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, emit BEGIN (savepoints work) and take the write lock at once
    # (BEGIN IMMEDIATE), so concurrent transactions queue on busy_timeout instead of failing to upgrade.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
    # Deleted rows (e.g. pulse participation at closing) are overwritten, not left readable in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # A reading transaction begins deferred (it never takes the write lock) and may not write; the pooled
    # connection remembers which it was last, so a run of writes pays for no extra statement.
    read_only = bool(connection.get_execution_options().get(READ_ONLY))
    if connection.info.get(READ_ONLY, False) != read_only:
        connection.exec_driver_sql(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
        connection.info[READ_ONLY] = read_only
    connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")
