"""The CX dashboard in Debian's Chromium against `klantpet run` (the demo organisation)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import RunningBot

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def printed_link(bot: RunningBot) -> str:
    found = re.search(r"Dashboard: (http\S+)", bot.log())
    assert found, bot.log()
    return found.group(1)


def cli_link(bot: RunningBot, member: str) -> str:
    """`klantpet dashboard link <member>` with the running bot's data folder."""
    port = bot.url.rsplit(":", 1)[1]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("KLANTPET_")}
    environment.update(
        {
            "KLANTPET_DATA_DIR": str(bot.output.parent / "data"),
            "KLANTPET_PORT": port,
            "KLANTPET_LOG_FORMAT": "text",
        }
    )
    done = subprocess.run(
        [str(Path(sys.executable).parent / "klantpet"), "dashboard", "link", member],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def screenshot(page: Page, name: str) -> None:
    """Kept when KLANTPET_SCREENSHOTS names a folder (to look at the pages on a laptop and a phone)."""
    folder = os.environ.get("KLANTPET_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_sign_in_see_the_enps_trend_and_plan_a_campaign(running_bot: RunningBot, browser: Browser) -> None:
    page = browser.new_page(viewport=LAPTOP)
    page.goto(printed_link(running_bot))
    expect(page.get_by_role("heading", name="Deze week")).to_be_visible()
    screenshot(page, "laptop-overview")

    page.get_by_role("link", name="Peilingen").first.click()
    canvas = page.locator("canvas#enps-trend")
    expect(canvas).to_be_visible()
    page.wait_for_function(
        "() => window.Chart && window.Chart.getChart(document.getElementById('enps-trend'))"
    )
    drawn = page.evaluate(
        """() => {
            const chart = window.Chart.getChart(document.getElementById('enps-trend'));
            const canvas = chart.canvas, context = canvas.getContext('2d');
            const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted++; }
            return {painted, points: chart.data.datasets[0].data, title: chart.options.plugins.title.text};
        }"""
    )
    assert drawn["painted"] > 1000 and drawn["points"] == [-10, 0] and drawn["title"] == "eNPS per ronde"
    assert "eNPS" in (canvas.get_attribute("aria-label") or "")
    table = page.locator("#enps-trend-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").nth(0)).to_contain_text("0-meting klantgerichtheid")
    expect(table.locator("tbody tr").nth(0).locator("td").nth(1)).to_have_text("-10")
    expect(table.locator("tbody tr").nth(1).locator("td").nth(1)).to_have_text("0")
    expect(table.locator("tbody tr").nth(1)).to_contain_text("64%")
    screenshot(page, "laptop-pulses")

    page.get_by_role("link", name="Campagnes").first.click()
    expect(page.locator("table.campaigns")).to_contain_text("Klantweek")  # the demo's own
    page.get_by_role("link", name="Nieuwe campagne").click()
    page.get_by_label("Naam", exact=True).fill("Klantmaand")
    page.get_by_role("button", name="Opslaan en starten").click()
    alert = page.locator("#form-errors")
    expect(alert).to_contain_text("Een campagne heeft minstens één stap nodig.")
    step = page.locator("fieldset.step").first
    step.get_by_label("Wat", exact=True).select_option(label="bericht")
    step.get_by_label("Tijd", exact=True).fill("07:30")
    step.get_by_label("Tekst (Nederlands)").fill("Welke klant hielp jij vorige week?")
    page.get_by_role("button", name="Bekijk voorbeeld").click()
    first = page.locator("#preview ol.sends li").first
    expect(first).to_contain_text("08:00")  # 07:30 is in the quiet hours, which end at 08:00
    expect(first).to_contain_text("Welke klant hielp jij vorige week?")
    screenshot(page, "laptop-campaign")
    page.get_by_role("button", name="Opslaan en starten").click()
    expect(page.get_by_role("status")).to_contain_text("Klantmaand loopt")
    row = page.locator("table.campaigns tr", has_text="Klantmaand")
    expect(row).to_contain_text("actief")
    expect(row).to_contain_text("Lars Hendriks")  # whoever creates a campaign owns it
    page.close()


def test_an_employee_is_refused_and_a_post_without_csrf_token_too(
    running_bot: RunningBot, browser: Browser
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(printed_link(running_bot))
    expect(page.get_by_role("heading", name="Deze week")).to_be_visible()
    forged = page.request.post(
        f"{running_bot.url}/admin/meetings/conflicts/1/status", form={"status": "resolved"}
    )
    assert forged.status == 403
    page.goto(f"{running_bot.url}/admin/meetings")
    expect(page.locator("#conflict-1 .status")).to_have_text("besproken")
    for path, name in (
        ("/admin", "phone-overview"),
        ("/admin/meetings", "phone-meetings"),
        ("/admin/pulses", "phone-pulses"),
    ):
        page.goto(running_bot.url + path)
        screenshot(page, name)
    context.close()

    employee = browser.new_context(viewport=PHONE).new_page()
    response = employee.goto(cli_link(running_bot, "Anna de Vries"))
    assert response is not None and response.status == 403
    expect(employee.get_by_role("heading", name="Niet voor jou, sorry")).to_be_visible()
    refused = employee.goto(f"{running_bot.url}/admin/feedback")
    assert refused is not None and refused.status == 403
    expect(employee.locator("body")).not_to_contain_text("Logistiek hoort pas")
