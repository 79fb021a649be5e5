"""`klantpet slack manifest`, `klantpet slack sync` and `klantpet members import`, as an admin runs them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from bot.app import Services
from bot.cli import app
from bot.platforms.slack import SlackPlatform
from bot.platforms.slack_members import sync_all
from storage.db import Database
from storage.models import Member
from storage.repositories import Repos
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack
from tests.platforms.conftest import ANNA, BART, SIGNING_SECRET

PUBLIC_URL = "https://" + "klantpet.example"  # a reserved example domain

runner = CliRunner()


def env(tmp_path: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    values = {"KLANTPET_DATA_DIR": str(tmp_path / "data"), "KLANTPET_LOG_FORMAT": "text"}
    if database_url:
        values["KLANTPET_DATABASE_URL"] = database_url
    values.update(extra)
    return values


def members(database_url: str) -> dict[str, Member]:
    async def read() -> dict[str, Member]:
        database = Database(database_url)
        try:
            async with database.transaction() as session:
                return {member.name: member for member in await session.scalars(select(Member))}
        finally:
            await database.dispose()

    return asyncio.run(read())


def test_the_manifest_points_slack_at_our_public_url(tmp_path: Path) -> None:
    result = runner.invoke(app, ["slack", "manifest"], env=env(tmp_path, KLANTPET_PUBLIC_URL=PUBLIC_URL))
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    url = f"{PUBLIC_URL}/slack/events"
    assert found["settings"]["event_subscriptions"]["request_url"] == url
    assert found["settings"]["interactivity"] == {
        "is_enabled": True,
        "request_url": url,
        "message_menu_options_url": url,
    }
    assert found["features"]["slash_commands"][0] == {
        "command": "/klantpet",
        "description": found["features"]["slash_commands"][0]["description"],
        "usage_hint": "help",
        "should_escape": False,
        "url": url,
    }
    assert found["features"]["app_home"]["home_tab_enabled"] is True
    assert {"chat:write", "commands", "users:read", "reactions:read", "im:history"} <= set(
        found["oauth_config"]["scopes"]["bot"]
    )
    assert {"app_home_opened", "team_join", "message.im", "reaction_added"} <= set(
        found["settings"]["event_subscriptions"]["bot_events"]
    )


def test_the_socket_mode_manifest_needs_no_url_and_yaml_works(tmp_path: Path) -> None:
    result = runner.invoke(app, ["slack", "manifest", "--socket-mode", "--format", "yaml"], env=env(tmp_path))
    assert result.exit_code == 0, result.output
    found = yaml.safe_load(result.stdout)
    assert found["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in found["settings"]["event_subscriptions"]
    assert found["settings"]["interactivity"] == {"is_enabled": True}
    assert "url" not in found["features"]["slash_commands"][0]
    bad = runner.invoke(app, ["slack", "manifest", "--format", "xml"], env=env(tmp_path))
    assert bad.exit_code == 2 and "json or yaml" in bad.output


def test_slack_sync_brings_in_the_workspace(
    tmp_path: Path, database_url: str, fake: FakeSlack, fake_url: str
) -> None:
    fake.add_user("U0000GONE", "gone", "Gerrit Weg", deleted=True)
    fake.add_user("U0000HELP", "helper", "Helper", is_bot=True)
    slack_env = env(
        tmp_path,
        database_url,
        SLACK_BOT_TOKEN=DEFAULT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        KLANTPET_SLACK_API_URL=f"{fake_url}/api/",
    )
    result = runner.invoke(app, ["slack", "sync", "--department-field", "Xf01"], env=slack_env)
    assert result.exit_code == 0, result.output
    assert "3 new" in result.stdout and "bots skipped" in result.stdout
    found = members(database_url)
    assert set(found) == {"Anna de Vries", "Bart Jansen", "Gerrit Weg"}
    assert (
        found["Anna de Vries"].department_name == "Klantenservice" and found["Anna de Vries"].locale == "nl"
    )
    assert found["Bart Jansen"].timezone == "America/New_York" and found["Bart Jansen"].locale == "en"
    assert not found["Gerrit Weg"].active

    fake.add_user(ANNA, "anna", "Anna de Vries", deleted=True)
    again = runner.invoke(app, ["slack", "sync"], env=slack_env)
    assert again.exit_code == 0 and "Marked inactive: Anna de Vries" in again.stdout
    assert not members(database_url)["Anna de Vries"].active, "inactive, not deleted"


def test_a_slack_api_url_without_a_scheme_is_refused_at_start(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["slack", "sync"],
        env=env(
            tmp_path,
            SLACK_BOT_TOKEN=DEFAULT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            KLANTPET_SLACK_API_URL="slack-proxy.example.nl/api",
        ),
    )
    assert result.exit_code == 2 and "KLANTPET_SLACK_API_URL" in result.output
    assert "https://" in result.output and DEFAULT_TOKEN not in result.output


async def test_sync_pages_through_users_and_links_by_email(slack_services: Services, fake: FakeSlack) -> None:
    for n in range(5):
        fake.add_user(f"U00000{n:03d}", f"user{n}", f"Collega {n}")
    async with slack_services.database.transaction() as session:
        existing = await Repos(session).members.create("Anna (web)", identities=[("web", "anna")])
        existing.email = "anna@example.com"
    platform = slack_services.platforms["slack"]
    assert isinstance(platform, SlackPlatform)
    report = await sync_all(slack_services, platform.client, "Xf01", page_size=2)
    assert len(report.created) == 6 and report.updated == ["Anna de Vries"] and report.skipped == 1
    assert len(fake.calls_to("users.list")) == 4
    async with slack_services.database.transaction() as session:
        anna = await Repos(session).members.by_identity("slack", ANNA)
        assert (
            anna is not None
            and anna.id == existing.id
            and {i.platform for i in anna.identities} == {"web", "slack"}
        )
    assert (await sync_all(slack_services, platform.client, "Xf01")).unchanged == 7


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return path


def seed(database_url: str) -> None:
    async def work() -> None:
        database = Database(database_url)
        try:
            async with database.transaction() as session:
                repos = Repos(session)
                anna = await repos.members.create("Anna de Vries", identities=[("slack", ANNA)])
                anna.email = "anna@example.com"
                await repos.members.create("Bart Jansen", identities=[("slack", BART)])
        finally:
            await database.dispose()

    asyncio.run(work())


def test_members_import_sets_departments_from_a_dutch_excel_export(tmp_path: Path, database_url: str) -> None:
    seed(database_url)
    csv = write(
        tmp_path,
        "\ufeffE-mail;Naam;Afdeling;Functie\nanna@example.com;;Sales;Accountmanager\n;Bart Jansen;Logistiek;\n",
    )
    result = runner.invoke(app, ["members", "import", str(csv)], env=env(tmp_path, database_url))
    assert result.exit_code == 0, result.output
    assert "2 updated" in result.stdout
    found = members(database_url)
    assert (
        found["Anna de Vries"].department_name == "Sales" and found["Anna de Vries"].title == "Accountmanager"
    )
    assert found["Bart Jansen"].department_name == "Logistiek"


def test_members_import_refuses_a_file_with_unknown_people_and_changes_nothing(
    tmp_path: Path, database_url: str
) -> None:
    seed(database_url)
    csv = write(tmp_path, "slack_id,department\nU0000ANNA,Sales\nU0000NOBODY,IT\n")
    result = runner.invoke(app, ["members", "import", str(csv)], env=env(tmp_path, database_url))
    assert result.exit_code == 2 and "line 3: no member 'U0000NOBODY'" in result.output
    assert members(database_url)["Anna de Vries"].department_name is None
    skipped = runner.invoke(
        app, ["members", "import", str(csv), "--skip-unknown"], env=env(tmp_path, database_url)
    )
    assert skipped.exit_code == 0 and "1 skipped" in skipped.stdout
    assert members(database_url)["Anna de Vries"].department_name == "Sales"


def test_members_import_explains_a_bad_header(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["members", "import", str(write(tmp_path, "who,what\nx,y\n"))], env=env(tmp_path)
    )
    assert result.exit_code == 2 and "slack_id, email or name" in result.output
    missing = runner.invoke(app, ["members", "import", str(tmp_path / "nope.csv")], env=env(tmp_path))
    assert missing.exit_code == 2 and "cannot read" in missing.output
