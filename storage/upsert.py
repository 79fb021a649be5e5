"""Dialect-aware INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL share the syntax)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignore(
    session: AsyncSession, table: Table, values: dict[str, Any] | list[dict[str, Any]], conflict: list[str]
) -> int:
    """Insert rows unless their ``conflict`` columns already exist; returns how many were inserted."""
    if isinstance(values, list) and len(values) == 1:
        values = values[0]  # one row compiles once and is cached; a multi-row VALUES compiles every time
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        statement: Any = (
            postgresql.insert(table).values(values).on_conflict_do_nothing(index_elements=conflict)
        )
    else:
        statement = sqlite.insert(table).values(values).on_conflict_do_nothing(index_elements=conflict)
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
