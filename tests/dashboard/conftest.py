"""The dashboard over HTTP (httpx against the ASGI app) with people of every role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from bot.app import Services
from bot.dashboard.auth import DashboardAuth
from bot.server import create_app
from storage.models import Member, Role
from storage.repositories import Repos

BASE = "http://testserver"


@dataclass
class Browser:
    client: httpx.AsyncClient
    auth: DashboardAuth

    async def sign_in(self, member: Member) -> httpx.Response:
        link = self.auth.link(BASE, member.id)
        return await self.client.get(link.removeprefix(BASE))

    def csrf(self, html: str) -> str:
        marker = 'name="csrf_token" value="'
        start = html.index(marker) + len(marker)
        return html[start : html.index('"', start)]


@pytest.fixture
async def browser(services: Services) -> AsyncIterator[Browser]:
    app = create_app(services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield Browser(client, app.state.dashboard_auth)


async def make_member(services: Services, name: str, *roles: Role, locale: str = "nl") -> Member:
    async with services.database.transaction() as session:
        return await Repos(session).members.create(name, roles=roles, locale=locale, department="Sales")
