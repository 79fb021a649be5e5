"""Quiet hours are never broken: not by the invitation, not by a reminder, not even when the round is short."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import ManualClock
from storage.models import Delivery
from tests.handlers.pulses.organisation import advance, latest_round_id, organisation, run_due
from tests.harness import Chat

# The clock starts on Monday 23 November 2026 at 09:00 in Amsterdam; quiet hours are 20:00–08:00.


async def _card_moments(chat: Chat, round_id: int) -> list[tuple[str, object]]:
    async with chat.services.database.transaction() as session:
        rows = await session.execute(
            select(Delivery.idempotency_key, Delivery.not_before).where(
                Delivery.idempotency_key.like(f"pulse:q:{round_id}:%")
            )
        )
        return [(row[0], row[1]) for row in rows]


async def test_an_invitation_that_could_only_arrive_in_quiet_hours_is_not_sent(
    chat: Chat, clock: ManualClock
) -> None:
    people = await organisation(chat, {"Sales": 6})
    cx, anna = people["Sales"][0], people["Sales"][1]
    await cx.says(
        "peiling nieuw --opent 2026-11-23T21:00 --duur 2h --stellingen 1 --zonder-open --herinneringen geen"
    )
    round_id = await latest_round_id(chat)
    await advance(chat, clock, timedelta(hours=12))  # 21:00: the round opens, inside quiet hours
    assert await _card_moments(chat, round_id) == []
    await advance(chat, clock, timedelta(hours=11))  # 08:00 the next morning, long after closing
    assert await anna.replies_with("pulse.card.question") == []
    await anna.says("peiling")  # asking for it herself is always possible, but it has closed
    assert (await anna.last_reply()).key == "pulse.none_open"


async def test_a_reminder_in_quiet_hours_waits_for_the_morning(chat: Chat, clock: ManualClock) -> None:
    people = await organisation(chat, {"Sales": 6})
    cx, anna, bram = people["Sales"][0], people["Sales"][1], people["Sales"][2]
    await cx.says("peiling nieuw --dagen 3 --stellingen 1 --zonder-open --herinneringen 12h")
    await run_due(chat)
    await anna.clicks("9")
    await advance(chat, clock, timedelta(hours=12))  # 21:00: the reminder is due, but it is evening
    assert len(await bram.replies_with("pulse.card.question")) == 1
    await advance(chat, clock, timedelta(hours=10, minutes=59))  # 07:59
    assert len(await bram.replies_with("pulse.card.question")) == 1
    await advance(chat, clock, timedelta(minutes=1))  # 08:00
    reminder = chat.t("nl", "pulse.card.reminder", name="Sales", count=2, closes="§").split("§")[0]
    assert [reminder in card.text for card in await bram.replies_with("pulse.card.question")] == [False, True]
    assert not [seen for seen in await anna.sees() if reminder in seen.text], "she answered: no reminder"


async def test_a_reminder_that_could_only_arrive_after_closing_is_dropped(
    chat: Chat, clock: ManualClock
) -> None:
    people = await organisation(chat, {"Sales": 6})
    cx, bram = people["Sales"][0], people["Sales"][2]
    await cx.says("peiling nieuw --duur 14h --stellingen 1 --zonder-open --herinneringen 12h")
    await run_due(chat)
    round_id = await latest_round_id(chat)
    await advance(chat, clock, timedelta(hours=12))  # 21:00, quiet until 08:00, and it closes at 23:00
    assert len(await bram.replies_with("pulse.card.question")) == 1
    assert not [key for key, _ in await _card_moments(chat, round_id) if key.endswith(":r1")]
    await advance(chat, clock, timedelta(hours=12))
    reminder = chat.t("nl", "pulse.card.reminder", name="Sales", count=2, closes="§").split("§")[0]
    assert not [seen for seen in await bram.sees() if reminder in seen.text]
    assert len(await bram.replies_with("pulse.card.closed")) == 1
