"""Sign in with Slack / Microsoft Entra ID: the real Authlib client against a local OIDC provider over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.app import Services
from bot.config import Settings
from storage.models import Role
from storage.repositories import Repos
from tests.conftest import make_settings
from tests.dashboard.conftest import BASE, Browser, make_member
from tests.fakes.oidc_provider import FakeOidc
from tests.fakes.server import serve

TENANT = "5b0c1d2e-0000-4000-8000-00000000cafe"


@pytest.fixture(params=["entra", "slack"])
def provider(request: pytest.FixtureRequest) -> Iterator[FakeOidc]:
    fake = FakeOidc(issuer_path=f"/{TENANT}/v2.0" if request.param == "entra" else "")
    with serve(fake.app) as url:
        fake.url = url
        fake.kind = request.param  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def settings(tmp_path: Path, database_url: str, provider: FakeOidc) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        public_url=BASE,
        oidc_provider=provider.kind,  # type: ignore[attr-defined]
        oidc_client_id=provider.client_id,
        oidc_client_secret=provider.client_secret,
        oidc_tenant=TENANT if provider.kind == "entra" else "T0TEAM",  # type: ignore[attr-defined]
        oidc_metadata_url=provider.discovery_url,
    )


async def _sign_in_through(browser: Browser) -> httpx.Response:
    """What the browser does: our app → the provider's /authorize → back to our callback."""
    start = await browser.client.get("/admin/login/oidc")
    assert start.status_code == 302
    async with httpx.AsyncClient() as outside:
        authorized = await outside.get(start.headers["location"])
    assert authorized.status_code == 302
    callback = authorized.headers["location"]
    assert callback.startswith(f"{BASE}/admin/login/oidc/callback?")
    return await browser.client.get(callback.removeprefix(BASE))


async def _claims_for(services: Services, provider: FakeOidc, name: str, *, email: str | None = None) -> None:
    """Give the member an identity the provider knows, and let the provider sign them in."""
    async with services.database.transaction() as session:
        repos = Repos(session)
        member = await repos.members.by_name(name)
        assert member is not None
        if provider.kind == "slack":  # type: ignore[attr-defined]
            await repos.members.add_identity(member, "slack", "U0CHLOE")
            provider.person = {"https://slack.com/user_id": "U0CHLOE", "https://slack.com/team_id": "T0TEAM"}
        elif email is None:
            await repos.members.add_identity(member, "teams", "oid-chloe")
            provider.person = {"oid": "oid-chloe", "tid": TENANT, "preferred_username": "chloe@example.org"}
        else:
            member.email = email
            provider.person = {"oid": "oid-unknown", "tid": TENANT, "email": email}


async def test_the_provider_signs_a_cx_manager_in(
    services: Services, browser: Browser, provider: FakeOidc
) -> None:
    await make_member(services, "Chloé", Role.cx_manager)
    await _claims_for(services, provider, "Chloé")
    login = await browser.client.get("/admin/login")
    assert ("Aanmelden met Slack" if provider.kind == "slack" else "Aanmelden met Microsoft") in login.text  # type: ignore[attr-defined]
    done = await _sign_in_through(browser)
    assert done.status_code == 303 and done.headers["location"] == "/admin"
    assert provider.token_requests == 1
    overview = await browser.client.get("/admin")
    assert overview.status_code == 200 and "Chloé" in overview.text


@pytest.mark.parametrize("provider", ["entra"], indirect=True)
async def test_entra_falls_back_to_the_members_email(
    services: Services, browser: Browser, provider: FakeOidc
) -> None:
    await make_member(services, "Chloé", Role.cx_manager)
    await _claims_for(services, provider, "Chloé", email="chloe@example.org")
    assert (await _sign_in_through(browser)).status_code == 303
    assert (await browser.client.get("/admin")).status_code == 200


async def test_an_account_of_nobody_here_is_refused(
    services: Services, browser: Browser, provider: FakeOidc
) -> None:
    await make_member(services, "Chloé", Role.cx_manager)
    provider.person = (
        {"https://slack.com/user_id": "U0STRANGER", "https://slack.com/team_id": "T0TEAM"}
        if provider.kind == "slack"  # type: ignore[attr-defined]
        else {"oid": "oid-stranger", "tid": TENANT, "email": "stranger@example.org"}
    )
    refused = await _sign_in_through(browser)
    assert refused.status_code == 403 and "aan niemand bij Testbedrijf gekoppeld" in refused.text
    assert (await browser.client.get("/admin")).status_code == 303


async def test_another_workspace_or_tenant_is_refused(
    services: Services, browser: Browser, provider: FakeOidc
) -> None:
    await make_member(services, "Chloé", Role.cx_manager)
    await _claims_for(services, provider, "Chloé")
    if provider.kind == "slack":  # type: ignore[attr-defined]
        provider.person["https://slack.com/team_id"] = "T0OTHER"
    else:
        provider.person["tid"] = "another-tenant"
    assert (await _sign_in_through(browser)).status_code == 403
    assert (await browser.client.get("/admin")).status_code == 303


async def test_a_forged_id_token_or_a_replayed_callback_signs_nobody_in(
    services: Services, browser: Browser, provider: FakeOidc
) -> None:
    await make_member(services, "Chloé", Role.cx_manager)
    await _claims_for(services, provider, "Chloé")
    provider.forge = True
    forged = await _sign_in_through(browser)
    assert forged.status_code == 403 and "lukte niet" in forged.text
    provider.forge = False
    start = await browser.client.get("/admin/login/oidc")
    async with httpx.AsyncClient() as outside:
        callback = (await outside.get(start.headers["location"])).headers["location"].removeprefix(BASE)
    assert (await browser.client.get(callback)).status_code == 303
    browser.client.cookies.clear()
    replayed = await browser.client.get(callback)
    assert replayed.status_code == 403, "the state belongs to the browser that started, and works once"
    assert (await browser.client.get("/admin")).status_code == 303
