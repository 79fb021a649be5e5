"""Open answers flow into the feedback inbox when a round closes: anonymous, without replies, and only when
the open question met the comment threshold. The whole path runs as a dialogue through the web chat."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.clock import ManualClock
from tests.handlers.pulses.organisation import advance, organisation, run_due
from tests.harness import Chat, Person

ANSWERS = [
    "Meer tijd voor klanten",
    "Betere systemen",
    "Minder vergaderen",
    "Klantverhalen delen",
    "Snellere IT",
    "Duidelijke doelen",
    "Een budget voor goedmakers",
    "Meer opleiding",
    "Klanten terugbellen",
    "Minder handwerk",
]


async def _round(chat: Chat, clock: ManualClock, answers: list[str], skippers: int = 0) -> Person:
    """A one-day round for 13 people: ``answers`` written, ``skippers`` skip the open question; then it
    closes. Returns the CX manager."""
    people = (await organisation(chat, {"Sales": 13}))["Sales"]
    cx = people[0]
    await cx.says("peiling nieuw --dagen 1 --stellingen 0 --herinneringen geen")
    await run_due(chat)
    for person, answer in zip(people[1:], answers, strict=False):
        await person.clicks("8")
        await person.submits({"answer": answer})
    for person in people[1 + len(answers) : 1 + len(answers) + skippers]:
        await person.clicks("7")
        await person.clicks(chat.t("nl", "pulse.card.skip"))
    await advance(chat, clock, timedelta(days=1, minutes=1))
    return cx


async def _relay(chat: Chat, clock: ManualClock) -> None:
    """Let the feedback relay work its queue at its random moment a few minutes later."""
    for _ in range(2):
        await advance(chat, clock, timedelta(minutes=6))
        await advance(chat, clock, timedelta(minutes=91))


async def test_open_answers_reach_the_inbox_as_anonymous_items_without_replies(
    chat: Chat, clock: ManualClock
) -> None:
    cx = await _round(chat, clock, ANSWERS, skippers=2)
    await _relay(chat, clock)
    await cx.says("inbox")
    inbox = await cx.last_reply()
    assert inbox.key == "feedback.inbox.title"
    numbers = [int(number) for number in re.findall(r"#(\d+)", inbox.text)]
    assert len(numbers) == len(ANSWERS), "one item per open answer; the two skips are no items"
    assert all(answer in inbox.text for answer in ANSWERS)
    assert chat.t("nl", "feedback.mode.anonymous_no_replies") in inbox.text
    await cx.says(f"feedback {numbers[0]}")
    shown = (await cx.last_reply()).text
    assert chat.t("nl", "feedback.mode.anonymous_no_replies") in shown
    assert "uit een peiling" in shown
    refused = await cx.says(f"feedback {numbers[0]} antwoord Dank je, we gaan ermee aan de slag")
    assert refused.error is not None and refused.error.key == "feedback.error.no_replies"


async def test_below_the_comment_threshold_nothing_reaches_the_inbox(chat: Chat, clock: ManualClock) -> None:
    cx = await _round(chat, clock, ANSWERS[:9], skippers=3)
    await _relay(chat, clock)
    await cx.says("inbox")
    assert (await cx.last_reply()).key == "feedback.inbox.empty"
    await cx.says("resultaten")
    assert chat.t("nl", "pulse.results.comments_hidden", comment_threshold=10) in (await cx.last_reply()).text
