"""A minimal fake platform API plus the adapter that talks to it, for outbox and scheduler tests.

`FakeEchoApi` records every message it accepts (by delivery key), can answer 429 with ``Retry-After``, 5xx or
slowly, and enforces a per-target rate. `EchoPlatform` is a real HTTP client adapter (httpx) implementing
`bot.platforms.base.Platform` against it, so the whole outbox path is exercised over real HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bot.platforms.base import Outgoing, PermanentSendError, RetryAfter, TransientSendError
from bot.ratelimit import Limit


@dataclass
class FakeEchoApi:
    per_target_rate: float | None = None
    delay: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)
    failures: deque[tuple[int, float | None]] = field(default_factory=deque)
    last_by_target: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.app = FastAPI()

        @self.app.post("/send")
        async def send(request: Request) -> JSONResponse:
            body = await request.json()
            if self.delay:
                await asyncio.sleep(self.delay)
            with self.lock:
                if self.failures:
                    status, retry_after = self.failures.popleft()
                    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                    self.received.append({**body, "status": status, "at": time.monotonic()})
                    return JSONResponse({"ok": False}, status_code=status, headers=headers)
                now = time.monotonic()
                target = body["target"]
                if (
                    self.per_target_rate
                    and now - self.last_by_target.get(target, -1e9) < 1 / self.per_target_rate * 0.9
                ):
                    self.received.append({**body, "status": 429, "at": now})
                    return JSONResponse({"ok": False}, status_code=429, headers={"Retry-After": "1"})
                self.last_by_target[target] = now
                self.received.append({**body, "status": 200, "at": now})
                return JSONResponse({"ok": True, "id": f"m{len(self.received)}"})

        @self.app.get("/_fake/received")
        async def received() -> list[dict[str, Any]]:
            return self.received

    def fail_next(self, status: int, retry_after: float | None = None, times: int = 1) -> None:
        for _ in range(times):
            self.failures.append((status, retry_after))

    def delivered(self) -> Counter[str]:
        """How often each delivery key was accepted (status 200)."""
        return Counter(entry["key"] for entry in self.received if entry["status"] == 200)


class EchoPlatform:
    """An adapter for `FakeEchoApi` (plays the part a real platform adapter plays)."""

    def __init__(
        self, base_url: str, name: str = "echo", rate: float = 1000.0, per_target: float = 1000.0
    ) -> None:
        self.name = name
        self.base_url = base_url
        self.rate = rate
        self.per_target = per_target
        self.client = httpx.AsyncClient(base_url=base_url, timeout=5.0)

    @property
    def throughput(self) -> float:
        return self.rate

    def limits(self, target: str) -> list[Limit]:
        return [
            Limit(f"{self.name}:app", self.rate, burst=10),
            Limit(f"{self.name}:{target}", self.per_target),
        ]

    async def send(self, outgoing: Outgoing) -> str | None:
        try:
            response = await self.client.post(
                "/send",
                json={"key": outgoing.key, "target": outgoing.target, "text": outgoing.message.plain_text},
            )
        except httpx.TransportError as error:
            raise TransientSendError(type(error).__name__) from error
        if response.status_code == 429:
            raise RetryAfter(float(response.headers.get("Retry-After", "1")))
        if response.status_code >= 500:
            raise TransientSendError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PermanentSendError(f"HTTP {response.status_code}")
        return str(response.json()["id"])

    def dm_target(self, identity: Any) -> str:
        return f"user:{identity.external_id}"

    def mount(self, app: Any) -> None:
        pass

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        await self.client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the fake echo platform API.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    arguments = parser.parse_args()
    fake = FakeEchoApi(delay=arguments.delay)
    uvicorn.run(fake.app, host="127.0.0.1", port=arguments.port, log_level="warning")


if __name__ == "__main__":
    main()
