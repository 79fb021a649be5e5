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
    else:
        # Several rows: one multi-row VALUES (a parameter list would be executemany, whose row count the
        # PostgreSQL driver does not report).
        result = await session.execute(_statement(dialect, table, tuple(conflict)).values(values))
    return int(getattr(result, "rowcount", 0) or 0)


async def insert_ignore_returning(
    session: AsyncSession, table: Table, rows: list[dict[str, Any]], conflict: list[str], returning: list[str]
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` unless their ``conflict`` columns already exist, in one statement; returns the
    ``returning`` columns of the rows it inserted (both databases return only those)."""
    if not rows:
        return []
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    statement = _statement(dialect, table, tuple(conflict)).values(rows)
    result = await session.execute(statement.returning(*(table.c[name] for name in returning)))
    return [tuple(row) for row in result.all()]


@cache
def _statement(dialect: str, table: Table, conflict: tuple[str, ...]) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(conflict))
