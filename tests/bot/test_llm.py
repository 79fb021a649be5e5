"""The LLM port: real openai client, real HTTP to a local fake; every failure falls back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.app import Services
from bot.config import Settings
from bot.llm import LLM
from tests.bot.test_config_and_cli import klantpet
from tests.conftest import make_settings
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.server import serve

VARIABLES = {"organisation": "Testbedrijf", "language": "nl", "text": "De levering was te laat."}


class Summary(BaseModel):
    summary: str


def fallback() -> Summary:
    return Summary(summary="(fallback)")


@pytest.fixture
def fake() -> FakeOpenAI:
    return FakeOpenAI()


@pytest.fixture
def base_url(fake: FakeOpenAI) -> Iterator[str]:
    with serve(fake.app) as url:
        yield f"{url}/v1"


def llm_for(base_url: str | None, tmp_path: Path, **extra: object) -> LLM:
    values: dict[str, object] = {"data_dir": tmp_path}
    if base_url:
        values.update(openai_api_key="sk-test", openai_base_url=base_url)
    values.update(extra)
    return LLM(Settings(_env_file=None, **values))  # type: ignore[call-arg]


async def test_structured_answer_is_validated(fake: FakeOpenAI, base_url: str, tmp_path: Path) -> None:
    fake.answer({"summary": "Te late levering."})
    llm = llm_for(base_url, tmp_path)
    answer, used = await llm.structured("selftest", VARIABLES, Summary, fallback)
    await llm.close()
    assert used and answer.summary == "Te late levering."
    assert any("De levering was te laat." in text for text in fake.prompts())
    assert fake.requests[0]["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize("bad", ['{"wrong": 1}', "not json", 500])
async def test_invalid_answers_and_errors_fall_back(
    fake: FakeOpenAI, base_url: str, tmp_path: Path, bad: str | int
) -> None:
    for _ in range(2):  # the client retries once
        fake.fail(bad) if isinstance(bad, int) else fake.answer(bad)
    llm = llm_for(base_url, tmp_path)
    answer, used = await llm.structured("selftest", VARIABLES, Summary, fallback)
    await llm.close()
    assert not used and answer.summary == "(fallback)"


async def test_a_timeout_falls_back(fake: FakeOpenAI, base_url: str, tmp_path: Path) -> None:
    fake.delay = 2.0
    fake.answer({"summary": "te laat"})
    fake.answer({"summary": "te laat"})
    llm = llm_for(base_url, tmp_path, llm_timeout_seconds=0.3)
    answer, used = await llm.structured("selftest", VARIABLES, Summary, fallback)
    await llm.close()
    assert not used and answer.summary == "(fallback)"


async def test_without_a_key_nothing_is_called(fake: FakeOpenAI, tmp_path: Path) -> None:
    llm = llm_for(None, tmp_path)
    assert not llm.enabled
    answer, used = await llm.structured("selftest", VARIABLES, Summary, fallback)
    assert not used and answer.summary == "(fallback)"
    assert fake.requests == []


def test_llm_check_shows_that_the_llm_answers(fake: FakeOpenAI, base_url: str, tmp_path: Path) -> None:
    fake.answer({"summary": "Een klant moest drie keer bellen."})
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": base_url, "KLANTPET_DATA_DIR": str(tmp_path)}
    result = klantpet("llm", "check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Een klant moest drie keer bellen." in result.stdout and base_url in result.stdout
    assert any("late levering" in text for text in fake.prompts())
    assert "sk-test" not in result.stdout + result.stderr


def test_llm_check_says_when_the_llm_fails_or_is_missing(
    fake: FakeOpenAI, base_url: str, tmp_path: Path
) -> None:
    fake.fail(500)
    fake.fail(500)  # the client retries once
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": base_url, "KLANTPET_DATA_DIR": str(tmp_path)}
    failed = klantpet("llm", "check", env=env, cwd=tmp_path)
    assert failed.returncode == 1 and "did not give a usable answer" in failed.stderr
    missing = klantpet("llm", "check", env={"KLANTPET_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    assert missing.returncode == 2 and "no LLM is configured" in missing.stderr


async def test_on_sqlite_a_failed_request_is_not_retried_inside_the_transaction(
    fake: FakeOpenAI, base_url: str, tmp_path: Path, database_url: str
) -> None:
    """Handlers ask inside their transaction: on SQLite that holds the only write lock, so one try only."""
    fake.fail(500)
    fake.fail(500)
    settings = make_settings(tmp_path, database_url, openai_api_key="sk-test", openai_base_url=base_url)
    services = Services(settings)
    try:
        answer, used = await services.llm.structured("selftest", VARIABLES, Summary, fallback)
    finally:
        await services.llm.close()
        await services.database.dispose()
    assert not used and answer.summary == "(fallback)"
    assert len(fake.requests) == (1 if database_url.startswith("sqlite") else 2)
