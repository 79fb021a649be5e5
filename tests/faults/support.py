"""What the fault tests share: a real `klantpet run` process, an organisation seeded in bulk, a broadcast,
and a middleware that makes a fake platform API unreliable before the fake itself sees the request."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert
from starlette.responses import JSONResponse

from bot.app import Services
from bot.config import env_name
from bot.context import JobContext
from handlers.pulses.rounds import RoundSpec, create_round
from storage.db import Database
from storage.models import Identity, Member
from tests.fakes.server import free_port
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack

ROOT = Path(__file__).resolve().parents[2]
SIGNING_SECRET = "fault-tests-signing-secret"
SECRET_KEY = "fault-tests-secret-key-shared-by-every-process"


async def add_members(
    database: Database, platform: str, identities: Sequence[tuple[str, str | None]], *, locale: str = "nl"
) -> list[int]:
    """One member per ``(external_id, dm_ref)`` with an identity on ``platform``, inserted in bulk."""
    now = datetime.now(UTC)
    ids: list[int] = []
    async with database.transaction() as session:
        for start in range(0, len(identities), 1000):
            chunk = identities[start : start + 1000]
            first = len(ids)
            new = list(
                await session.scalars(
                    insert(Member).returning(Member.id, sort_by_parameter_order=True),
                    [
                        {
                            "name": f"Medewerker {first + n + 1:05d}",
                            "locale": locale,
                            "timezone": "Europe/Amsterdam",
                            "active": True,
                            "joined_at": now,
                            "created_at": now,
                        }
                        for n in range(len(chunk))
                    ],
                )
            )
            ids.extend(new)
            await session.execute(
                insert(Identity),
                [
                    {
                        "member_id": member_id,
                        "platform": platform,
                        "external_id": external_id,
                        "dm_ref": dm_ref,
                        "created_at": now,
                    }
                    for member_id, (external_id, dm_ref) in zip(new, chunk, strict=True)
                ],
            )
    return ids


def slack_users(fake: FakeSlack, count: int) -> list[tuple[str, str | None]]:
    """``count`` people in the fake workspace, as identities for `add_members`."""
    users = [f"U{n:010d}" for n in range(1, count + 1)]
    for n, user in enumerate(users, start=1):
        fake.add_user(user, f"user{n}", f"Medewerker {n:05d}")
    return [(user, None) for user in users]


def teams_people(count: int) -> list[tuple[str, str | None]]:
    """``count`` people with the bot installed in their personal chat (AAD object id, conversation id)."""
    return [(f"aad-{n:08d}", f"a:personal-{n:08d}") for n in range(count)]


async def store_personal_chats(
    services: Services,
    service_url: str,
    app_id: str,
    tenant_id: str,
    people: Sequence[tuple[str, str | None]],
) -> None:
    """The conversation references Teams gave us when the bot was installed for each of ``people``."""
    from microsoft_agents.activity import ConversationReference
    from microsoft_agents.hosting.core.app.proactive import Conversation

    from bot.platforms.teams_conversations import CONVERSATION_KEY
    from storage.repositories import Repos

    values: dict[str, Any] = {}
    for n, (aad, conversation_id) in enumerate(people):
        assert conversation_id is not None
        reference = ConversationReference.model_validate(
            {
                "channelId": "msteams",
                "serviceUrl": service_url,
                "bot": {"id": f"28:{app_id}"},
                "user": {"id": f"29:user-{n}", "aadObjectId": aad},
                "conversation": {
                    "id": conversation_id,
                    "conversationType": "personal",
                    "tenantId": tenant_id,
                },
            }
        )
        values[CONVERSATION_KEY + conversation_id] = Conversation(
            {"aud": app_id}, reference
        ).store_item_to_json()
    keys = list(values)
    async with services.database.transaction() as session:
        for start in range(0, len(keys), 1000):
            await Repos(session).teams.write({key: values[key] for key in keys[start : start + 1000]})


def telegram_people(count: int) -> list[tuple[str, str | None]]:
    """``count`` people who linked their Telegram account (user id = private chat id)."""
    return [(str(500_000 + n), str(500_000 + n)) for n in range(count)]


def slack_settings(api_url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "slack_bot_token": DEFAULT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": f"{api_url}/api/",
        "slack_workspace_rate": 100.0,
        **overrides,
    }


async def open_pulse(services: Services, **spec: Any) -> int:
    """A pulse round for everyone, opened now (or at ``opens_at``): one DM per person, enqueued at once."""
    async with services.database.transaction() as session:
        pulse_round = await create_round(
            JobContext(services, session),
            RoundSpec(
                name=spec.pop("name", "Fault test"),
                quiet_hours=("00:00", "00:00"),
                reminder_minutes=(),
                **spec,
            ),
        )
        round_id = pulse_round.id
    services.outbox.wake()
    return round_id


def slack_dms(fake: FakeSlack) -> Counter[str]:
    """How many messages each person was sent (accepted by the fake)."""
    return Counter(
        str(call.params.get("channel"))
        for call in list(fake.calls)
        if call.method == "chat.postMessage" and call.status == 200 and call.error is None
    )


async def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


class BotProcess:
    """``klantpet run`` in a process of its own, configured only through its environment."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.port = free_port()
        self.environment = {
            **{
                key: value for key, value in os.environ.items() if not key.startswith(("KLANTPET_", "SLACK_"))
            },
            **environment,
            "KLANTPET_PORT": str(self.port),
            "KLANTPET_HOST": "127.0.0.1",
            "PYTHONPATH": str(ROOT),
        }
        self.process: subprocess.Popen[bytes] | None = None
        # What the process prints goes to a file, never to a pipe nobody reads while it runs: a full pipe
        # would block the bot's event loop on its next log line.
        self.output = Path(self.environment["KLANTPET_DATA_DIR"]) / f"klantpet-{self.port}.log"

    def start(self, timeout: float = 60) -> BotProcess:
        command = [sys.executable, "-c", "from bot.cli import main; main()", "run"]
        with self.output.open("ab") as output:
            self.process = subprocess.Popen(  # a real bot process, as production starts it
                command,
                cwd=self.environment["KLANTPET_DATA_DIR"],
                env=self.environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code in (200, 503):
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self.stop()
                raise AssertionError(f"klantpet run did not start:\n{output}")
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> str:
        """SIGTERM (a graceful stop); returns what the process printed."""
        if self.process is None:
            return ""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.printed()

    def printed(self) -> str:
        """What the process has printed so far."""
        return self.output.read_text(errors="replace") if self.output.exists() else ""


def bot_environment(database_url: str, data_dir: Path, **settings: Any) -> dict[str, str]:
    """The environment of a bot process: our own settings as KLANTPET_*, platform credentials by name."""
    data_dir.mkdir(parents=True, exist_ok=True)
    environment = {
        "KLANTPET_DATABASE_URL": database_url,
        "KLANTPET_DATA_DIR": str(data_dir),
        "KLANTPET_SECRET_KEY": SECRET_KEY,
        "KLANTPET_LOG_FORMAT": "text",
        "KLANTPET_LOG_LEVEL": "WARNING",
    }
    for name, value in settings.items():
        environment[env_name(name)] = str(value)
    return environment


@dataclass
class Unreliable:
    """ASGI middleware: a share of the calls ``faulty(scope)`` selects fail before the fake sees them.

    Kinds: ``429`` (with ``Retry-After: 1``), ``5xx`` (500, 502 or 503), and ``timeout`` (no answer for
    ``stall`` seconds, longer than the client waits, then 504). None of these reach the platform, so the
    message was not posted and sending it again is right.
    """

    app: Any
    faulty: Callable[[dict[str, Any]], bool]
    rate: float = 0.2
    stall: float = 11.0
    seed: int = 7
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.faulty(scope) or self.random.random() >= self.rate:
            await self.app(scope, receive, send)
            return
        kind = self.random.choice(["429", "5xx", "5xx", "timeout"] if self.stall else ["429", "5xx"])
        self.injected[kind] += 1
        if kind == "timeout":
            await asyncio.sleep(self.stall)
            response = JSONResponse({"ok": False, "error": "gateway_timeout"}, status_code=504)
        elif kind == "429":
            response = JSONResponse(
                {
                    "ok": False,
                    "error": "ratelimited",
                    "description": "Too Many Requests: retry after 1",
                    "error_code": 429,
                    "parameters": {"retry_after": 1},
                },
                status_code=429,
                headers={"Retry-After": "1"},
            )
        else:
            status = self.random.choice([500, 502, 503])
            response = JSONResponse({"ok": False, "error": "internal_error"}, status_code=status)
        await response(scope, receive, send)
