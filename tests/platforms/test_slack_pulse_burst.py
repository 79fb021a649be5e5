"""A burst of pulse answers in Slack: the clicks that arrive together are handled together (`bot.batches`),
and each person sees exactly what one click at a time gives them."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import func, select

from bot.batches import handle_clicks
from bot.context import JobContext
from bot.events import Actor, ButtonClick, Where
from bot.platforms.slack import WORK_AT_ONCE
from handlers.pulses.audience import Audience
from handlers.pulses.library import ENPS_ID, standard_questions
from handlers.pulses.rounds import RoundSpec, create_round
from storage.models.pulses import PulseParticipation
from storage.repositories import Repos
from tests.fakes.slack_api import block_actions_body
from tests.faults.support import add_members
from tests.platforms.conftest import Workspace, button, text_of

PEOPLE = [f"U0000P{n:03d}" for n in range(12)]
OUTSIDER = "U0000OUTS"
SALES = 8  # the first eight work in Sales, a department large enough to be counted apart
LIKERT_ID = next(question.id for question in standard_questions() if question.kind == "likert")


def t(workspace: Workspace, key: str, **params: object) -> str:
    return workspace.services.catalog.t(
        "nl", key, organisation=workspace.services.settings.organisation, **params
    )


async def _round(workspace: Workspace) -> int:
    """Twelve people asked an eNPS and a Likert question, their first cards delivered; one more person who was
    not asked."""
    for user in [*PEOPLE, OUTSIDER]:
        workspace.fake.add_user(user, user.lower(), f"Collega {user[-3:]}")
    ids = await add_members(
        workspace.services.database, "slack", [(user, None) for user in [*PEOPLE, OUTSIDER]]
    )
    async with workspace.services.database.transaction() as session:
        sales = await Repos(session).members.department("Sales")
        for member_id in ids[:SALES]:
            member = await Repos(session).members.get(member_id)
            assert member is not None
            member.department_id = sales.id
    async with workspace.services.database.transaction() as session:
        pulse_round = await create_round(
            JobContext(workspace.services, session),
            RoundSpec(
                audience=Audience(kind="members", member_ids=tuple(ids[: len(PEOPLE)])),
                question_ids=(ENPS_ID, LIKERT_ID),
                include_open=False,
                quiet_hours=("00:00", "00:00"),
                reminder_minutes=(),
            ),
        )
    await workspace.settle()
    return pulse_round.id


@contextlib.asynccontextmanager
async def gathering(workspace: Workspace) -> AsyncIterator[None]:
    """Every work slot busy for a moment: the clicks acknowledged meanwhile wait and are handled as one batch."""
    slots = workspace.slack.working
    for _ in range(WORK_AT_ONCE):
        await slots.acquire()
    try:
        yield
    finally:
        for _ in range(WORK_AT_ONCE):
            slots.release()
    await workspace.settle(later=5)


def card(workspace: Workspace, user: str, question_text: str) -> dict[str, Any]:
    [found] = [message for message in workspace.dm(user) if question_text in text_of(message)]
    return found


async def tallies(workspace: Workspace, round_id: int) -> dict[tuple[str, int], dict[int, int]]:
    async with workspace.services.database.transaction() as session:
        return await Repos(session).pulses.tallies(round_id)


async def test_a_burst_of_answers_counts_each_once_and_answers_each_person(workspace: Workspace) -> None:
    round_id = await _round(workspace)
    questions = {question.id: question for question in standard_questions()}
    enps, likert = questions[ENPS_ID], questions[LIKERT_ID]
    enps_text = enps.render("nl", workspace.services.settings.organisation)
    likert_text = likert.render("nl", workspace.services.settings.organisation)
    chosen = {user: n % 11 for n, user in enumerate(PEOPLE)}
    async with gathering(workspace):
        for user in [user for user in PEOPLE if user != PEOPLE[1]]:  # PEOPLE[1] clicks below
            response = await workspace.click(card(workspace, user, enps_text), str(chosen[user]), user=user)
            assert response.status_code == 200
        first = card(workspace, PEOPLE[0], enps_text)
        await workspace.click(first, "3", user=PEOPLE[0])  # a second tap on the same card
        again = button(card(workspace, PEOPLE[1], enps_text)["blocks"], str(chosen[PEOPLE[1]]))
        retried = block_actions_body(
            again["action_id"],
            again["value"],
            user_id=PEOPLE[1],
            channel_id="D" + PEOPLE[1][1:],
            message_ts=card(workspace, PEOPLE[1], enps_text)["ts"],
            trigger_id="retried.trigger",
        )
        assert (await workspace.post(retried)).status_code == 200
        assert (await workspace.post(retried)).status_code == 200  # Slack delivers the same click again
        forwarded = block_actions_body(
            again["action_id"],
            again["value"],
            user_id=OUTSIDER,
            channel_id="D" + OUTSIDER[1:],
            message_ts="1.2",
        )
        assert (await workspace.post(forwarded)).status_code == 200  # someone who was not asked
    counted = await tallies(workspace, round_id)
    whole = counted[(ENPS_ID, 0)]
    assert {value: count for value, count in whole.items() if count} == dict(Counter(chosen.values()))
    [sales] = [group for question, group in counted if question == ENPS_ID and group != 0]
    in_sales = Counter(chosen[user] for user in PEOPLE[:SALES])
    assert {value: count for value, count in counted[(ENPS_ID, sales)].items() if count} == dict(in_sales)
    for user in PEOPLE:
        answered = card(workspace, user, enps_text)
        assert t(workspace, "pulse.card.answered") in text_of(answered)
        assert not [block for block in answered["blocks"] if block.get("type") == "actions"], (
            "no more buttons"
        )
        assert len([m for m in workspace.dm(user) if likert_text in text_of(m)]) == 1, (
            "the next question, once"
        )
    texts = [text_of(message) for message in workspace.dm(PEOPLE[0])]
    assert [text for text in texts if t(workspace, "pulse.already_answered") in text], (
        "the second tap is refused"
    )
    assert len(workspace.dm(PEOPLE[1])) == 2, "a click delivered twice: its card and one next question"
    assert [text_of(m) for m in workspace.dm(OUTSIDER)] == [t(workspace, "pulse.not_invited")]

    async with gathering(workspace):
        for n, user in enumerate(PEOPLE):
            await workspace.click(card(workspace, user, likert_text), str(1 + n % 5), user=user)
    assert sum((await tallies(workspace, round_id))[(LIKERT_ID, 0)].values()) == len(PEOPLE)
    thanks = t(workspace, "pulse.thanks", closes="")[:20]
    for user in PEOPLE:
        assert [m for m in workspace.dm(user) if thanks in text_of(m)], "everyone is thanked"
    async with workspace.services.database.transaction() as session:
        participation = await session.scalar(
            select(func.count())
            .select_from(PulseParticipation)
            .where(PulseParticipation.round_id == round_id)
        )
    assert participation == 2 * len(PEOPLE)


async def test_clicks_that_are_not_plain_answers_go_the_usual_way(workspace: Workspace) -> None:
    """Unknown tokens, unknown people and clicks in a channel are left to be handled one at a time."""
    await _round(workspace)
    unknown_token = ButtonClick(
        platform="slack",
        event_id="action:1",
        actor=Actor("slack", PEOPLE[0]),
        where=Where(external_id="D" + PEOPLE[0][1:], kind="dm", ref=PEOPLE[0]),
        token="no-such-token",
    )
    stranger = ButtonClick(
        platform="slack",
        event_id="action:2",
        actor=Actor("slack", "U0STRANGER"),
        where=Where(external_id="D0STRANGER", kind="dm", ref="U0STRANGER"),
        token="no-such-token",
    )
    left = await handle_clicks(workspace.services, [unknown_token, stranger])
    assert left == [unknown_token, stranger]
    async with workspace.services.database.transaction() as session:
        assert not await Repos(session).events.seen("slack", "action:1"), "nothing claimed for a left click"


async def test_stopping_waits_for_every_acknowledged_click(workspace: Workspace) -> None:
    """Clicks a batch leaves are handled one by one after it; stopping the bot right then still waits for them
    (Slack was told they arrived and never sends them again)."""
    await _round(workspace)
    question = {question.id: question for question in standard_questions()}[ENPS_ID]
    text = question.render("nl", workspace.services.settings.organisation)
    slots = workspace.slack.working
    for _ in range(WORK_AT_ONCE):
        await slots.acquire()
    for user in PEOPLE[:4]:
        await workspace.click(card(workspace, user, text), "8", user=user)
    await workspace.click(card(workspace, PEOPLE[0], text), "2", user=PEOPLE[0], trigger_id="second.tap")
    for _ in range(WORK_AT_ONCE):
        slots.release()
    await workspace.slack.stop()
    refusal = await workspace.delivery("in:slack:action:second.tap:1")
    assert refusal is not None and refusal.message["key"] == "pulse.already_answered"
