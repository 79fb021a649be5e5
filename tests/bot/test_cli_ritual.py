"""`klantpet meetings add|list|ritual` and `klantpet silos list|map` against the same database as the chat."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner, Result

from bot.cli import app
from bot.clock import ManualClock
from tests.handlers.ritual_dialogue import add_meeting, report, team
from tests.harness import Chat


async def klantpet(tmp_path: Path, database_url: str, command: str, *extra: str) -> Result:
    """Run ``klantpet <command> <extra…>`` (``command`` split on spaces; ``extra`` kept whole)."""
    args = [*command.split(), *extra]
    env = {
        "KLANTPET_DATABASE_URL": database_url,
        "KLANTPET_DATA_DIR": str(tmp_path / "cli"),
        "KLANTPET_DEMO": "false",
        "KLANTPET_LOG_FORMAT": "text",
    }
    # The CLI runs its own event loop, so it gets a thread of its own.
    return await asyncio.to_thread(CliRunner().invoke, app, args, env=env)


async def test_cli_adds_a_meeting_that_gets_its_ritual(
    chat: Chat, clock: ManualClock, tmp_path: Path, database_url: str
) -> None:
    people = await team(chat)
    added = await klantpet(
        tmp_path,
        database_url,
        "meetings add --name Weekstart --channel weekstart --days mo --time 10:00 --duration 45",
        "--participant",
        "Anna de Vries",
        "--participant",
        "Bram Jansen",
    )
    assert added.exit_code == 0, added.output
    assert "Added meeting #1 'Weekstart' in #weekstart with 2 participants." in added.output
    listed = await klantpet(tmp_path, database_url, "meetings list")
    assert "#1\tWeekstart\t#weekstart\tnext Monday" in listed.output  # the CLI runs on the real clock
    assert "10:00\tritual on" in listed.output

    await people.anna.says("vergaderingen")
    assert "Weekstart" in (await people.anna.last_reply()).text
    await people.anna.says("pet", where="channel:weekstart")
    assert (await people.anna.last_reply("channel:weekstart")).key == "ritual.opening"

    off = await klantpet(tmp_path, database_url, "meetings ritual 1 off")
    assert off.exit_code == 0 and "ritual off" in off.output


async def test_cli_refuses_a_bad_meeting_and_adds_nothing(
    chat: Chat, tmp_path: Path, database_url: str
) -> None:
    await team(chat)
    refused = await klantpet(
        tmp_path, database_url, "meetings add --name Weekstart --channel nergens --days someday --time 10:00"
    )
    assert refused.exit_code == 2
    assert "--channel: I don't know a channel “nergens”" in refused.output
    assert "--days:" in refused.output
    listed = await klantpet(tmp_path, database_url, "meetings list")
    assert listed.exit_code == 0 and listed.output.strip() == ""
    silos = await klantpet(tmp_path, database_url, "silos list --status all")
    assert silos.exit_code == 0 and silos.output.strip() == ""


async def test_cli_lists_the_register_and_draws_the_silo_map(
    chat: Chat, clock: ManualClock, tmp_path: Path, database_url: str
) -> None:
    people = await team(chat)
    await add_meeting(people.bram)
    await report(chat, clock, people, "Klantenservice", "Logistiek", people.hanna)
    await report(chat, clock, people, "Sales", "Finance", people.fatima)
    await people.fatima.says("silo 2 status opgelost")

    def rows(result: Result) -> list[list[str]]:
        assert result.exit_code == 0, result.output
        return [line.split("\t") for line in result.output.splitlines()]

    open_now = rows(await klantpet(tmp_path, database_url, "silos list"))
    assert open_now == [["#1", "Klantenservice ↔ Logistiek", "open", "2026-11-23", "Hanna Bos"]]
    resolved = rows(await klantpet(tmp_path, database_url, "silos list --status resolved"))
    assert resolved == [["#2", "Finance ↔ Sales", "resolved", "2026-11-23", "Fatima El Amrani"]]
    assert len(rows(await klantpet(tmp_path, database_url, "silos list --status all"))) == 2
    bogus = await klantpet(tmp_path, database_url, "silos list --status klaar")
    assert bogus.exit_code == 2 and "unknown status" in bogus.output

    assert rows(await klantpet(tmp_path, database_url, "silos map")) == [
        ["", "Finance", "Klantenservice", "Logistiek", "Sales"],
        ["Finance", "0", "0", "0", "1"],
        ["Klantenservice", "0", "0", "1", "0"],
        ["Logistiek", "0", "1", "0", "0"],
        ["Sales", "1", "0", "0", "0"],
    ]
