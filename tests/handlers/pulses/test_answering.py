"""Answering a pulse in a DM: one tap, one answer each, a confirmation, and a closed card after closing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import HTTPException

from bot.clock import ManualClock
from bot.platforms.web import ClickBody
from storage.repositories import Repos
from tests.handlers.pulses.organisation import advance, answer_all, latest_round_id, organisation, run_due
from tests.harness import Chat


async def test_member_answers_every_question_and_is_thanked(chat: Chat) -> None:
    people = await organisation(chat, {"Sales": 6})
    cx = people["Sales"][0]
    await cx.says("peiling nieuw --dagen 5 --stellingen 2")
    assert len(await cx.replies_with("pulse.created")) == 1
    await run_due(chat)
    anna = people["Sales"][1]
    card = await anna.latest_with_button("10")
    assert card.key == "pulse.card.question"
    assert "Testbedrijf" in card.text
    await answer_all(anna, 9, [4, 5], "Meer tijd voor klanten.")
    assert (await anna.last_reply()).key == "pulse.thanks"
    answered = await anna.replies_with("pulse.card.answered")
    assert len(answered) == 4
    assert all("9" not in seen.text.split() for seen in answered)


async def _open_round(chat: Chat, people: dict[str, list], options: str = "") -> int:
    cx = next(iter(people.values()))[0]
    await cx.says(f"peiling nieuw --dagen 5 --stellingen 1 --zonder-open {options}".strip())
    await run_due(chat)
    return await latest_round_id(chat)


async def _tallies(chat: Chat, round_id: int) -> dict[tuple[str, int], dict[int, int]]:
    async with chat.services.database.transaction() as session:
        return await Repos(session).pulses.tallies(round_id)


async def test_duplicate_clicks_count_once(chat: Chat) -> None:
    people = await organisation(chat, {"Sales": 5})
    round_id = await _open_round(chat, people)
    anna = people["Sales"][1]
    card = await anna.latest_with_button("8")
    first = await anna.clicks("8", card, event_id="double-click-1")
    retried = await anna.clicks("8", card, event_id="double-click-1")  # the platform re-delivers the event
    assert not first.duplicate and retried.duplicate
    answered = next(seen for seen in await anna.sees() if seen.id == card.id)
    assert "3" not in answered.buttons(), "the answered card offers no more buttons"
    with pytest.raises(HTTPException):  # a tap on a button the card no longer shows
        await anna.clicks("3", card)
    whole = (await _tallies(chat, round_id))[("enps", 0)]
    assert sum(whole.values()) == 1 and whole[8] == 1


async def test_bad_answers_change_nothing(chat: Chat) -> None:
    people = await organisation(chat, {"Sales": 12})
    cx = people["Sales"][0]
    await cx.says("peiling nieuw --dagen 5 --stellingen 0")
    await run_due(chat)
    round_id = await latest_round_id(chat)
    anna = people["Sales"][1]
    await anna.clicks("6")
    empty = await anna.submits({"answer": "   "})
    assert empty.error is not None and empty.error.key == "error.field_required"
    too_long = await anna.submits({"answer": "x" * 1001})
    assert too_long.error is not None and too_long.error.key == "error.field_too_long"
    async with chat.services.database.transaction() as session:
        assert await Repos(session).pulses.buffered_counts(round_id) == {}
        assert await Repos(session).pulses.answered(round_id, anna.member.id) == {"enps"}
    await anna.submits({"answer": "Meer tijd voor klanten"})
    assert (await anna.last_reply()).key == "pulse.thanks"


async def test_someone_not_invited_cannot_answer(chat: Chat) -> None:
    people = await organisation(chat, {"Sales": 5, "IT": 5})
    await people["Sales"][0].says("peiling nieuw --afdelingen Sales --dagen 5 --stellingen 1 --zonder-open")
    await run_due(chat)
    round_id = await latest_round_id(chat)
    token = (await people["Sales"][1].latest_with_button("7")).buttons()["7"]
    outsider = people["IT"][0]
    assert await outsider.replies_with("pulse.card.question") == []
    # The same token in the outsider's own chat (a forged click) is refused and counts nothing:
    # the web chat refuses a token that is not on a message the outsider can see.
    welcome = (await outsider.sees(outsider.dm) or [None])[0]
    for message_id in (None, welcome.id if welcome else None):
        with pytest.raises(HTTPException):
            await chat.web.click(
                outsider.member.id,
                outsider.dm,
                ClickBody(event_id=f"forged-{message_id}", token=token, message_id=message_id),
            )
    await chat.deliver()
    assert sum((await _tallies(chat, round_id))[("enps", 0)].values()) == 0


async def test_quiet_hours_hold_the_card_until_morning(chat: Chat, clock: ManualClock) -> None:
    people = await organisation(chat, {"Sales": 5})
    night_owl = await chat.member("Nora", department="Sales", timezone="America/New_York")  # 03:00 there
    await _open_round(chat, people)
    assert await night_owl.replies_with("pulse.card.question") == []
    assert len(await people["Sales"][1].replies_with("pulse.card.question")) == 1
    await advance(chat, clock, timedelta(hours=4, minutes=59))  # 07:59 in New York
    assert await night_owl.replies_with("pulse.card.question") == []
    await advance(chat, clock, timedelta(minutes=1))
    assert len(await night_owl.replies_with("pulse.card.question")) == 1


async def test_a_randomised_send_window_spreads_the_cards(chat: Chat, clock: ManualClock) -> None:
    from sqlalchemy import select

    from storage.models import Delivery

    people = await organisation(chat, {"Sales": 12})
    start = clock.now()
    round_id = await _open_round(chat, people, "--venster 2h --willekeurig")
    async with chat.services.database.transaction() as session:
        moments = (
            await session.scalars(
                select(Delivery.not_before).where(Delivery.idempotency_key.like(f"pulse:q:{round_id}:%"))
            )
        ).all()
    assert len(moments) == 12
    assert all(start <= moment <= start + timedelta(hours=2) for moment in moments)
    assert len(set(moments)) > 1


async def test_a_newcomer_gets_the_open_pulse_and_can_ask_for_it_again(chat: Chat) -> None:
    people = await organisation(chat, {"Sales": 5})
    round_id = await _open_round(chat, people)
    newcomer = await chat.member("Noa Nieuw", department="Sales")
    await newcomer.opens_chat()
    assert len(await newcomer.replies_with("pulse.card.question")) == 1
    await newcomer.says("peiling")
    assert len(await newcomer.replies_with("pulse.card.question")) == 2
    await newcomer.clicks("9")
    await newcomer.clicks("4")
    await newcomer.says("peiling")
    assert (await newcomer.last_reply()).key == "pulse.none_open"
    assert sum((await _tallies(chat, round_id))[("enps", 0)].values()) == 1


async def test_the_open_question_can_be_skipped_and_that_counts_as_taking_part(
    chat: Chat, clock: ManualClock
) -> None:
    people = await organisation(chat, {"Sales": 6})
    cx = people["Sales"][0]
    await cx.says("peiling nieuw --dagen 5 --stellingen 0 --herinneringen 1d")
    await run_due(chat)
    anna, bram = people["Sales"][1], people["Sales"][2]
    await anna.clicks("9")
    await anna.clicks(chat.t("nl", "pulse.card.skip"))
    assert (await anna.last_reply()).key == "pulse.thanks"
    await bram.clicks("7")
    await bram.submits({"answer": "Meer tijd voor klanten"})
    # A skip settles the card exactly as an answer does: the same words, nothing that tells them apart.
    skipped = (await anna.replies_with("pulse.card.answered"))[-1]
    written = (await bram.replies_with("pulse.card.answered"))[-1]
    assert skipped.text == written.text
    await anna.says("peiling")
    assert (await anna.last_reply()).key == "pulse.none_open"
    await advance(chat, clock, timedelta(days=1, minutes=1))  # the reminder goes to non-responders only
    reminder = chat.t("nl", "pulse.card.reminder", name="Sales", count=2, closes="§").split("§")[0]
    assert not [seen for seen in await anna.sees() if reminder in seen.text]
    assert [seen for seen in await people["Sales"][3].sees() if reminder in seen.text]


async def test_a_second_answer_to_the_same_question_is_refused(chat: Chat) -> None:
    people = await organisation(chat, {"Sales": 5})
    round_id = await _open_round(chat, people)
    anna = people["Sales"][1]
    await anna.says("peiling")  # a second copy of the same first card
    first, copy = await anna.replies_with("pulse.card.question")
    await anna.clicks("8", first)
    second = await anna.clicks("3", copy)
    assert second.error is not None and second.error.key == "pulse.already_answered"
    whole = (await _tallies(chat, round_id))[("enps", 0)]
    assert sum(whole.values()) == 1 and whole[8] == 1 and whole[3] == 0
