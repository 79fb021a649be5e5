"""Following up a baton until it moves on: reminders and a stall escalation while the holder has not shared,
again while they shared but do not pass it on, and none while their snippet waits for approval."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from storage.models import Role
from tests.handlers.leadership_people import (
    approving_chat,
    company_channel,
    leader,
    run_schedules,
    weekly_stall_chat,
)
from tests.harness import Chat, Person

__all__ = ["approving_chat", "weekly_stall_chat"]  # the fixtures, imported for pytest


def nl(chat: Chat, key: str, **params: object) -> str:
    return chat.t("nl", key, **params)


async def share(chat: Chat, person: Person, text: str) -> None:
    await person.says(f"blog {text}")
    await person.clicks(nl(chat, "leadership.button_send"))


async def week_later(chat: Chat, clock: ManualClock) -> None:
    clock.advance(timedelta(days=7))
    await run_schedules(chat)


async def test_a_holder_who_shared_but_never_passes_on_is_reminded_and_escalated_until_they_do(
    chat: Chat, clock: ManualClock
) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    karin = await leader(chat, "Karin Peters", "CFO")
    emma = await leader(chat, "Emma Smit", "COO")
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    await company_channel(chat, lars, karin, emma, chloe)
    await lars.says("estafette doorgeven Karin Peters Bel een klant over de factuur.")
    clock.advance(timedelta(days=2))
    await share(chat, karin, "Een klant gebeld: de factuur is te ingewikkeld.")
    assert (await karin.last_reply()).key == "leadership.relay.pass_on"

    for week in (1, 2):
        await week_later(chat, clock)
        reminders = await karin.replies_with("leadership.relay.pass_reminder")
        assert len(reminders) == week
        assert list(reminders[-1].buttons()) == [nl(chat, "leadership.relay.button_pass")]
        assert await chloe.replies_with("leadership.relay.escalation_passing") == []
    await week_later(chat, clock)  # three weeks after she shared
    [escalation] = await chloe.replies_with("leadership.relay.escalation_passing")
    assert "Karin Peters (CFO)" in escalation.text and "3 weken" in escalation.text
    assert await lars.replies_with("leadership.relay.escalation_passing") == []
    await week_later(chat, clock)
    assert len(await chloe.replies_with("leadership.relay.escalation_passing")) == 1  # once
    assert len(await karin.replies_with("leadership.relay.pass_reminder")) == 4
    assert await karin.replies_with("leadership.relay.reminder") == []  # never asked to share again

    await karin.says("estafette doorgeven Emma Smit Ga op klantbezoek.")
    assert (await emma.last_reply()).key == "leadership.relay.received"
    for _ in range(4):
        await week_later(chat, clock)
    assert len(await karin.replies_with("leadership.relay.pass_reminder")) == 4
    assert len(await chloe.replies_with("leadership.relay.escalation_passing")) == 1
    assert len(await emma.replies_with("leadership.relay.reminder")) == 4  # now it is Emma's turn


async def test_no_escalation_while_the_holders_snippet_waits_for_approval(
    approving_chat: Chat, clock: ManualClock
) -> None:
    chat = approving_chat
    lars = await leader(chat, "Lars Hendriks", "CEO")
    karin = await leader(chat, "Karin Peters", "CFO")
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    await company_channel(chat, lars, karin, chloe)
    await lars.says("estafette doorgeven Karin Peters Bel een klant.")
    for _ in range(2):
        await week_later(chat, clock)
    clock.advance(timedelta(days=6))
    await share(chat, karin, "Een klant gebeld.")  # to Chloé for approval
    request = await chloe.last_reply()
    assert request.key == "leadership.review.request"

    clock.advance(timedelta(days=1))  # three weeks: the snippet is on its way, nothing is stalled
    await run_schedules(chat)
    assert await chloe.replies_with("leadership.relay.escalation") == []
    assert len(await karin.replies_with("leadership.relay.reminder")) == 2

    # Sent back and left there: a week later the CX managers do hear of it, once.
    await chloe.clicks(nl(chat, "leadership.review.button_reject"), request)
    await chloe.submits({"reason": "Wat leerde je ervan?"})
    await week_later(chat, clock)
    [escalation] = await chloe.replies_with("leadership.relay.escalation")
    assert "4 weken" in escalation.text
    await week_later(chat, clock)
    assert len(await chloe.replies_with("leadership.relay.escalation")) == 1


async def test_a_baton_resting_one_week_is_one_week_not_weeks(
    weekly_stall_chat: Chat, clock: ManualClock
) -> None:
    chat = weekly_stall_chat
    lars = await leader(chat, "Lars Hendriks", "CEO")
    await leader(chat, "Karin Peters", "CFO")
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    gijs = await chat.member("Gijs de Boer", roles=[Role.cx_manager], locale="en")
    await lars.says("estafette doorgeven Karin Peters Bel een klant.")
    await week_later(chat, clock)
    [dutch] = await chloe.replies_with("leadership.relay.escalation")
    [english] = await gijs.replies_with("leadership.relay.escalation")
    assert "al 1 week bij" in dutch.text and "1 weken" not in dutch.text
    assert "for 1 week (" in english.text and "1 weeks" not in english.text
