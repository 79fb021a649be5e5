"""A local fake of the OpenAI chat completions API, for tests of the LLM paths.

Point the real ``openai`` client (through Settings ``openai_api_key`` / ``openai_base_url``) at it::

    fake = FakeOpenAI()
    fake.answer({"title": "…"})          # the next completion's content (JSON-encoded)
    fake.answer("not json")             # content as given
    fake.fail(500)                      # the next request gets an HTTP error
    with serve(fake.app) as url:
        settings = make_settings(..., openai_api_key="sk-test", openai_base_url=f"{url}/v1")

Faithful to the shapes the client checks: ``POST /v1/chat/completions`` with a bearer token, answered
with a ``chat.completion`` object (``choices[0].message.content``) or an ``{"error": {...}}`` body with
the HTTP status. Every request body is recorded in ``requests`` so tests can assert what reached the LLM.
Simplified: no streaming, no tools; an empty queue answers ``{}``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class _Queued:
    content: str = ""
    status: int = 200


@dataclass
class FakeOpenAI:
    requests: list[dict[str, Any]] = field(default_factory=list)
    queue: list[_Queued] = field(default_factory=list)
    api_key: str = "sk-test"
    delay: float = 0.0
    """Seconds to wait before answering (timeouts)."""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.app = self._build()

    def answer(self, content: Any) -> None:
        """Queue the content of the next completion (non-strings are JSON-encoded)."""
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        with self._lock:
            self.queue.append(_Queued(content=text))

    def fail(self, status: int = 500) -> None:
        with self._lock:
            self.queue.append(_Queued(status=status))

    def prompts(self) -> list[str]:
        """Every message text sent so far, system and user, in order."""
        return [
            str(message.get("content", "")) for body in self.requests for message in body.get("messages", [])
        ]

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def completions(request: Request) -> JSONResponse:
            if request.headers.get("authorization") != f"Bearer {self.api_key}":
                return _error(401, "invalid_api_key", "Incorrect API key provided.")
            body = await request.json()
            if self.delay:
                await asyncio.sleep(self.delay)
            with self._lock:
                self.requests.append(body)
                queued = self.queue.pop(0) if self.queue else _Queued(content="{}")
            if queued.status != 200:
                return _error(queued.status, "server_error", "The fake was told to fail.")
            return JSONResponse(
                {
                    "id": f"chatcmpl-fake{next(self._ids)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": queued.content},
                            "finish_reason": "stop",
                            "logprobs": None,
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
            )

        return app


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": code, "param": None, "code": code}}, status_code=status
    )
