"""What `klantpet run` prints and serves: the demo on a laptop, no demo (and no web chat unless asked) with a
real platform."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.i18n import Catalog
from tests.e2e.conftest import RunningBot, start_bot, stop_bot
from tests.fakes.server import serve
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack

DEMO_NAMES = ("Lars Hendriks", "Chloé Bakker", "Anna de Vries")


@pytest.fixture
def slack_url() -> Iterator[str]:
    with serve(FakeSlack().app) as url:
        yield url


def slack_env(slack_url: str, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
        "KLANTPET_SLACK_API_URL": f"{slack_url}/api/",
        **extra,
    }


def members_listed(bot: RunningBot, data_dir: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "klantpet"), "members", "list"],
        env={"PATH": "/usr/bin:/bin", "KLANTPET_DATA_DIR": str(data_dir), **env},
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_the_demo_prints_the_web_chat_the_dashboard_link_and_health(running_bot: RunningBot) -> None:
    printed = running_bot.log()
    assert "Demo organisation created" in printed
    assert f"Web chat:  {running_bot.url}/chat" in printed
    link = re.search(r"Dashboard: (\S+)\s+\(one-time sign-in link", printed)
    assert link, printed
    signed_in = httpx.get(link.group(1), follow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["location"].startswith("/admin")
    assert f"Health:    {running_bot.url}/healthz" in printed


def test_a_real_platform_means_no_demo_and_no_web_chat(tmp_path: Path, slack_url: str) -> None:
    data_dir = tmp_path / "data"
    env = slack_env(slack_url)
    bot = start_bot(data_dir, env)
    try:
        health = httpx.get(f"{bot.url}/healthz").json()
        assert health["platforms"] == ["slack"]
        assert httpx.get(f"{bot.url}/chat").status_code == 404
        assert httpx.post(f"{bot.url}/chat/api/login", json={"member_id": 1}).status_code == 404
    finally:
        stop_bot(bot)
    printed = bot.log()
    assert "Demo organisation created" not in printed and "Web chat:" not in printed
    assert f"Dashboard: {bot.url}/admin" in printed and "klantpet dashboard link" in printed
    listed = members_listed(bot, data_dir, env)
    assert not any(name in listed for name in DEMO_NAMES), listed


def test_the_web_chat_can_be_switched_on_beside_a_real_platform(tmp_path: Path, slack_url: str) -> None:
    data_dir = tmp_path / "data"
    env = slack_env(slack_url, KLANTPET_WEB_CHAT="true")
    bot = start_bot(data_dir, env)
    try:
        assert httpx.get(f"{bot.url}/healthz").json()["platforms"] == ["slack", "web"]
        assert httpx.get(f"{bot.url}/chat").status_code == 200
        session = httpx.get(f"{bot.url}/chat/api/session").json()
        assert session == {"member_id": None, "demo": False, "people": []}
        refused = httpx.post(f"{bot.url}/chat/api/login", json={"member_id": 1})
        assert refused.status_code == 403
        assert refused.json() == {"detail": Catalog().t("nl", "web.error.use_link"), "error": "use_link"}
    finally:
        stop_bot(bot)
    assert f"Web chat:  {bot.url}/chat" in bot.log() and "Demo organisation created" not in bot.log()
    listed = members_listed(bot, data_dir, env)
    assert not any(name in listed for name in DEMO_NAMES), listed
