"""The CX dashboard on a phone (390 px wide) and its in-place status actions, in Debian's Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import RunningBot
from tests.e2e.test_dashboard import LAPTOP, PHONE, printed_link, screenshot

pytestmark = pytest.mark.browser
PAGES = (
    "/admin",
    "/admin/campaigns",
    "/admin/stories",
    "/admin/meetings",
    "/admin/pulses",
    "/admin/feedback",
    "/admin/leaders",
    "/admin/members",
    "/admin/audit",
)
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_every_page_fits_a_phone_and_every_section_can_be_reached(
    running_bot: RunningBot, browser: Browser
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(printed_link(running_bot))  # the demo's admin, who sees every page
    for path in PAGES:
        response = page.goto(running_bot.url + path)
        assert response is not None and response.status == 200, path
        assert page.evaluate(OVERFLOW) <= 0, f"{path} is wider than the phone"
        screenshot(page, "phone" + path.replace("/", "-"))
        links = page.locator("header.top nav a")
        assert links.count() == len(PAGES), path
        for index in range(links.count()):
            link = links.nth(index)
            link.scroll_into_view_if_needed()
            expect(link).to_be_in_viewport()
            box = link.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, (path, index)
    page.goto(running_bot.url + "/admin")
    page.locator("header.top nav").get_by_role("link", name="Auditlog").click()
    expect(page).to_have_url(re.compile(r"/admin/audit$"))
    expect(page.get_by_role("heading", name="Auditlog")).to_be_visible()
    context.close()


def test_a_conflict_status_changes_in_place(running_bot: RunningBot, browser: Browser) -> None:
    page = browser.new_page(viewport=LAPTOP)
    page.goto(printed_link(running_bot))
    page.goto(f"{running_bot.url}/admin/meetings")
    conflict = page.locator("article.conflict").first
    number = conflict.get_attribute("id")
    page.evaluate("() => { window.stillHere = true; }")  # gone if the page reloads
    conflict.get_by_role("button", name="Opgelost").click()
    swapped = page.locator(f"#{number}")
    expect(swapped.locator(".status")).to_have_text("opgelost")
    expect(swapped.get_by_role("status")).to_be_visible()
    assert page.evaluate("() => window.stillHere === true"), "answered in place, without a reload"
    page.reload()
    page.goto(f"{running_bot.url}/admin/meetings?status=all")
    expect(page.locator(f"#{number} .status")).to_have_text("opgelost")
    page.close()
