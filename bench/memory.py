"""Memory: the resident memory of an idle `klantpet run` with every platform loaded.

    uv run python -m bench.memory

Starts the real bot process with Slack, Microsoft Teams, Telegram and the web chat configured (against
the local fakes, served by this process), on SQLite, waits until it is up and has settled, and reads its
resident set size (VmRSS) and peak (VmHWM) from /proc. Target: under 200 MB.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.common import scratch_folder, table
from tests.fakes.server import serve
from tests.fakes.slack_api import FakeSlack
from tests.fakes.teams_api import FakeTeams
from tests.fakes.telegram_api import FakeTelegram
from tests.faults.support import BotProcess, bot_environment, slack_settings


def status_of(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def measure(settle: float) -> list[list[str]]:
    slack, telegram, teams = FakeSlack(), FakeTelegram(), FakeTeams()
    with (
        scratch_folder() as scratch,
        serve(slack.app) as slack_url,
        serve(telegram.app) as telegram_url,
        teams.running(),
    ):
        folder = Path(scratch)
        environment = bot_environment(
            f"sqlite+aiosqlite:///{folder / 'klantpet.db'}",
            folder / "data",
            web_chat="true",
            telegram_bot_token=telegram.token,
            telegram_webhook_secret="bench-webhook-secret",
            telegram_api_url=telegram_url,
            teams_client_id=teams.app_id,
            teams_client_secret=teams.app_secret,
            teams_tenant_id=teams.tenant_id,
            teams_service_url=teams.service_url,
            **slack_settings(slack_url),
        )
        bot = BotProcess(environment).start(timeout=120)
        try:
            assert bot.process is not None
            started = status_of(bot.process.pid)
            time.sleep(settle)
            settled = status_of(bot.process.pid)
        finally:
            bot.stop()
    return [
        ["just started", f"{started['VmRSS'] / 1024:.0f} MB", f"{started['VmHWM'] / 1024:.0f} MB"],
        [f"idle for {settle:g} s", f"{settled['VmRSS'] / 1024:.0f} MB", f"{settled['VmHWM'] / 1024:.0f} MB"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--settle", type=float, default=15.0, help="seconds to stay idle before measuring")
    arguments = parser.parse_args()
    rows = measure(arguments.settle)
    print("\nklantpet run with Slack, Teams, Telegram and the web chat loaded (SQLite):\n")
    print(table(["moment", "resident (RSS)", "peak (HWM)"], rows))
    print("\ntarget: under 200 MB")


if __name__ == "__main__":
    main()
