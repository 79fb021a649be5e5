"""`klantpet dashboard password`: checked before anything is written, audited with the change, logins unique."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.app import Services
from storage.models import Role
from storage.models.dashboard import DashboardPassword
from storage.repositories import Repos
from tests.dashboard.conftest import Browser, make_member
from tests.handlers.test_privacy import cli, cli_env

GOOD = "een lang en sterk wachtwoord"


async def stored(services: Services) -> list[tuple[int, str]]:
    async with services.database.transaction() as session:
        rows = await session.scalars(select(DashboardPassword).order_by(DashboardPassword.member_id))
        return [(row.member_id, row.login) for row in rows]


async def password_audits(services: Services) -> list[tuple[str | None, dict[str, object]]]:
    async with services.database.transaction() as session:
        entries = await Repos(session).audit.search(action="dashboard.password_set")
        return [(entry.subject, entry.detail) for entry in entries]


async def test_setting_a_password_on_the_command_line(
    services: Services, browser: Browser, database_url: str, tmp_path: Path
) -> None:
    chloe = await make_member(services, "Chloé Bakker", Role.cx_manager)
    karin = await make_member(services, "Karin Peters", Role.cx_manager)
    env = cli_env(database_url, tmp_path)

    async def set_password(member: str, login: str, password: str) -> tuple[int, str]:
        result = await cli(["dashboard", "password", member, "--login", login, "--password", password], env)
        return result.exit_code, result.output

    code, output = await set_password("Chloé Bakker", "chloe", "te kort")
    assert code == 2 and "at least 12 characters" in output and "nothing was changed" in output
    code, output = await set_password("Chloé Bakker", "chloe bakker", GOOD)
    assert code == 2 and "no spaces" in output
    code, output = await set_password("Niemand", "niemand", GOOD)
    assert code == 2 and "no member" in output
    assert await stored(services) == [] and await password_audits(services) == [], "nothing, not even audited"

    code, output = await set_password("Chloé Bakker", "  Chloe ", GOOD)
    assert code == 0 and "can now sign in as 'chloe'" in output
    code, output = await set_password("Karin Peters", "CHLOE", GOOD)
    assert code == 2 and "belongs to another member" in output and "Traceback" not in output
    assert await stored(services) == [(chloe.id, "chloe")]
    [(subject, detail)] = await password_audits(services)
    assert subject == f"member:{chloe.id}" and detail["via"] == "cli" and detail["os_user"]
    assert karin.id not in dict(await stored(services))

    page = await browser.client.get("/admin/login")
    signed_in = await browser.client.post(
        "/admin/login", data={"login": "Chloe", "password": GOOD, "csrf_token": browser.csrf(page.text)}
    )
    assert signed_in.headers["location"] == "/admin", "the login is not case-sensitive"
