"""`klantpet feedback …` against both databases, as an operator runs it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app


async def run(database_url: str, data_dir: Path, *args: str) -> tuple[int, str]:
    env = {
        "KLANTPET_DATABASE_URL": database_url,
        "KLANTPET_DATA_DIR": str(data_dir),
        "KLANTPET_LOG_FORMAT": "text",
    }
    # The command runs its own event loop, so it runs in a thread of its own.
    result = await asyncio.to_thread(CliRunner().invoke, app, ["feedback", *args], env=env)
    return result.exit_code, result.output


async def test_settings_are_validated_changed_and_shown(database_url: str, tmp_path: Path) -> None:
    code, output = await run(database_url, tmp_path, "settings", "--sla-days", "4", "--channel", "nope")
    assert code == 2 and "no channel 'nope'" in output
    code, output = await run(database_url, tmp_path, "status")
    assert code == 0 and "5 working days" in output  # the refused change changed nothing
    code, output = await run(database_url, tmp_path, "settings", "--sla-days", "3")
    assert code == 0, output
    code, output = await run(database_url, tmp_path, "status")
    assert code == 0 and "3 working days" in output and "relay queue\t0" in output
