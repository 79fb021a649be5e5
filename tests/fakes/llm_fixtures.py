"""Fixtures for tests of LLM paths: the fake OpenAI server (one per module) and settings pointing at it.

Use them with ``from tests.fakes.llm_fixtures import fake_llm_server, fresh_llm, llm_settings  # noqa: F401``
in a test module: the fixtures are named ``fake_llm``, ``llm`` and ``settings`` (the last replaces the
default, so ``services`` and ``chat`` talk to the fake).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from tests.conftest import make_settings
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.server import serve


@pytest.fixture(scope="module", name="fake_llm")
def fake_llm_server() -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI()
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture(name="llm")
def fresh_llm(fake_llm: tuple[FakeOpenAI, str]) -> FakeOpenAI:
    """The fake, emptied: no requests recorded, no answers queued."""
    fake, _ = fake_llm
    fake.requests.clear()
    fake.queue.clear()
    return fake


@pytest.fixture(name="settings")
def llm_settings(tmp_path: Path, database_url: str, fake_llm: tuple[FakeOpenAI, str]) -> Settings:
    _, url = fake_llm
    return make_settings(
        tmp_path, database_url, openai_api_key="sk-test", openai_base_url=f"{url}/v1", llm_timeout_seconds=5
    )
