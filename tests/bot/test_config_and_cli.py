"""Start-up: invalid settings and an unreachable database stop with one clear line each and exit ≠ 0."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from storage.db import Database
from storage.repositories import Repos

ROOT = Path(__file__).resolve().parents[2]


def klantpet(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KLANTPET_", "SLACK_", "TELEGRAM_", "OPENAI_", "CONNECTIONS__"))
    }
    environment.update(env or {})
    return subprocess.run(
        [str(Path(sys.executable).parent / "klantpet"), *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd or ROOT,
        timeout=120,
        check=False,
    )


def test_help_lists_the_commands() -> None:
    result = klantpet("--help")
    assert result.returncode == 0
    for command in ("run", "db", "members"):
        assert command in result.stdout


def test_invalid_settings_give_one_line_per_problem(tmp_path: Path) -> None:
    result = klantpet(
        "db",
        "upgrade",
        env={
            "KLANTPET_PORT": "99999",
            "KLANTPET_DEFAULT_TIMEZONE": "Mars/Olympus",
            "KLANTPET_ANONYMITY_THRESHOLD": "2",
        },
        cwd=tmp_path,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 3, result.stderr
    assert any("KLANTPET_PORT" in line for line in lines)
    assert any("KLANTPET_DEFAULT_TIMEZONE" in line and "Mars/Olympus" in line for line in lines)
    assert any("KLANTPET_ANONYMITY_THRESHOLD" in line for line in lines)


def problems(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert all(line.startswith("klantpet: invalid setting ") for line in lines), result.stderr
    return [line.removeprefix("klantpet: invalid setting ") for line in lines]


def test_an_incomplete_platform_is_refused(tmp_path: Path) -> None:
    result = klantpet("db", "upgrade", env={"SLACK_BOT_TOKEN": "xoxb-1"}, cwd=tmp_path)
    [line] = problems(result)
    assert line.startswith("SLACK_BOT_TOKEN:") and "SLACK_SIGNING_SECRET" in line
    assert "xoxb-1" not in result.stderr, "a secret was printed"


def test_a_malformed_relay_key_is_one_line_without_the_key(tmp_path: Path) -> None:
    result = klantpet("db", "upgrade", env={"KLANTPET_RELAY_KEY": "not-a-fernet-key"}, cwd=tmp_path)
    [line] = problems(result)
    assert line.startswith("KLANTPET_RELAY_KEY:") and "Fernet" in line
    assert "not-a-fernet-key" not in result.stderr and "Traceback" not in result.stderr


def test_every_incomplete_platform_is_reported(tmp_path: Path) -> None:
    result = klantpet(
        "db",
        "upgrade",
        env={
            "SLACK_BOT_TOKEN": "xoxb-1",
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": "app-id",
            "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "app-secret",
        },
        cwd=tmp_path,
    )
    lines = problems(result)
    assert len(lines) == 3, lines
    assert lines[0].startswith("SLACK_BOT_TOKEN:") and "SLACK_SIGNING_SECRET" in lines[0]
    assert lines[1].startswith("TELEGRAM_BOT_TOKEN:") and "TELEGRAM_WEBHOOK_SECRET" in lines[1]
    assert (
        lines[2].startswith("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID:") and "TENANTID" in lines[2]
    )
    assert not any(secret in result.stderr for secret in ("xoxb-1", "123:abc", "app-secret"))


def test_setting_errors_and_platform_errors_are_reported_together(tmp_path: Path) -> None:
    result = klantpet(
        "db",
        "upgrade",
        env={"KLANTPET_PORT": "0", "SLACK_BOT_TOKEN": "xoxb-1", "TELEGRAM_BOT_TOKEN": "123:abc"},
        cwd=tmp_path,
    )
    lines = problems(result)
    assert [line.split(":")[0] for line in lines] == [
        "KLANTPET_PORT",
        "SLACK_BOT_TOKEN",
        "TELEGRAM_BOT_TOKEN",
    ]


def test_a_damaged_key_file_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    key = tmp_path / "data" / "secret.key"
    key.write_text("short")  # cut off, as by a full disk
    key.chmod(0o600)
    result = klantpet("db", "upgrade", env={"KLANTPET_DATA_DIR": str(tmp_path / "data")}, cwd=tmp_path)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "secret.key" in lines[0] and "damaged" in lines[0], result.stderr


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = klantpet(
        "run",
        env={
            "KLANTPET_DATABASE_URL": "postgresql://klantpet:geheim@127.0.0.1:1/klantpet",
            "KLANTPET_DATA_DIR": str(tmp_path),
        },
        cwd=tmp_path,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "cannot reach the database" in lines[0] and "geheim" not in lines[0]


def test_db_upgrade_and_role_grant_from_the_command_line(tmp_path: Path) -> None:
    env = {"KLANTPET_DATA_DIR": str(tmp_path / "data"), "KLANTPET_DEMO": "true"}
    assert klantpet("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    result = klantpet("members", "grant", "web:1", "cx_manager", env=env, cwd=tmp_path)
    assert result.returncode == 2 and "no member" in result.stderr
    result = klantpet("members", "grant", "web:1", "wizard", env=env, cwd=tmp_path)
    assert result.returncode == 2 and "unknown role" in result.stderr


async def people(database_url: str, *names: str) -> list[int]:
    """Members created the way any platform creates them; their ids."""
    database = Database(database_url)
    try:
        async with database.transaction() as session:
            repos = Repos(session)
            ids = []
            for name in names:
                member = await repos.members.create(name, now=datetime.now(UTC))
                await repos.members.add_identity(member, "web", str(member.id))
                ids.append(member.id)
            return ids
    finally:
        await database.dispose()


def roles_listed(listing: str, member_id: int) -> set[str]:
    for line in listing.splitlines():
        number, _name, _department, roles, _platforms = line.split("\t")
        if number == f"#{member_id}":
            return set(roles.split(","))
    raise AssertionError(f"#{member_id} not listed: {listing}")


async def test_members_grant_gives_a_role_that_sticks(tmp_path: Path, database_url: str) -> None:
    [anna] = await people(database_url, "Anna de Vries")
    env = {"KLANTPET_DATA_DIR": str(tmp_path / "data"), "KLANTPET_DATABASE_URL": database_url}
    granted = klantpet("members", "grant", f"web:{anna}", "cx_manager", env=env, cwd=tmp_path)
    assert granted.returncode == 0, granted.stderr
    assert granted.stdout.strip() == "Anna de Vries now has the role cx_manager."
    again = klantpet("members", "grant", "anna de vries", "cx_manager", env=env, cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.strip() == "Anna de Vries: nothing changed."
    listing = klantpet("members", "list", env=env, cwd=tmp_path)
    assert "cx_manager" in roles_listed(listing.stdout, anna)
    revoked = klantpet("members", "revoke", f"#{anna}", "cx_manager", env=env, cwd=tmp_path)
    assert revoked.returncode == 0 and "no longer has the role cx_manager" in revoked.stdout
    listing = klantpet("members", "list", env=env, cwd=tmp_path)
    assert "cx_manager" not in roles_listed(listing.stdout, anna)


async def test_a_name_two_people_share_is_refused_as_ambiguous(tmp_path: Path, database_url: str) -> None:
    first, second = await people(database_url, "Sam Jansen", "Sam Jansen")
    env = {"KLANTPET_DATA_DIR": str(tmp_path / "data"), "KLANTPET_DATABASE_URL": database_url}
    result = klantpet("members", "grant", "Sam Jansen", "admin", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "ambiguous" in result.stderr and f"#{first}" in result.stderr and f"#{second}" in result.stderr
    listing = klantpet("members", "list", env=env, cwd=tmp_path).stdout
    assert "admin" not in roles_listed(listing, first) | roles_listed(listing, second)
    chosen = klantpet("members", "grant", f"#{second}", "admin", env=env, cwd=tmp_path)
    assert chosen.returncode == 0, chosen.stderr
    listing = klantpet("members", "list", env=env, cwd=tmp_path).stdout
    assert "admin" in roles_listed(listing, second) and "admin" not in roles_listed(listing, first)
