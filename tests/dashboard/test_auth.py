"""Dashboard sign-in, sessions, roles and CSRF."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Services
from bot.clock import ManualClock
from storage.models import Role
from storage.repositories import Repos
from tests.dashboard.conftest import Browser, make_member


async def test_a_one_time_link_signs_in_once(services: Services, browser: Browser) -> None:
    chloe = await make_member(services, "Chloé", Role.cx_manager)
    link = browser.auth.link("http://testserver", chloe.id)
    first = await browser.client.get(link.removeprefix("http://testserver"))
    assert first.status_code == 303 and first.headers["location"] == "/admin"
    cookie = first.cookies.get("klantpet_admin")
    assert (
        cookie
        and "httponly" in first.headers["set-cookie"].lower()
        and "samesite=lax" in first.headers["set-cookie"].lower()
    )
    overview = await browser.client.get("/admin")
    assert overview.status_code == 200 and "Deze week" in overview.text
    browser.client.cookies.clear()
    again = await browser.client.get(link.removeprefix("http://testserver"))
    assert again.status_code == 403
    assert (await browser.client.get("/admin")).status_code == 303


async def test_without_a_session_pages_redirect_to_sign_in(browser: Browser) -> None:
    response = await browser.client.get("/admin/members")
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"


async def test_an_employee_is_refused_politely_in_their_language(
    services: Services, browser: Browser
) -> None:
    anna = await make_member(services, "Anna", locale="en")
    await browser.sign_in(anna)
    response = await browser.client.get("/admin")
    assert response.status_code == 403
    assert "Not for you, sorry" in response.text and "CX manager" in response.text


async def test_a_post_without_csrf_token_is_refused_and_changes_nothing(
    services: Services, browser: Browser
) -> None:
    lars = await make_member(services, "Lars", Role.admin)
    bram = await make_member(services, "Bram")
    await browser.sign_in(lars)
    refused = await browser.client.post(
        f"/admin/members/{bram.id}/roles", data={"role": "leader", "action": "grant"}
    )
    assert refused.status_code == 403
    wrong = await browser.client.post(
        f"/admin/members/{bram.id}/roles", data={"role": "leader", "action": "grant", "csrf_token": "forged"}
    )
    assert wrong.status_code == 403
    async with services.database.transaction() as session:
        member = await Repos(session).members.get(bram.id)
        assert member is not None and not member.has_role(Role.leader)
    page = await browser.client.get("/admin/members")
    granted = await browser.client.post(
        f"/admin/members/{bram.id}/roles",
        data={"role": "leader", "action": "grant", "csrf_token": browser.csrf(page.text)},
    )
    assert granted.status_code == 303
    async with services.database.transaction() as session:
        member = await Repos(session).members.get(bram.id)
        assert member is not None and member.has_role(Role.leader)
        assert (await Repos(session).audit.latest())[0].action == "role.grant"


async def test_sessions_end_after_30_idle_minutes_and_12_hours(
    services: Services, browser: Browser, clock: ManualClock
) -> None:
    chloe = await make_member(services, "Chloé", Role.cx_manager)
    await browser.sign_in(chloe)
    for _ in range(4):  # active every 25 minutes: still signed in
        clock.advance(timedelta(minutes=25))
        assert (await browser.client.get("/admin")).status_code == 200
    clock.advance(timedelta(minutes=31))
    assert (await browser.client.get("/admin")).status_code == 303
    await browser.sign_in(chloe)
    for _ in range(29):
        clock.advance(timedelta(minutes=25))
        await browser.client.get("/admin")
    assert (await browser.client.get("/admin")).status_code == 303, "the absolute limit of 12 hours"


async def test_password_fallback_with_throttling(services: Services, browser: Browser) -> None:
    chloe = await make_member(services, "Chloé", Role.cx_manager)
    await browser.auth.set_password(chloe, "chloe", "een lang en sterk wachtwoord")
    page = await browser.client.get("/admin/login")
    token = browser.csrf(page.text)
    no_csrf = await browser.client.post(
        "/admin/login", data={"login": "chloe", "password": "x", "csrf_token": "nope"}
    )
    assert no_csrf.status_code == 403
    for _ in range(5):
        wrong = await browser.client.post(
            "/admin/login", data={"login": "chloe", "password": "fout", "csrf_token": token}
        )
        assert wrong.headers["location"] == "/admin/login?failed=1"
    blocked = await browser.client.post(
        "/admin/login",
        data={"login": "chloe", "password": "een lang en sterk wachtwoord", "csrf_token": token},
    )
    assert blocked.headers["location"] == "/admin/login?failed=1", "throttled after five failures"
    services.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    right = await browser.client.post(
        "/admin/login",
        data={"login": "chloe", "password": "een lang en sterk wachtwoord", "csrf_token": token},
    )
    assert right.headers["location"] == "/admin"
    assert (await browser.client.get("/admin")).status_code == 200
