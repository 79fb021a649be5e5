"""The LLM tailors the opening's questions to the meeting's topic; a bad answer falls back to the bank."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request

from bot.clock import ManualClock
from bot.config import Settings
from handlers.ritual_rotation import bank
from tests.conftest import make_settings
from tests.fakes.server import serve
from tests.handlers.ritual_dialogue import add_meeting, at, local, openings, questions, team
from tests.harness import Chat

MONDAY = date(2026, 11, 23)


class FakeLLM:
    """A minimal OpenAI-compatible chat-completions endpoint that records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []
        self.answer = ""
        self.app = FastAPI()

        @self.app.post("/v1/chat/completions")
        async def complete(request: Request) -> dict[str, Any]:
            self.asked.append(await request.json())
            return {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": "fake",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": self.answer},
                    }
                ],
            }


@pytest.fixture
def llm() -> Iterator[tuple[FakeLLM, str]]:
    fake = FakeLLM()
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def settings(tmp_path: Path, database_url: str, llm: tuple[FakeLLM, str]) -> Settings:
    return make_settings(tmp_path, database_url, openai_api_key="test-key", openai_base_url=f"{llm[1]}/v1")


async def test_questions_are_tailored_to_the_topic_and_fall_back_to_the_bank(
    chat: Chat, clock: ManualClock, llm: tuple[FakeLLM, str]
) -> None:
    fake, _ = llm
    people = await team(chat)
    await add_meeting(people.bram, topic="Wachttijden aan de telefoon")
    tailored = [
        "Wat vindt de beller van onze wachttijd?",
        "Wie wint als de wachttijd daalt?",
        "Wat doen we als de lijn vastloopt?",
    ]
    fake.answer = json.dumps({"questions": tailored})
    await at(chat, clock, local(MONDAY, 9, 58))
    assert questions((await openings(people.anna))[0]) == tailored
    sent = json.dumps(fake.asked[0], ensure_ascii=False)
    assert "Wachttijden aan de telefoon" in sent
    assert not any(person.member.name in sent for person in people.participants), "no names go to the LLM"

    fake.answer = "Sorry, I cannot help with that."
    await at(chat, clock, local(date(2026, 11, 30), 9, 58))
    asked = questions((await openings(people.anna))[1])
    assert len(asked) == 3 and set(asked) <= {question.nl for question in bank()}
