"""`klantpet leadership relay` and `klantpet leadership contacts` against a real database."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from bot.cli import app
from storage.models import Role
from tests.harness import Chat


async def invoke(tmp_path: Path, database_url: str, *args: str) -> tuple[int, str]:
    env = {
        "KLANTPET_DATABASE_URL": database_url,
        "KLANTPET_DATA_DIR": str(tmp_path / "data"),
        "KLANTPET_LOG_FORMAT": "text",
    }
    result = await asyncio.to_thread(CliRunner().invoke, app, ["leadership", *args], env=env)
    return result.exit_code, result.output


async def test_the_cli_shows_the_relay_and_the_contact_counts(
    chat: Chat, tmp_path: Path, database_url: str
) -> None:
    code, output = await invoke(tmp_path, database_url, "relay")
    assert (code, output.strip()) == (0, "No CX relay yet.")

    lars = await chat.member("Lars Hendriks", roles=[Role.leader])
    karin = await chat.member("Karin Peters", roles=[Role.leader])
    await chat.member("Bram Jansen", roles=[Role.leader])  # still to run a leg, so the relay goes on
    await chat.channel("algemeen", [lars, karin])
    await lars.says("estafette doorgeven Karin Peters Bel een klant")
    await lars.says("klantcontact gebeld Klant over de levertijd")

    code, output = await invoke(tmp_path, database_url, "relay")
    assert code == 0
    assert output.splitlines() == [
        "Lars Hendriks → Karin Peters",
        "Baton: Karin Peters since 23-11-2026 (challenge: Bel een klant)",
    ]
    await karin.says("blog Een klant gebeld.")
    await karin.clicks(chat.t("nl", "leadership.button_send"))
    code, output = await invoke(tmp_path, database_url, "relay")
    assert (code, output.splitlines()[1]) == (
        0,
        "Baton: Karin Peters since 23-11-2026 (shared on 23-11-2026, choosing the next leader)",
    )
    code, output = await invoke(tmp_path, database_url, "contacts", "--months", "2")
    assert code == 0
    header, *rows = output.splitlines()
    months = header.split("\t")[1:]
    this_month = datetime.now(ZoneInfo("Europe/Amsterdam")).strftime(
        "%Y-%m"
    )  # the CLI runs on the real clock
    assert header.startswith("leader\t") and len(months) == 2 and months[-1] == this_month
    logged = [str(int(month == "2026-11")) for month in months]  # the chat logged one call in November 2026
    assert rows == ["\t".join(["Lars Hendriks", *logged]), "Karin Peters\t0\t0", "Bram Jansen\t0\t0"]
    code, output = await invoke(tmp_path, database_url, "contacts", "--months", "13")
    assert code == 2
