"""The local platform fakes, each in a process of its own (so they never compete with the bot for the GIL).

    uv run python -m bench.fakes slack --port 8099 --speedup 20 --recipients 10000

Adds ``GET /_bench/tally`` to every fake: how many messages it accepted (to how many recipients, first and
last acceptance on the shared monotonic clock) and how many calls it throttled. `FakeProcess` starts one
and reads the tally from a bench.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.responses import JSONResponse

from tests.fakes.server import free_port
from tests.fakes.slack_api import FakeSlack
from tests.fakes.teams_api import TEAMS_LIMITS, FakeTeams
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]

# Documented app-wide limits (messages per second, burst the fake allows at once) and the default speed-up:
# real time where one process keeps up (Teams 50/s, Telegram 30/s), Slack's 5/s four times faster.
LIMITS = {"slack": (5.0, 5.0, 4.0), "telegram": (30.0, 30.0, 1.0), "teams": (50.0, 50.0, 1.0)}


def _slack(speedup: float, recipients: int, fault_rate: float) -> tuple[Any, Callable[[], dict[str, Any]]]:
    rate, burst, _ = LIMITS["slack"]
    fake = FakeSlack(
        rate_per_channel=1.0,
        workspace_rate=rate,
        workspace_burst=burst,
        time_scale=1 / speedup,
        fault_rate=fault_rate,
        fault_kinds=("429", "500", "503", "timeout"),
        timeout_delay=3.0,
    )
    for n in range(1, recipients + 1):
        fake.add_user(f"U{n:010d}", f"user{n}", f"Medewerker {n:05d}")

    def tally() -> dict[str, Any]:
        calls = list(fake.calls)
        accepted = [
            (str(c.params.get("channel")), c.at)
            for c in calls
            if c.method == "chat.postMessage" and c.status == 200 and c.error is None
        ]
        refused = Counter(f"{c.method}:{c.error or c.status}" for c in calls if c.status != 200 or c.error)
        return _summary(accepted, refused)

    return fake.app, tally


def _telegram(speedup: float, recipients: int, fault_rate: float) -> tuple[Any, Callable[[], dict[str, Any]]]:
    rate, _, _ = LIMITS["telegram"]
    fake = FakeTelegram(
        per_chat_rate=1.0,
        global_rate=rate,
        time_scale=1 / speedup,
        fault_rate=fault_rate,
        fault_kinds=("429", "500", "502", "timeout"),
        timeout_delay=6.0,
    )
    for n in range(recipients):
        fake.add_chat(500_000 + n, "private")

    def tally() -> dict[str, Any]:
        calls = list(fake.calls)
        accepted = [
            (str(c.params.get("chat_id")), c.t)
            for c in calls
            if c.method == "sendMessage" and c.status == 200
        ]
        refused = Counter(f"{c.method}:{c.status}" for c in calls if c.status != 200)
        return _summary(accepted, refused)

    return fake.app, tally


def _teams(speedup: float, recipients: int, fault_rate: float) -> tuple[Any, Callable[[], dict[str, Any]]]:
    fake = FakeTeams(
        rate_limits=TEAMS_LIMITS,
        time_scale=1 / speedup,
        clock=time.monotonic,
        fault_rate=fault_rate,
        fault_kinds=(429, 502, 503, 504, "timeout"),
        timeout_delay=25.0,
    )

    def tally() -> dict[str, Any]:
        calls = fake.calls
        accepted = [(str(c.conversation_id), c.at) for c in calls if c.op == "send" and c.status == 201]
        offset = time.time() - time.monotonic()  # the fake stamps wall time; report the monotonic clock
        return _summary(
            [(who, at - offset) for who, at in accepted],
            Counter(f"{c.op}:{c.status}" for c in calls if c.status >= 400),
        )

    return fake.app, tally


def _summary(accepted: list[tuple[str, float]], refused: Counter[str]) -> dict[str, Any]:
    per_recipient = Counter(who for who, _ in accepted)
    times = [at for _, at in accepted]
    return {
        "accepted": len(accepted),
        "recipients": len(per_recipient),
        "duplicated": len(accepted) - len(per_recipient),
        "first": min(times, default=None),
        "last": max(times, default=None),
        "refused": sum(refused.values()),
        "refusals": dict(refused),
    }


FAKES = {"slack": _slack, "telegram": _telegram, "teams": _teams}


def app_with_tally(app: Any, tally: Callable[[], dict[str, Any]]) -> Any:
    async def with_tally(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/_bench/tally":
            response = JSONResponse(tally())
            await response(scope, receive, send)
            return
        if scope["type"] == "http" and scope["path"] == "/_bench/ready":
            await JSONResponse({"ready": True})(scope, receive, send)
            return
        await app(scope, receive, send)

    return with_tally


class FakeProcess:
    """A fake platform API in its own process; ``url`` is its base address."""

    def __init__(self, platform: str, *, speedup: float, recipients: int, fault_rate: float = 0.0) -> None:
        self.platform = platform
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "bench.fakes",
            platform,
            "--port",
            str(self.port),
            "--speedup",
            str(speedup),
            "--recipients",
            str(recipients),
            "--fault-rate",
            str(fault_rate),
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{self.url}/_bench/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the fake {platform} API did not start")
            time.sleep(0.1)

    async def tally(self) -> dict[str, Any]:
        response = await asyncio.to_thread(httpx.get, f"{self.url}/_bench/tally", timeout=30)
        found: dict[str, Any] = response.json()
        return found

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve one platform fake for the benches.")
    parser.add_argument("platform", choices=sorted(FAKES))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--speedup", type=float, default=1.0)
    parser.add_argument("--recipients", type=int, default=0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    arguments = parser.parse_args()
    app, tally = FAKES[arguments.platform](arguments.speedup, arguments.recipients, arguments.fault_rate)
    json.dumps(tally())  # fail early if the tally cannot be served
    uvicorn.run(
        app_with_tally(app, tally),
        host="127.0.0.1",
        port=arguments.port,
        log_level="warning",
        lifespan="off",
        access_log=False,
    )


if __name__ == "__main__":
    main()
