"""The newcomer's first minute, in a real browser against `klantpet run`."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import RunningBot, stop_bot

pytestmark = pytest.mark.browser


def test_pick_a_person_get_welcomed_ask_for_help_and_click(running_bot: RunningBot, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(f"{running_bot.url}/chat")
    page.get_by_role("button", name=re.compile("Anna de Vries")).click()
    welcome = page.locator("article.msg.bot[data-keys='welcome.text']")
    expect(welcome).to_contain_text("Hoi Anna!")
    page.get_by_placeholder(re.compile("Typ een bericht")).fill("help")
    page.keyboard.press("Enter")
    expect(page.locator("article.msg.mine")).to_contain_text("help")
    help_reply = page.locator("article.msg.bot[data-keys='help.intro']")
    expect(help_reply).to_be_visible()
    help_reply.get_by_role("button", name="Wat is de klantpet?").click()
    expect(page.locator("article.msg.bot[data-keys='help.topics.ritual']")).to_contain_text("klantpet")
    page.get_by_role("button", name=re.compile("klantverhalen")).click()
    expect(page.locator("#title")).to_have_text("#klantverhalen")
    page.close()


def test_health_and_metrics_of_the_running_bot(running_bot: RunningBot) -> None:
    health = httpx.get(f"{running_bot.url}/healthz").json()
    assert health["status"] == "ok" and health["database"] == "ok" and health["scheduler"] == "running"
    assert "outbox_backlog" in health
    metrics = httpx.get(f"{running_bot.url}/metrics").text
    assert "klantpet_outbox_backlog" in metrics


def test_sigterm_stops_gracefully(running_bot: RunningBot) -> None:
    stop_bot(running_bot)
    # uvicorn re-raises SIGTERM after a graceful shutdown, so the exit status is the signal's.
    assert running_bot.process.returncode in (0, -15), running_bot.log()
    assert "outbox stopped" in running_bot.log()
    assert "Application shutdown complete" in running_bot.log()
