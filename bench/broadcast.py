"""Broadcast: a pulse round opened for N members sends each a DM, through local fakes of Slack, Teams and
Telegram that enforce the documented limits. Prints, per platform, the efficiency (theoretical minimum time /
actual time), and lost and duplicated messages.

    uv run python -m bench.broadcast                      # all three, 10,000 members each, on SQLite
    uv run python -m bench.broadcast --platforms telegram --members 2000 --database postgresql

The whole real path runs: the pulse feature invites everyone (one delivery row each, in the round's
transaction), the outbox dispatcher claims, renders and sends through the platform's real SDK client over
HTTP to the fake, which answers 429 when a limit is exceeded. Time can be scaled (``--speedup``): the
fake's limits and ours are multiplied by the same factor. By default Teams and Telegram run in real time
(about 3 and 6 minutes for 10,000) and Slack, whose workspace rate is 5/s, four times faster (8 minutes);
the figures are ratios and do not depend on the factor as long as the machine keeps up and its hiccups stay
small next to a (scaled) second: one process does not keep up at a few hundred sends a second, and at ×10
a 10 ms pause weighs as much as 100 ms would in real time.

Theoretical minimum: the binding limit for DMs (each person is a different conversation) is the app-wide
one; a perfect sender sends the fake's burst at once and then exactly at its rate: (N - burst) / rate.
Measured: from the moment the round's invitations are committed to the moment the fake accepts the last.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.common import Progress, add_members, bench_settings, fresh_database, scratch_folder, table
from bench.fakes import LIMITS, FakeProcess
from bot.app import Services, settle_heap
from bot.context import JobContext
from bot.platforms.base import Outgoing, RetryAfter
from bot.ratelimit import Limit
from handlers.pulses.rounds import RoundSpec, create_round
from tests.fakes.slack_api import DEFAULT_TOKEN
from tests.fakes.teams_api import (
    DEFAULT_APP_ID,
    DEFAULT_APP_SECRET,
    DEFAULT_TENANT_ID,
    SERVICE_URL_PATH,
    FakeAccessTokenProvider,
)
from tests.faults.support import store_personal_chats, teams_people, telegram_people


class Scaled:
    """A platform whose limits run ``factor`` times faster (the fake's clock runs as much faster)."""

    def __init__(self, platform: Any, factor: float) -> None:
        self._platform, self._factor = platform, factor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._platform, name)

    @property
    def throughput(self) -> float:
        return float(self._platform.throughput) * self._factor

    def limits(self, target: str) -> list[Limit]:
        return [
            Limit(
                limit.key,
                limit.rate * self._factor,
                limit.burst,
                (limit.window[0], limit.window[1] / self._factor) if limit.window else None,
            )
            for limit in self._platform.limits(target)
        ]

    async def send(self, outgoing: Outgoing) -> str | None:
        try:
            reference: str | None = await self._platform.send(outgoing)
        except RetryAfter as limited:  # the fake says Retry-After in its own (faster) seconds
            raise RetryAfter(limited.seconds / self._factor, limited.scope) from None
        return reference


@dataclass
class Outcome:
    platform: str
    members: int
    speedup: float
    rate: float
    burst: float
    seconds: float
    enqueued: float
    recipients: int
    duplicated: int
    throttled: int
    refusals: dict[str, int]

    @property
    def minimum(self) -> float:
        return max(0.0, self.members - self.burst) / self.rate

    @property
    def efficiency(self) -> float:
        return self.minimum / self.seconds if self.seconds > 0 else 0.0

    @property
    def lost(self) -> int:
        return self.members - self.recipients


class Bench:
    """One platform: the settings that point our app at its fake, and who the recipients are."""

    name: str

    def __init__(self) -> None:
        self.rate, self.burst, self.speedup = LIMITS[self.name]

    def settings(self, url: str) -> dict[str, Any]:
        raise NotImplementedError

    def identities(self, count: int) -> list[tuple[str, str | None]]:
        raise NotImplementedError

    async def prepare(self, services: Services, fake: FakeProcess, member_ids: list[int]) -> None:
        """Anything the platform must know before the first message (after members exist)."""


class SlackBench(Bench):
    name = "slack"  # Slack documents "several hundred messages a minute" per workspace; ours: 300/min

    def settings(self, url: str) -> dict[str, Any]:
        return {
            "slack_bot_token": DEFAULT_TOKEN,
            "slack_signing_secret": "bench-signing-secret",
            "slack_api_url": f"{url}/api/",
            "slack_workspace_rate": self.rate,
        }

    def identities(self, count: int) -> list[tuple[str, str | None]]:
        return [(f"U{n:010d}", None) for n in range(1, count + 1)]


class TelegramBench(Bench):
    name = "telegram"

    def settings(self, url: str) -> dict[str, Any]:
        return {
            "telegram_bot_token": "123456:TEST",
            "telegram_webhook_secret": "bench-webhook-secret",
            "telegram_api_url": url,
        }

    def identities(self, count: int) -> list[tuple[str, str | None]]:
        return telegram_people(count)


