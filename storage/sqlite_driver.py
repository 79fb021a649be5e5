"""SQLite through aiosqlite, one trip to its thread per statement.

aiosqlite runs every sqlite3 call in a thread of its own, and each call is a round trip: queue it, wake the
thread, wake the event loop with the answer. SQLAlchemy's stock adapter makes three or four such trips for one
statement (open a cursor, execute, fetch the rows, close), and on a busy loop each trip costs about as much
as the statement itself. This adapter runs the whole statement (cursor, execute, rows, close) as one call, so
an event that takes twenty statements pays twenty trips instead of seventy. A rollback with nothing to roll back
(the pool's reset of a connection just committed) makes no trip at all. Transactions, errors and results
are unchanged: it is the same sqlite3 connection in the same thread, called in the same order.

Only the everyday cursor is replaced; streamed (server-side) results keep SQLAlchemy's own. Where aiosqlite
lacks the one internal this needs (``Connection._execute``, there since 0.17) the stock adapter is used.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.util import concurrency

# `await_` since SQLAlchemy 2.1; `await_only` before (and until 2.2)
await_only = getattr(concurrency, "await_", None) or concurrency.await_only
Row = tuple[Any, ...]
Outcome = tuple[Any, list[Row], int, int | None]


def _statement(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """In aiosqlite's thread: the statement, its rows, and what the cursor says about it."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneCallCursor:
    """A DB-API cursor whose statement and rows come back from the thread in one call."""

    server_side = False

    def __init__(self, adapted: OneCallConnection) -> None:
        self._adapted = adapted
        self._connection: Any = adapted._connection  # an aiosqlite.Connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1
        self._rows: deque[Row] = deque()

    def execute(self, operation: str, parameters: Any = None) -> None:
        self._run(operation, parameters, many=False)

    def executemany(self, operation: str, parameters: Sequence[Any]) -> None:
        self._run(operation, parameters, many=True)

    def _run(self, operation: str, parameters: Any, *, many: bool) -> None:
        self._adapted.settled = False  # any statement may begin a transaction (also on a cursor kept open)
        try:
            # `_conn` raises "no active connection" once closed, which the adapter turns into its error.
            work = self._connection._execute(_statement, self._connection._conn, operation, parameters, many)
            description, rows, rowcount, lastrowid = await_only(work)
        except Exception as error:
            self._adapted._handle_exception(error)
        self.description, self.rowcount, self.lastrowid = description, rowcount, lastrowid
        self._rows = deque(rows)

    def fetchone(self) -> Row | None:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Row]:
        rows = self._rows
        return [rows.popleft() for _ in range(min(size or self.arraysize, len(rows)))]

    def fetchall(self) -> list[Row]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Iterator[Row]:
        while self._rows:
            yield self._rows.popleft()

    def setinputsizes(self, *sizes: Any) -> None:
        """Nothing to do for SQLite (part of the DB-API)."""

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's asyncio layer closes a cursor whose rows it buffered; this one holds no cursor."""


class OneCallConnection(AsyncAdapt_aiosqlite_connection):
    """Hands out `OneCallCursor`, and knows when nothing has run since the last commit or rollback: the pool
    rolls back every connection it gets back, committed or not, and that would be one more trip."""

    __slots__ = ("settled",)

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.settled = False  # unknown yet: the first rollback is a real one

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:
            self.settled = False  # its statements run outside `OneCallCursor`, which notes each of its own
            return super().cursor(server_side=True)
        return OneCallCursor(self)

    def commit(self) -> None:
        self.settled = False  # settled only once the commit has succeeded
        super().commit()
        self.settled = True

    def rollback(self) -> None:
        if self.settled:
            return  # nothing ran since the last commit or rollback: sqlite3 would do nothing either
        super().rollback()
        self.settled = True


class OneCallDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite DB-API module of SQLAlchemy, handing out `OneCallConnection`."""

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        stock = super().connect(*args, **kwargs)
        return OneCallConnection(self, stock._connection)


def one_call_dbapi() -> OneCallDBAPI | None:
    """The module to give ``create_async_engine(module=...)`` for aiosqlite; None: use the stock one."""
    if not callable(getattr(aiosqlite.Connection, "_execute", None)):
        return None
    return OneCallDBAPI(aiosqlite, sqlite3)
