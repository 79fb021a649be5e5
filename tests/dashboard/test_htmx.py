"""Status actions answered in place: with htmx a conflict's new status replaces just that conflict."""

from __future__ import annotations

from bot import demo
from bot.app import Services
from storage.models.ritual import SiloStatus
from storage.repositories import Repos
from tests.dashboard.conftest import Browser


async def test_a_conflict_status_is_answered_in_place_with_htmx_and_by_a_redirect_without(
    services: Services, browser: Browser
) -> None:
    assert await demo.seed(services)
    async with services.database.transaction() as session:
        chloe = next(m for m in await Repos(session).members.active() if m.name.startswith("Chloé"))
        first, second = (await Repos(session).ritual.conflicts(statuses=["open"]))[:2]
    await browser.sign_in(chloe)
    page = await browser.client.get("/admin/meetings")
    assert f'hx-post="/admin/meetings/conflicts/{first.id}/status"' in page.text
    assert 'src="/admin/static/vendor/htmx-2.0.11.min.js"' in page.text
    token = browser.csrf(page.text)

    swapped = await browser.client.post(
        f"/admin/meetings/conflicts/{first.id}/status",
        data={"status": "resolved"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert swapped.status_code == 200 and "<html" not in swapped.text
    assert swapped.text.lstrip().startswith(f'<article class="conflict" id="conflict-{first.id}">')
    assert "status-resolved" in swapped.text and 'class="notice ok"' in swapped.text
    assert 'value="resolved"' not in swapped.text, "the buttons now offer the other statuses"

    forged = await browser.client.post(
        f"/admin/meetings/conflicts/{second.id}/status",
        data={"status": "resolved"},
        headers={"HX-Request": "true", "X-CSRF-Token": "vals"},
    )
    assert forged.status_code == 403

    plain = await browser.client.post(
        f"/admin/meetings/conflicts/{second.id}/status", data={"status": "discussed", "csrf_token": token}
    )
    assert plain.status_code == 303 and plain.headers["location"].endswith(f"#conflict-{second.id}")
    async with services.database.transaction() as session:
        repo = Repos(session).ritual
        statuses = [(await repo.conflict(c.id)).status for c in (first, second)]  # type: ignore[union-attr]
    assert statuses == [SiloStatus.resolved.value, SiloStatus.discussed.value]
