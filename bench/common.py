"""What every bench shares: a fresh database (SQLite or PostgreSQL), settings, organisations, and reporting.

Benches print figures; they are never timed tests. Run them from the project's folder, e.g.
``uv run python -m bench.broadcast``.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import asyncpg

from bot.config import Settings
from storage.db import Database
from storage.migrate import upgrade
from tests.faults.support import SECRET_KEY, add_members

__all__ = ["add_members"]

PG_ADMIN = os.environ.get("KLANTPET_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextlib.asynccontextmanager
async def fresh_database(kind: str, folder: Path) -> AsyncIterator[str]:
    """A new, migrated database for one bench run: ``sqlite`` (a file in ``folder``) or ``postgresql``."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        await migrate(url)
        yield url
        return
    if kind != "postgresql":
        raise SystemExit(f"unknown database {kind!r}: sqlite or postgresql")
    name = f"klantpet_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    host = PG_ADMIN.rsplit("@", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql+asyncpg://postgres@{host}/{name}"
    try:
        await migrate(url)
        yield url
    finally:
        admin = await asyncpg.connect(PG_ADMIN, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def migrate(url: str) -> None:
    database = Database(url)
    try:
        await upgrade(database)
    finally:
        await database.dispose()


def bench_settings(folder: Path, database_url: str, **overrides: Any) -> Settings:
    """Settings of a production-like process (background dispatcher, no demo data, no web chat)."""
    values: dict[str, Any] = {
        "data_dir": folder / "data",
        "database_url": database_url,
        "background": True,
        "demo": False,
        "web_chat": False,
        "log_level": "WARNING",
        "log_format": "text",
        "organisation": "Benchbedrijf",
        "secret_key": SECRET_KEY,  # the bot processes a bench starts share it
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Progress:
    """A one-line progress indicator on stderr (long runs show that they are alive)."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.started, self.shown = label, total, time.monotonic(), -1.0

    def update(self, done: int, extra: str = "") -> None:
        now = time.monotonic()
        if now - self.shown < 0.5 and done < self.total:
            return
        self.shown = now
        share = done / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        sys.stderr.write(
            f"\r  {self.label:<28} [{bar:<30}] {done:>7}/{self.total} {now - self.started:6.1f}s {extra}"
        )
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


def percentile(values: Iterable[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=1000, method="inclusive")[max(0, int(share * 1000) - 1)]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain Markdown table (the README quotes these as they are)."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    return "\n".join([line, rule, *body])


def scratch_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="klantpet-bench-")
