"""Sign-in details: cookies behind https, links that expire, signing out, odd tokens, the language switch."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from bot.app import Services
from bot.clock import ManualClock
from bot.server import create_app
from storage.models import Role
from storage.repositories import Repos
from tests.conftest import make_settings
from tests.dashboard.conftest import Browser, make_member

PUBLIC = "https://klantpet.example.nl"


async def test_behind_https_the_cookie_is_secure_and_host_only(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    services = Services(make_settings(tmp_path, database_url, public_url=PUBLIC), clock=clock)
    await services.start()
    try:
        chloe = await make_member(services, "Chloé", Role.cx_manager)
        app = create_app(services)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as client:
            link = app.state.dashboard_auth.link(PUBLIC, chloe.id)
            signed_in = await client.get(link.removeprefix(PUBLIC))
            cookie = signed_in.headers["set-cookie"]
            assert cookie.startswith("__Host-klantpet_admin=")
            attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
            assert {"secure", "httponly", "path", "samesite"} <= attributes and "domain" not in attributes
            assert "path=/;" in cookie.lower() + ";"
            assert (await client.get("/admin")).status_code == 200
            login = await client.get("/admin/login")
            assert "secure" in login.headers["set-cookie"].lower(), "the sign-in form's CSRF cookie too"
    finally:
        await services.stop()


async def test_a_one_time_link_expires_after_15_minutes(
    services: Services, browser: Browser, clock: ManualClock
) -> None:
    chloe = await make_member(services, "Chloé", Role.cx_manager)
    fresh = browser.auth.link("http://testserver", chloe.id).removeprefix("http://testserver")
    stale = browser.auth.link("http://testserver", chloe.id).removeprefix("http://testserver")
    clock.advance(timedelta(minutes=14))
    assert (await browser.client.get(fresh)).headers["location"] == "/admin"
    browser.client.cookies.clear()
    clock.advance(timedelta(minutes=2))
    expired = await browser.client.get(stale)
    assert expired.status_code == 403 and "Deze aanmeldlink is verlopen" in expired.text
    assert (await browser.client.get("/admin")).status_code == 303, "not signed in"


async def test_signing_out_ends_the_session_on_the_server(services: Services, browser: Browser) -> None:
    chloe = await make_member(services, "Chloé", Role.cx_manager)
    await browser.sign_in(chloe)
    cookie = browser.client.cookies["klantpet_admin"]
    page = await browser.client.get("/admin")
    refused = await browser.client.post("/admin/logout", data={"csrf_token": "vals"})
    assert refused.status_code == 403 and (await browser.client.get("/admin")).status_code == 200
    out = await browser.client.post("/admin/logout", data={"csrf_token": browser.csrf(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/admin/login"
    assert "klantpet_admin" not in browser.client.cookies
    browser.client.cookies.set("klantpet_admin", cookie)  # the old cookie, kept by someone
    assert (await browser.client.get("/admin")).headers["location"] == "/admin/login"


async def test_odd_tokens_are_refused_not_errors(services: Services, browser: Browser) -> None:
    chloe = await make_member(services, "Chloé", Role.cx_manager)
    for token in ("x.é", "é", "ünïcødé.ünïcødé", "."):
        response = await browser.client.get("/admin/login/link", params={"token": token})
        assert response.status_code == 403, token
    page = await browser.client.get("/admin/login")
    login = await browser.client.post(
        "/admin/login", data={"login": "chloé", "password": "x", "csrf_token": "tökén"}
    )
    assert login.status_code == 403 and "Dit formulier is verlopen" in login.text
    assert browser.csrf(page.text)
    await browser.sign_in(chloe)
    refused = await browser.client.post(
        "/admin/meetings/conflicts/1/status", data={"status": "resolved", "csrf_token": "é"}
    )
    assert refused.status_code == 403 and "Dit formulier is verlopen" in refused.text


async def test_the_language_switch_returns_to_a_page_that_opens(services: Services, browser: Browser) -> None:
    chloe = await make_member(services, "Chloé", Role.cx_manager)
    await browser.sign_in(chloe)
    page = await browser.client.get("/admin/stories?status=approved")
    assert 'name="back" value="/admin/stories?status=approved"' in page.text
    token = browser.csrf(page.text)
    switched = await browser.client.post(
        "/admin/language",
        data={"locale": "en", "back": "/admin/stories?status=approved", "csrf_token": token},
    )
    assert switched.headers["location"] == "/admin/stories?status=approved"
    shown = await browser.client.get(switched.headers["location"])
    assert shown.status_code == 200 and "Story library" in shown.text
    async with services.database.transaction() as session:
        member = await Repos(session).members.get(chloe.id)
        assert member is not None and member.locale == "en", "remembered for the chat too"

    # A page that was the answer to a form has no address: back to the nearest page above it.
    for back, lands in (
        ("/admin/meetings/conflicts/1/status", "/admin/meetings"),
        ("/admin/campaigns/preview", "/admin/campaigns"),
        ("https://elders.example/admin", "/admin"),
        ("//elders.example/admin", "/admin"),
    ):
        moved = await browser.client.post(
            "/admin/language", data={"locale": "nl", "back": back, "csrf_token": token}
        )
        assert moved.headers["location"] == lands, back
        assert (await browser.client.get(lands)).status_code == 200, lands
    wrong = await browser.client.post("/admin/language", data={"locale": "fr", "csrf_token": token})
    assert wrong.status_code == 422 and "Dat begreep ik niet" in wrong.text