class TeamsBench(Bench):
    name = "teams"

    def settings(self, url: str) -> dict[str, Any]:
        return {
            "teams_client_id": DEFAULT_APP_ID,
            "teams_client_secret": DEFAULT_APP_SECRET,
            "teams_tenant_id": DEFAULT_TENANT_ID,
            "teams_service_url": f"{url}{SERVICE_URL_PATH}",
        }

    def identities(self, count: int) -> list[tuple[str, str | None]]:
        return teams_people(count)

    async def prepare(self, services: Services, fake: FakeProcess, member_ids: list[int]) -> None:
        """The bot was installed for everyone (their personal chats are known); its own token comes from the
        fake's token endpoint by a plain client-credentials grant."""
        from bot.platforms.teams import TeamsPlatform

        endpoint = SimpleNamespace(base_url=fake.url)
        services.platforms["teams"] = TeamsPlatform(
            services,
            token_provider_factory=lambda configuration: FakeAccessTokenProvider(endpoint, configuration),  # type: ignore[arg-type]
        )
        people = teams_people(len(member_ids))
        await store_personal_chats(
            services, f"{fake.url}{SERVICE_URL_PATH}", DEFAULT_APP_ID, DEFAULT_TENANT_ID, people
        )


BENCHES: dict[str, type[Bench]] = {"slack": SlackBench, "teams": TeamsBench, "telegram": TelegramBench}


async def run_one(bench: Bench, members: int, database: str, speedup: float, timeout: float) -> Outcome:
    fake = FakeProcess(bench.name, speedup=speedup, recipients=members)
    try:
        with scratch_folder() as scratch:
            folder = Path(scratch)
            async with fresh_database(database, folder) as database_url:
                services = Services(bench_settings(folder, database_url, **bench.settings(fake.url)))
                member_ids = await add_members(services.database, bench.name, bench.identities(members))
                await bench.prepare(services, fake, member_ids)
                services.platforms[bench.name] = Scaled(services.platforms[bench.name], speedup)
                await services.start()
                settle_heap()  # as `klantpet run` does once started
                try:
                    inviting = time.monotonic()
                    async with services.database.transaction() as session:
                        await create_round(
                            JobContext(services, session),
                            RoundSpec(name="Bench", quiet_hours=("00:00", "00:00"), reminder_minutes=()),
                        )
                    started = time.monotonic()  # committed: from here on the dispatcher can see them
                    enqueued = started - inviting
                    services.outbox.wake()
                    tally = await watch(fake, bench.name, members, timeout)
                finally:
                    await services.stop()
                    await services.database.dispose()
    finally:
        fake.stop()
    return Outcome(
        platform=bench.name,
        members=members,
        speedup=speedup,
        rate=bench.rate * speedup,
        burst=bench.burst,
        seconds=(tally["last"] or started) - started,
        enqueued=enqueued,
        recipients=tally["recipients"],
        duplicated=tally["duplicated"],
        throttled=tally["refused"],
        refusals=tally["refusals"],
    )


async def watch(fake: FakeProcess, name: str, members: int, timeout: float) -> dict[str, Any]:
    """Wait until every recipient got the message (or ``timeout``), showing progress."""
    progress = Progress(f"{name}: delivered", members)
    deadline = time.monotonic() + timeout
    tally = await fake.tally()
    while time.monotonic() < deadline and tally["recipients"] < members:
        await asyncio.sleep(0.5)
        tally = await fake.tally()
        progress.update(tally["recipients"], f"refused: {tally['refused']}")
    await asyncio.sleep(1.0)  # let a late duplicate show itself
    tally = await fake.tally()
    progress.update(tally["recipients"])
    progress.close()
    return tally


def report(outcomes: list[Outcome]) -> str:
    rows = [
        [
            o.platform,
            f"{o.members:,}",
            f"{o.rate / o.speedup:g}/s x{o.speedup:g}",
            f"{o.minimum:.1f} s",
            f"{o.seconds:.1f} s ({o.enqueued:.1f} s to invite)",
            f"{o.efficiency:.3f}",
            o.lost,
            o.duplicated,
            o.throttled,
        ]
        for o in outcomes
    ]
    headers = [
        "platform",
        "DMs",
        "limit x speed-up",
        "minimum",
        "actual",
        "efficiency",
        "lost",
        "dup",
        "refused",
    ]
    notes = [f"{o.platform} refusals: {o.refusals}" for o in outcomes if o.refusals]
    return "\n".join([table(headers, rows), *notes])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--platforms", default="slack,teams,telegram")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--speedup", type=float, default=None, help="time scale (default per platform)")
    arguments = parser.parse_args()
    outcomes = []
    for name in arguments.platforms.split(","):
        bench = BENCHES[name.strip()]()
        speedup = arguments.speedup or bench.speedup
        timeout = 5 * (arguments.members / (bench.rate * speedup)) + 120
        outcomes.append(asyncio.run(run_one(bench, arguments.members, arguments.database, speedup, timeout)))
    print(f"\nBroadcast of a pulse DM, database {arguments.database}:\n")
    print(report(outcomes))
    print("\nefficiency = theoretical minimum / actual (target >= 0.98); lost and dup(licated): target 0")


if __name__ == "__main__":
    main()
