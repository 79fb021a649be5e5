"""People and roles, and the audit log page: who did what, filtered, a page at a time, on the viewer's clock."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.app import Services
from bot.clock import ManualClock
from bot.dashboard.pages_audit import PAGE_SIZE
from handlers.privacy import erase_member
from storage.models import Role
from storage.repositories import Repos
from tests.dashboard.conftest import Browser, make_member


async def roles_of(services: Services, member_id: int) -> set[str]:
    async with services.database.transaction() as session:
        member = await Repos(session).members.get(member_id)
        assert member is not None
        return {role.role for role in member.roles}


async def test_giving_and_taking_away_roles_but_never_the_last_admin(
    services: Services, browser: Browser, clock: ManualClock
) -> None:
    lars = await make_member(services, "Lars", Role.admin)
    bram = await make_member(services, "Bram")
    await browser.sign_in(lars)
    token = browser.csrf((await browser.client.get("/admin/members")).text)

    async def change(member_id: int, role: str, action: str) -> str:
        done = await browser.client.post(
            f"/admin/members/{member_id}/roles", data={"role": role, "action": action, "csrf_token": token}
        )
        assert done.status_code == 303 and done.headers["location"] == "/admin/members"
        return (await browser.client.get("/admin/members")).text

    assert "Bram is nu leidinggevende." in await change(bram.id, "leader", "grant")
    clock.advance(timedelta(minutes=5))
    assert "Bram is geen leidinggevende meer." in await change(bram.id, "leader", "revoke")
    assert await roles_of(services, bram.id) == set()
    refused = await change(lars.id, "admin", "revoke")
    assert 'class="notice error"' in refused and "geen beheerder meer" in refused
    assert await roles_of(services, lars.id) == {"admin"}
    async with services.database.transaction() as session:
        entries = await Repos(session).audit.search(action="role.")
    assert [(e.action, e.at, e.actor_member_id) for e in entries] == [
        ("role.revoke", clock.now(), lars.id),
        ("role.grant", clock.now() - timedelta(minutes=5), lars.id),
    ], "on the services' clock, and the refused revoke left no entry"


async def test_the_audit_log_page_filters_pages_and_speaks_the_viewers_language(
    services: Services, browser: Browser, clock: ManualClock
) -> None:
    lars = await make_member(services, "Lars", Role.admin)
    chloe = await make_member(services, "Chloé", Role.cx_manager)
    gone = await make_member(services, "Greet", Role.cx_manager)
    async with services.database.transaction() as session:
        repos = Repos(session)
        start = clock.now()  # Monday 23 November 2026, 09:00 in Amsterdam
        for minute in range(PAGE_SIZE + 5):
            await repos.audit.record(
                chloe.id, "feedback.read", f"feedback:{minute}", at=start + timedelta(minutes=minute)
            )
        late = start.replace(hour=23, minute=30)  # 00:30 on Tuesday in Amsterdam
        await repos.audit.record(gone.id, "pulse.results.read", "pulse_round:1", at=late)
        await repos.audit.record(None, "privacy.export", f"member:{chloe.id}", at=late, os_user="beheer")
        greet = await repos.members.get(gone.id)
        assert greet is not None
        clock.set(late + timedelta(minutes=1))
        await erase_member(services.job_context(session), greet)
    await browser.sign_in(lars)

    page = (await browser.client.get("/admin/audit")).text
    rows = re.findall(r"<tr><td data-label=", page)
    assert len(rows) == PAGE_SIZE and 'rel="next"' in page and 'rel="prev"' not in page
    assert "Europe/Amsterdam" in page and "24-11-2026 00:30" in page, "times on the viewer's clock"
    assert "Gegevens van een persoon gewist" in page and "Peilingresultaten bekeken" in page
    assert f"Gewist lid #{gone.id}" in page, "an erased actor keeps a number"
    assert "systeem" in page and "os_user: beheer" in page

    older = (await browser.client.get("/admin/audit?page=2")).text
    assert len(re.findall(r"<tr><td data-label=", older)) == PAGE_SIZE + 5 + 3 - PAGE_SIZE
    assert 'rel="prev"' in older and 'rel="next"' not in older

    hers = (await browser.client.get(f"/admin/audit?actor={chloe.id}&action=feedback.read")).text
    assert hers.count("Feedback gelezen</td>") == PAGE_SIZE
    assert "Peilingresultaten" not in hers.split("<tbody>")[1]
    system = (await browser.client.get("/admin/audit?actor=system")).text.split("<tbody>")[1]
    assert "Gegevens van een persoon geëxporteerd" in system and "Feedback gelezen" not in system
    tuesday = (await browser.client.get("/admin/audit?since=2026-11-24&until=2026-11-24")).text
    body = tuesday.split("<tbody>")[1]
    assert "Peilingresultaten bekeken" in body and "Feedback gelezen" not in body, "days in Amsterdam"
    monday = (await browser.client.get("/admin/audit?until=2026-11-23&page=2")).text.split("<tbody>")[1]
    assert monday.count("Feedback gelezen</td>") == 5 and "Peilingresultaten" not in monday

    bad = await browser.client.get("/admin/audit?since=gisteren")
    assert bad.status_code == 200 and "Gebruik voor een dag de vorm 2026-12-31" in bad.text
    assert len(re.findall(r"<tr><td data-label=", bad.text)) == PAGE_SIZE, "the filter was left out"

    await browser.client.post("/admin/language", data={"locale": "en", "csrf_token": browser.csrf(page)})
    english = (await browser.client.get("/admin/audit?action=pulse.results.read")).text
    assert "Pulse results viewed" in english and "24 Nov 2026 00:30" in english
