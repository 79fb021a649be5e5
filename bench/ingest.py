"""Ingest: signed Slack ``block_actions`` (pulse answers) at rising rates, against `klantpet run`.

    uv run python -m bench.ingest                       # 100 -> 1,000 answers/s on SQLite, 5 s each
    uv run python -m bench.ingest --database postgresql --rates 100,500,1000 --seconds 10

Each step sends answers open-loop at a fixed rate (a request leaves at its planned moment whatever the
earlier ones are doing, so a slow server cannot slow the load down and hide its own latency), each from a
different person to the eNPS question of an open pulse round, signed with the Slack signing secret the way
Slack signs. It prints the acknowledgement latency (p50, p99, measured from the planned moment), the
throughput of answers *persisted* (counted in the database, not merely acknowledged) and checks each was
persisted exactly once. The same load then goes to a bare ASGI endpoint (`bench.bare`) that only checks the
signature and does the same insert, as the yardstick. Targets: p99 < 50 ms at 500/s; our throughput at
least 50 % of the bare endpoint's.

The bot and the yardstick each run in a process of their own; the fake Slack API that receives the card
updates runs in a third.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.common import Progress, bench_settings, fresh_database, percentile, scratch_folder, table
from bench.fakes import ROOT, FakeProcess
from bot.app import Services
from bot.context import JobContext
from bot.messages import Choice, Message
from bot.platforms.slack_render import ACTION_PREFIX
from handlers.pulses.library import ENPS_ID
from handlers.pulses.rounds import RoundSpec, create_round
from storage.models import Delivery
from storage.models.pulses import PulseParticipation, PulseTally
from storage.repositories.tokens import token_for
from tests.fakes.server import free_port
from tests.fakes.slack_api import DEFAULT_TOKEN, block_actions_body, signed_headers
from tests.faults.support import SIGNING_SECRET, BotProcess, add_members, bot_environment, slack_settings


@dataclass
class Step:
    rate: int
    sent: int
    latencies: list[float]
    failures: int
    persisted_after: float

    @property
    def throughput(self) -> float:
        return self.sent / self.persisted_after if self.persisted_after else 0.0


class Target:
    """Where the answers go, and how to count what it persisted."""

    def __init__(self, url: str, database: AsyncEngine, round_id: int, bodies: list[tuple[str, str]]) -> None:
        self.url, self.database, self.round_id, self.bodies = url, database, round_id, bodies
        self.next = 0

    async def persisted(self) -> tuple[int, int]:
        """(participation rows, sum of the whole audience's eNPS counters) of the round.

        A plain read (no write lock, unlike the app's transactions on SQLite), so counting never queues
        behind the server it is watching."""
        async with self.database.connect() as session:
            answered = await session.scalar(
                select(func.count())
                .select_from(PulseParticipation)
                .where(PulseParticipation.round_id == self.round_id)
            )
            counted = await session.scalar(
                select(func.coalesce(func.sum(PulseTally.count), 0)).where(
                    PulseTally.round_id == self.round_id,
                    PulseTally.question_id == ENPS_ID,
                    PulseTally.department_id == 0,
                )
            )
        return int(answered or 0), int(counted or 0)


async def fire(target: Target, rate: int, seconds: float, session: aiohttp.ClientSession) -> Step:
    """Send ``rate`` answers a second for ``seconds``, open loop; wait until all are persisted."""
    count = int(rate * seconds)
    bodies = target.bodies[target.next : target.next + count]
    target.next += count
    before, _ = await target.persisted()
    latencies: list[float] = []
    failures = 0

    async def one(planned: float, body: str, user: str) -> None:
        nonlocal failures
        headers = {
            **signed_headers(SIGNING_SECRET, body),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        try:
            async with session.post(f"{target.url}/slack/events", data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
        except aiohttp.ClientError:
            failures += 1
        latencies.append(time.perf_counter() - planned)

    started = time.perf_counter()
    tasks = []
    for n, (user, body) in enumerate(bodies):
        planned = started + n / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(planned, body, user)))
    await asyncio.gather(*tasks)
    deadline = time.perf_counter() + 600
    answered, counted = await target.persisted()
    while answered - before < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
        answered, counted = await target.persisted()
    persisted_after = time.perf_counter() - started
    if answered != counted:
        raise SystemExit(f"not exactly once: {answered} participations but {counted} counted")
    return Step(rate, count, latencies, failures + count - (answered - before), persisted_after)


async def prepare(
    database_url: str, folder: Path, people: int, api_url: str, bare: bool
) -> tuple[int, list[tuple[str, str]]]:
    """A pulse round open for ``people`` (its cards already delivered), and one signed answer body each."""
    services = Services(bench_settings(folder, database_url, background=False, **slack_settings(api_url)))
    try:
        identities = [(f"U{n:010d}", None) for n in range(1, people + 1)]
        member_ids = await add_members(services.database, "slack", identities)
        async with services.database.transaction() as session:
            pulse_round = await create_round(
                JobContext(services, session),
                RoundSpec(
                    name="Ingest",
                    question_ids=(ENPS_ID,),
                    include_open=False,
                    quiet_hours=("00:00", "00:00"),
                    reminder_minutes=(),
                ),
            )
            round_id = pulse_round.id
            cards = (await session.scalars(select(Delivery).where(Delivery.topic == "pulse"))).all()
            # The cards count as delivered (as if the broadcast had run): clicks come back for them.
            await session.execute(
                update(Delivery)
                .where(Delivery.topic == "pulse")
                .values(status="sent", platform_message_id=None)
            )
        by_member = {card.member_id: card for card in cards}
        posted = {} if bare else await post_cards(api_url, [user for user, _ in identities])
        if posted:
            async with services.database.transaction() as session:  # the cards are where Slack shows them
                await session.execute(
                    update(Delivery),
                    [
                        {"id": by_member[member_ids[n]].id, "platform_message_id": ":".join(posted[user])}
                        for n, (user, _) in enumerate(identities)
                    ],
                )
        bodies = []
        for n, (user, _) in enumerate(identities):
            value = (n * 7) % 11  # answers spread over the scale
            if bare:
                token = json.dumps(
                    {"round": round_id, "member": member_ids[n], "question": ENPS_ID, "value": value}
                )
            else:
                token = button_token(Message.from_json(by_member[member_ids[n]].message), value)
            channel, ts = posted.get(user, (f"D{user[1:]}", f"1700000000.{n:06d}"))
            body = block_actions_body(
                f"{ACTION_PREFIX}{value}", value=token, user_id=user, channel_id=channel, message_ts=ts
            )
            bodies.append((user, body))
        return round_id, bodies
    finally:
        await services.database.dispose()


async def post_cards(api_url: str, users: list[str]) -> dict[str, tuple[str, str]]:
    """Post each person's card to the fake Slack, as the broadcast would have: the (channel, ts) their
    click comes back with, and which the bot then updates to "answered"."""
    client = AsyncWebClient(token=DEFAULT_TOKEN, base_url=f"{api_url}/api/")
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=10))
    progress = Progress("posting the cards", len(users))
    posted: dict[str, tuple[str, str]] = {}
    gate = asyncio.Semaphore(50)

    async def post(user: str) -> None:
        async with gate:
            response = await client.chat_postMessage(channel=user, text="Pulse")
        posted[user] = (str(response["channel"]), str(response["ts"]))
        progress.update(len(posted))

    await asyncio.gather(*(post(user) for user in users))
    progress.close()
    return posted


def button_token(card: Message, value: int) -> str:
    """The token Slack would send back when this person taps ``value`` on the card."""
    for block in card.blocks:
        if isinstance(block, Choice):
            for option in block.options:
                if option.label == str(value):
                    return token_for(block.action, option.payload)
    raise SystemExit("the pulse card has no 0-10 scale")


async def run(database: str, rates: list[int], seconds: float) -> tuple[list[list[str]], dict[str, int]]:
    people = int(sum(rates) * seconds) + 10
    rows = []
    outbox: dict[str, int] = {}
    # The fake's limits scaled far above the bot's own pace (100 sends/s): this bench is about what comes in,
    # and the cards are posted at full speed while preparing.
    fake = FakeProcess("slack", speedup=1000, recipients=people)
    try:
        for kind in ("klantpet", "bare"):
            with scratch_folder() as scratch:
                folder = Path(scratch)
                async with fresh_database(database, folder) as database_url:
                    progress = Progress(f"{kind}: preparing", 1)
                    round_id, bodies = await prepare(database_url, folder, people, fake.url, kind == "bare")
                    progress.update(1)
                    progress.close()
                    server, url = start_server(kind, database_url, folder, fake.url)
                    counter = create_async_engine(database_url)
                    try:
                        target = Target(url, counter, round_id, bodies)
                        connector = aiohttp.TCPConnector(limit=500)
                        first = await last_delivery(counter)
                        async with aiohttp.ClientSession(connector=connector) as session:
                            for rate in rates:
                                step = await fire(target, rate, seconds, session)
                                rows.append(row(database, kind, step))
                                print("  " + " | ".join(rows[-1]), file=sys.stderr)
                        if kind == "klantpet":
                            outbox = await sent_after(counter, first)
                    finally:
                        await counter.dispose()
                        server()
    finally:
        fake.stop()
    return rows, outbox


async def last_delivery(database: AsyncEngine) -> int:
    async with database.connect() as connection:
        return int(await connection.scalar(select(func.coalesce(func.max(Delivery.id), 0))) or 0)


async def sent_after(database: AsyncEngine, first: int, timeout: float = 300) -> dict[str, int]:
    """Once the outbox has settled: the messages the answers caused (card edits, thanks) by status, and
    (under ``seconds``) how long it took after the last step."""
    started = time.perf_counter()
    deadline = started + timeout
    while True:
        async with database.connect() as connection:
            counts = {
                str(status): int(count)
                for status, count in await connection.execute(
                    select(Delivery.status, func.count()).where(Delivery.id > first).group_by(Delivery.status)
                )
            }
        if not counts.get("pending") or time.perf_counter() > deadline:
            return {**counts, "seconds": round(time.perf_counter() - started)}
        await asyncio.sleep(0.2)


def row(database: str, kind: str, step: Step) -> list[str]:
    return [
        database,
        kind,
        f"{step.rate}/s",
        f"{percentile(step.latencies, 0.5) * 1000:.1f} ms",
        f"{percentile(step.latencies, 0.99) * 1000:.1f} ms",
        f"{step.throughput:.0f}/s",
        str(step.failures),
    ]


def start_server(kind: str, database_url: str, folder: Path, api_url: str) -> tuple[Callable[[], Any], str]:
    """Start ``klantpet run`` or the bare endpoint; returns (stop, base URL)."""
    if kind == "klantpet":
        environment = bot_environment(
            database_url, folder / "bot", web_chat="false", **slack_settings(api_url)
        )
        bot = BotProcess(environment).start(timeout=120)
        return bot.stop, f"http://127.0.0.1:{bot.port}"
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "bench.bare",
        "--port",
        str(port),
        "--database-url",
        database_url,
        "--signing-secret",
        SIGNING_SECRET,
    ]
    process = subprocess.Popen(command, cwd=ROOT)
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the bare endpoint did not start") from None
            time.sleep(0.1)

    def stop() -> None:
        process.terminate()
        process.wait(timeout=10)

    return stop, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rates", default="100,250,500,750,1000")
    parser.add_argument("--seconds", type=float, default=5.0)
    arguments = parser.parse_args()
    rates = [int(rate) for rate in arguments.rates.split(",")]
    rows, outbox = asyncio.run(run(arguments.database, rates, arguments.seconds))
    print(f"\nSigned Slack block_actions (pulse answers), {arguments.seconds:g} s per rate:\n")
    print(table(["database", "endpoint", "offered", "ack p50", "ack p99", "persisted", "failed"], rows))
    ours = {r[2]: float(r[5].removesuffix("/s")) for r in rows if r[1] == "klantpet"}
    bare = {r[2]: float(r[5].removesuffix("/s")) for r in rows if r[1] == "bare"}
    ratios = ", ".join(f"{rate}: {ours[rate] / bare[rate]:.2f}" for rate in ours if bare.get(rate))
    print(f"\nthroughput klantpet / bare per offered rate: {ratios}")
    seconds = outbox.pop("seconds", 0)
    settled = ", ".join(f"{count} {status}" for status, count in sorted(outbox.items()))
    print(
        f"messages the answers caused (card edits and thanks), once the outbox settled "
        f"{seconds} s after the last answer: {settled}"
    )
    print("targets: ack p99 < 50 ms at 500/s; klantpet >= 0.5 x bare")


if __name__ == "__main__":
    main()
