"""Refusals inside /admin are pages in the viewer's language that say nothing changed, never bare JSON."""

from __future__ import annotations

from bot.app import Services
from storage.models import Role
from storage.repositories import Repos
from tests.dashboard.conftest import Browser, make_member


async def test_a_failed_csrf_check_is_a_polite_page_in_the_viewers_language(
    services: Services, browser: Browser
) -> None:
    lars = await make_member(services, "Lars", Role.admin, locale="en")
    bram = await make_member(services, "Bram")
    await browser.sign_in(lars)
    refused = await browser.client.post(
        f"/admin/members/{bram.id}/roles", data={"role": "leader", "action": "grant", "csrf_token": "old"}
    )
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert "This form has expired" in refused.text and "Nothing was changed." in refused.text
    assert "token missing" not in refused.text and '"detail"' not in refused.text
    async with services.database.transaction() as session:
        member = await Repos(session).members.get(bram.id)
        assert member is not None and not member.has_role(Role.leader)


async def test_unknown_pages_wrong_methods_and_bad_values_get_pages_too(
    services: Services, browser: Browser
) -> None:
    chloe = await make_member(services, "Chloé", Role.cx_manager)
    await browser.sign_in(chloe)
    token = browser.csrf((await browser.client.get("/admin")).text)
    for method, path, data, status, title in (
        ("GET", "/admin/stories/999999", None, 404, "Niet gevonden"),
        ("GET", "/admin/bestaat-niet", None, 404, "Niet gevonden"),
        ("GET", "/admin/logout", None, 405, "Zo kan deze pagina niet geopend worden"),
        ("GET", "/admin/audit?page=twee", None, 403, "Niet voor jou"),  # a CX manager, not an admin
        (
            "POST",
            "/admin/stories/1/status",
            {"status": "weg", "csrf_token": token},
            422,
            "Dat begreep ik niet",
        ),
        ("POST", "/admin/stories/1/status", {"csrf_token": token}, 422, "Dat begreep ik niet"),
    ):
        response = await browser.client.request(method, path, data=data)
        assert response.status_code == status, (method, path)
        assert title in response.text and response.headers["content-type"].startswith("text/html"), path
        assert ("Er is niets veranderd." in response.text) is (method == "POST"), path
    browser.client.cookies.clear()
    signed_out = await browser.client.get("/admin/bestaat-niet")
    assert signed_out.status_code == 404 and "Naar aanmelden" in signed_out.text


async def test_outside_the_dashboard_errors_stay_as_they_were(browser: Browser) -> None:
    response = await browser.client.get("/bestaat-niet")
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}
