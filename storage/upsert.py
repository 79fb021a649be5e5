"""Dialect-aware INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL share the syntax)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


async def insert_ignore(
    session: AsyncSession, table: Table, values: dict[str, Any] | list[dict[str, Any]], conflict: list[str]
) -> int:
    """Insert rows unless their ``conflict`` columns already exist; returns how many were inserted."""
    if isinstance(values, list) and len(values) == 1:
        values = values[0]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    if isinstance(values, dict):
        # One row: the same statement object every time with the row as parameters, so it is compiled once
        # and its cache key is cheap (a hot path: every inbound event and every outgoing message).
        result = await session.execute(_statement(dialect, table, tuple(conflict)), values)
        return int(getattr(result, "rowcount", 0) or 0)
    # Several rows: the inserted ones are counted by what comes back (an executemany's row count is not
    # reported by the PostgreSQL driver).
    return len(await insert_ignore_returning(session, table, values, conflict, conflict))


async def insert_ignore_returning(
    session: AsyncSession, table: Table, rows: list[dict[str, Any]], conflict: list[str], returning: list[str]
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` unless their ``conflict`` columns already exist, in one statement; returns the
    ``returning`` columns of the rows it inserted (both databases return only those; SQLite from 3.35)."""
    if not rows:
        return []
    if any(row.keys() != rows[0].keys() for row in rows):
        raise ValueError("every row needs the same columns")  # a parameter list takes the first row's
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    # A parameter list: SQLAlchemy compiles the statement once (cached) and sends the rows as multi-row
    # VALUES pages ("insertmanyvalues"), in order; compiling a VALUES of many rows each time cost ~5 ms.
    result = await session.execute(_returning(dialect, table, tuple(conflict), tuple(returning)), rows)
    return [tuple(row) for row in result.all()]


@cache
def _statement(dialect: str, table: Table, conflict: tuple[str, ...]) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(conflict))


@cache
def _returning(dialect: str, table: Table, conflict: tuple[str, ...], returning: tuple[str, ...]) -> Insert:
    return _statement(dialect, table, conflict).returning(*(table.c[name] for name in returning))
