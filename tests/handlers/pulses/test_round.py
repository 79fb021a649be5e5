"""A round of 30 people across five departments (Finance has 3), from creation to results."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import HTTPException

from bot.clock import ManualClock
from handlers.pulses import read_results
from storage.models import AuditEntry
from storage.repositories import Repos
from tests.handlers.pulses.organisation import advance, everyone, latest_round_id, organisation, run_due
from tests.harness import Chat, Person

# (department, index) → (eNPS, Likert or None for "only the eNPS question")
ANSWERS: dict[tuple[str, int], tuple[int, int | None]] = {
    **{("Klantenservice", i): (v, 4) for i, v in enumerate([10, 9, 9, 8, 7, 6, 3])},
    **{("Sales", i): (v, 3) for i, v in enumerate([9, 9, 10, 5, 8])},
    **{("Marketing", i): (v, 5) for i, v in enumerate([10, 10, 9, 7, 2])},
    ("Finance", 0): (0, 1),
    ("Finance", 1): (9, 2),
    ("IT", 0): (6, None),
}
LATE = ("IT", 1, 8, 4)  # answers after the first reminder


def expected_enps(values: list[int]) -> int:
    promoters = sum(1 for v in values if v >= 9)
    detractors = sum(1 for v in values if v <= 6)
    share = 100 * (promoters - detractors) / len(values)
    return int(share + 0.5) if share >= 0 else -int(-share + 0.5)


async def _answer(person: Person, enps: int, likert: int | None) -> None:
    await person.clicks(str(enps))
    if likert is not None:
        await person.clicks(str(likert))


async def _delivery_keys(chat: Chat, prefix: str) -> set[str]:
    from sqlalchemy import select

    from storage.models import Delivery

    async with chat.services.database.transaction() as session:
        keys = await session.scalars(
            select(Delivery.idempotency_key).where(Delivery.idempotency_key.like(f"{prefix}%"))
        )
        return set(keys.all())


async def test_a_round_of_thirty_from_invitation_to_results(chat: Chat, clock: ManualClock) -> None:
    people = await organisation(chat)
    cx = people["Klantenservice"][0]
    await cx.says(
        "peiling nieuw --naam Novemberpeiling --dagen 7 --stellingen 1 --zonder-open --herinneringen 2d,4d"
    )
    assert len(await cx.replies_with("pulse.created")) == 1
    await run_due(chat)
    round_id = await latest_round_id(chat)
    for person in everyone(people):
        assert "10" in (await person.latest_with_button("10")).buttons()

    for (department, index), (enps, likert) in ANSWERS.items():
        await _answer(people[department][index], enps, likert)

    # Results wait for closing: only the response so far is told.
    await cx.says("resultaten")
    assert (await cx.last_reply()).key == "pulse.results.none"
    await cx.says(f"resultaten {round_id}")
    assert (await cx.last_reply()).key == "pulse.results.not_closed"

    # First reminder: only people who answered nothing.
    await advance(chat, clock, timedelta(days=2))
    answered_ids = {people[d][i].member.id for d, i in ANSWERS}
    reminded = {
        int(key.split(":")[3])
        for key in await _delivery_keys(chat, f"pulse:q:{round_id}:")
        if key.endswith(":r1")
    }
    assert reminded == {p.member.id for p in everyone(people)} - answered_ids
    late_department, late_index, late_enps, late_likert = LATE
    late = people[late_department][late_index]
    await _answer(late, late_enps, late_likert)

    await advance(chat, clock, timedelta(days=2))
    second = {
        int(key.split(":")[3])
        for key in await _delivery_keys(chat, f"pulse:q:{round_id}:")
        if key.endswith(":r2")
    }
    assert second == reminded - {late.member.id}

    await advance(chat, clock, timedelta(days=3, minutes=1))
    async with chat.services.database.transaction() as session:
        results = await read_results(chat.services.job_context(session), cx.member, round_id)
    enps_values = [enps for enps, _ in ANSWERS.values()] + [late_enps]
    assert (results.invited, results.responded, results.response_rate) == (30, 21, 70)
    assert results.enps == expected_enps(enps_values)
    enps_result = results.questions[0]
    assert enps_result.respondents == 21
    assert enps_result.counts[9] == enps_values.count(9)
    likert_result = results.questions[1]
    assert likert_result.respondents == 20 and likert_result.counts[4] == 8
    # Finance (3 invited) is never counted apart; IT (2 answers) is hidden; Sales (5) would let the rest
    # (Finance 2 + IT 2 = 4 < 5) be recovered by subtraction, so it is hidden too.
    shown = {group.name: group for group in results.groups}
    assert set(shown) == {"Klantenservice", "Marketing"}
    assert results.hidden_groups == 2  # Sales and IT; Finance was never a group of its own
    assert shown["Klantenservice"].questions[0].enps == expected_enps([10, 9, 9, 8, 7, 6, 3])
    assert shown["Marketing"].invited == 6 and shown["Marketing"].responded == 5
    shown_total = sum(group.questions[0].respondents for group in results.groups)
    assert enps_result.respondents - shown_total >= results.threshold

    await cx.says(f"resultaten {round_id}")
    message = await cx.last_reply()
    assert message.key == "pulse.results.title"
    assert f"+{expected_enps(enps_values)}" in message.text
    for hidden in ("Finance", "Sales", "IT"):
        assert f"{hidden}:" not in message.text
    async with chat.services.database.transaction() as session:
        from sqlalchemy import select

        reads = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "pulse.results.read"))
        ).all()
    assert [entry.actor_member_id for entry in reads] == [cx.member.id, cx.member.id]


async def test_cards_left_open_say_closed_and_late_clicks_are_refused(chat: Chat, clock: ManualClock) -> None:
    people = await organisation(chat, {"Sales": 5})
    await people["Sales"][0].says("peiling nieuw --dagen 1 --stellingen 1 --zonder-open --herinneringen geen")
    await run_due(chat)
    bram = people["Sales"][1]
    card = await bram.latest_with_button("7")
    await advance(chat, clock, timedelta(days=1, minutes=1))
    closed = await bram.replies_with("pulse.card.closed")
    assert len(closed) == 1 and closed[0].id == card.id and not closed[0].buttons()
    # A button kept from before is refused: the web chat only accepts buttons the card still shows.
    with pytest.raises(HTTPException):
        await bram.clicks("7", card)
    async with chat.services.database.transaction() as session:
        tallies = await Repos(session).pulses.tallies(await latest_round_id(chat))
    assert all(count == 0 for counts in tallies.values() for count in counts.values())
