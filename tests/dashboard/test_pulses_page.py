"""The pulse results page: open answers above the comment threshold are shown even when no theme emerged."""

from __future__ import annotations

import html
from datetime import timedelta

from bot.app import Services
from bot.clock import ManualClock
from tests.dashboard.conftest import Browser
from tests.handlers.pulses.organisation import advance, latest_round_id, organisation, run_due
from tests.harness import Chat

# Ten answers that share no word: the frequent-terms fallback finds no theme in them.
ANSWERS = [
    "Appeltaart",
    "Bloemkool",
    "Citroenen",
    "Druivensap",
    "Erwtensoep",
    "Frambozen",
    "Gehaktbal",
    "Hutspot",
    "IJsthee",
    "Jachtschotel",
]


async def test_comments_show_without_themes_when_none_emerged(
    services: Services, browser: Browser, clock: ManualClock
) -> None:
    chat = Chat(services)
    people = (await organisation(chat, {"Sales": 11}))["Sales"]
    cx = people[0]
    await cx.says("peiling nieuw --dagen 1 --stellingen 0 --herinneringen geen")
    await run_due(chat)
    for person, answer in zip(people[1:], ANSWERS, strict=True):
        await person.clicks("8")
        await person.submits({"answer": answer})
    await advance(chat, clock, timedelta(days=1, minutes=1))
    await browser.sign_in(cx.member)
    page = await browser.client.get(f"/admin/pulses/{await latest_round_id(chat)}")
    assert page.status_code == 200
    shown = html.unescape(page.text)
    assert all(answer in shown for answer in ANSWERS)
    assert chat.t("nl", "pulse.results.no_themes") in shown
    assert chat.t("nl", "dashboard.pulses.themes_hidden", k=10) not in shown
