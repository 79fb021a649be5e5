"""Teams as the tests see it: the fake Bot Connector and Entra, our app with the Teams platform built as in
production (only the bot's own tokens come from the fake's endpoint), and a client that POSTs activities to
``/api/messages`` with the channel's signed token. Used by every ``tests/platforms/test_teams*.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import Services
from bot.clock import ManualClock
from bot.config import Settings
from bot.platforms.teams import TeamsPlatform
from bot.server import create_app
from storage.models import Member
from storage.repositories import Repos
from tests.conftest import make_settings
from tests.fakes.teams_api import FakeTeams
from tests.platforms.test_teams_render import elements

AAD = "6f1c2e54-1d7e-4a86-9c1e-2b7f9d3a0001"


@pytest.fixture
def fake() -> Iterator[FakeTeams]:
    teams = FakeTeams()
    with teams.running(), teams.patch_sdk_jwks():
        yield teams


def teams_settings(tmp_path: Path, database_url: str, fake: FakeTeams, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "teams_client_id": fake.app_id,
        "teams_client_secret": fake.app_secret,
        "teams_tenant_id": fake.tenant_id,
        "teams_service_url": fake.service_url,
    }
    values.update(overrides)
    return make_settings(tmp_path, database_url, **values)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, fake: FakeTeams) -> Settings:
    return teams_settings(tmp_path, database_url, fake)


def with_fake_tokens(services: Services, fake: FakeTeams) -> TeamsPlatform:
    """The platform as built in production, except that the bot's own tokens come from the fake's endpoint."""
    platform = TeamsPlatform(services, token_provider_factory=fake.token_provider_factory)
    services.platforms["teams"] = platform
    return platform


@pytest.fixture
async def services(settings: Settings, clock: ManualClock, fake: FakeTeams) -> AsyncIterator[Services]:
    built = Services(settings, clock=clock)
    with_fake_tokens(built, fake)
    await built.start()
    yield built
    await built.stop()


class Teams:
    """Teams, as the bot sees it: activities POSTed to /api/messages with the channel's token."""

    def __init__(self, services: Services, fake: FakeTeams) -> None:
        self.services = services
        self.fake = fake
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(services)), base_url="http://klantpet.test"
        )

    async def post(self, activity: dict[str, Any], token: str | None = None) -> httpx.Response:
        if token is None:
            token = self.fake.mint_token(service_url=activity["serviceUrl"])
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.http.post("/api/messages", json=activity, headers=headers)

    async def say(self, text: str, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("aad_object_id", AAD)
        kwargs.setdefault("from_name", "Anna de Vries")
        activity = self.fake.message_activity(text, **kwargs)
        response = await self.post(activity)
        assert response.status_code == 202, response.text
        await self.services.outbox.drain()
        return activity

    def sent(self, conversation_id: str) -> list[dict[str, Any]]:
        return self.fake.activities(conversation_id)


@pytest.fixture
async def teams(services: Services, fake: FakeTeams) -> AsyncIterator[Teams]:
    client = Teams(services, fake)
    yield client
    await client.http.aclose()


async def member_by_aad(services: Services, aad: str = AAD) -> Member | None:
    async with services.database.transaction() as session:
        return await Repos(session).members.by_identity("teams", aad)


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    attachments = activity.get("attachments") or []
    assert attachments, f"not a card: {activity}"
    content: dict[str, Any] = attachments[0]["content"]
    return content


def texts_in(card: dict[str, Any]) -> str:
    return "\n".join(str(block["text"]) for block in elements(card, "TextBlock"))


async def stored_conversations(services: Services) -> list[str]:
    async with services.database.transaction() as session:
        return await Repos(session).teams.keys("proactive/conversations/")


async def delivery_count(services: Services) -> dict[str, int]:
    async with services.database.transaction() as session:
        return await Repos(session).deliveries.counts_by_status()
