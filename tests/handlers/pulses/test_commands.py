"""CX managers plan pulses in chat; everyone else is refused, and bad input changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from storage.models.pulses import PulseRound
from storage.repositories import Repos
from tests.handlers.pulses.organisation import advance, everyone, organisation, run_due
from tests.harness import Chat


async def _rounds(chat: Chat) -> list[tuple[int, str, list[str]]]:
    async with chat.services.database.transaction() as session:
        return [(r.id, r.status, list(r.question_ids)) for r in await Repos(session).pulses.rounds(limit=50)]


async def test_employees_cannot_plan_pulses_or_read_results(chat: Chat) -> None:
    people = await organisation(chat, {"Sales": 6})
    anna = people["Sales"][1]
    for words in ("peiling nieuw --dagen 3", "resultaten", "peiling lijst", "peiling sluit 1"):
        outcome = await anna.says(words)
        assert outcome.error is not None and outcome.error.key == "error.not_allowed", words
    assert await _rounds(chat) == []


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ("--afdelingen Onbekend", "pulse.error.unknown_department"),
        ("--afdelingen Finance", "pulse.error.audience_too_small"),
        ("--herinneringen 1d,2d,3d", "pulse.error.too_many_reminders"),
        ("--herinneringen 9d", "pulse.error.reminder_after_close"),
        ("--dagen 10 --herhaling wekelijks", "pulse.error.longer_than_period"),
        ("--herhaling soms", "pulse.error.recurrence"),
        ("--opent 2020-01-01", "pulse.error.in_the_past"),
        ("--opent morgen", "pulse.error.moment"),
        ("--vragen enps,bestaat-niet", "pulse.error.unknown_question"),
        ("--stil 22-07", "error.invalid_time"),
        ("--kleur blauw", "pulse.error.unknown_option"),
    ],
)
async def test_bad_round_options_are_refused_and_create_nothing(chat: Chat, options: str, key: str) -> None:
    people = await organisation(chat, {"Sales": 6, "Finance": 3})
    cx = people["Sales"][0]
    outcome = await cx.says(f"peiling nieuw {options}")
    assert outcome.error is not None and outcome.error.key == key
    assert (await cx.last_reply()).key == key
    assert await _rounds(chat) == []


async def test_a_round_from_the_form(chat: Chat) -> None:
    people = await organisation(chat, {"Sales": 6})
    cx = people["Sales"][0]
    await cx.says("peiling nieuw")
    assert (await cx.last_reply()).key == "pulse.form.title"
    await cx.submits(
        {
            "name": "0-meting",
            "departments": "sales",
            "opens": "2026-11-30 09:00",
            "days": "5",
            "recurrence": "none",
            "baseline": "yes",
        }
    )
    assert (await cx.last_reply()).key == "pulse.created"
    async with chat.services.database.transaction() as session:
        created = (await Repos(session).pulses.rounds(limit=1))[0]
    assert (created.name, created.status, created.baseline) == ("0-meting", "scheduled", True)
    assert created.audience["names"] == ["Sales"]
    assert created.closes_at - created.opens_at == timedelta(days=5)


async def test_a_weekly_series_rotates_its_questions(chat: Chat, clock: ManualClock) -> None:
    people = await organisation(chat, {"Sales": 5})
    cx = people["Sales"][0]
    await cx.says("peiling nieuw --herhaling wekelijks --dagen 3 --stellingen 2")
    await run_due(chat)
    (second_id, second_status, second_questions), (first_id, _, first_questions) = await _rounds(chat)
    assert second_status == "scheduled" and first_questions[0] == second_questions[0] == "enps"
    assert set(first_questions[1:3]).isdisjoint(second_questions[1:3])
    await advance(chat, clock, timedelta(days=7))
    statuses = {round_id: status for round_id, status, _ in await _rounds(chat)}
    assert statuses[first_id] == "closed" and statuses[second_id] == "open" and len(statuses) == 3
    assert len(await people["Sales"][1].replies_with("pulse.card.question")) == 1  # the new round's card
    await cx.says(f"peiling annuleer {second_id}")
    assert (await cx.last_reply()).key == "pulse.cancelled"
    assert sorted(status for _, status, _ in await _rounds(chat)) == ["cancelled", "closed", "open"]


@pytest.mark.parametrize(
    ("word", "recurrence", "second_opens", "third_opens"),
    [
        (
            "tweewekelijks",
            "biweekly",
            datetime(2026, 12, 7, 8, tzinfo=UTC),
            datetime(2026, 12, 21, 8, tzinfo=UTC),
        ),
        (
            "maandelijks",
            "monthly",
            datetime(2026, 12, 23, 8, tzinfo=UTC),
            datetime(2027, 1, 23, 8, tzinfo=UTC),
        ),
    ],
)
async def test_biweekly_and_monthly_series_open_a_period_later(
    chat: Chat,
    clock: ManualClock,
    word: str,
    recurrence: str,
    second_opens: datetime,
    third_opens: datetime,
) -> None:
    people = await organisation(chat, {"Sales": 5})
    cx = people["Sales"][0]
    too_long = await cx.says(f"peiling nieuw --herhaling {word} --dagen 29")
    assert too_long.error is not None and too_long.error.key == "pulse.error.longer_than_period"
    await cx.says(f"peiling nieuw --herhaling {word} --dagen 3 --stellingen 1")
    await run_due(chat)
    first, second = sorted(await _series(chat), key=lambda r: r.opens_at)
    assert first.recurrence == second.recurrence == recurrence
    assert second.status == "scheduled" and second.opens_at == second_opens  # 09:00 in Amsterdam
    assert second.closes_at == second_opens + timedelta(days=3)
    await advance(chat, clock, second_opens - clock.now() - timedelta(minutes=1))
    assert [r.status for r in sorted(await _series(chat), key=lambda r: r.opens_at)] == [
        "closed",
        "scheduled",
    ]
    await advance(chat, clock, timedelta(minutes=1))
    rounds = sorted(await _series(chat), key=lambda r: r.opens_at)
    assert [r.status for r in rounds] == ["closed", "open", "scheduled"]
    assert rounds[2].opens_at == third_opens
    assert len(await people["Sales"][1].replies_with("pulse.card.question")) == 1  # the new round's card


async def _series(chat: Chat) -> list[PulseRound]:
    async with chat.services.database.transaction() as session:
        return list(await Repos(session).pulses.rounds(limit=50))


async def test_a_channel_audience_asks_the_members_of_those_channels_only(chat: Chat) -> None:
    people = await organisation(chat, {"Sales": 4, "IT": 4})
    cx = people["Sales"][0]
    team = [*people["Sales"][1:], *people["IT"][:2]]
    await chat.channel("klantenteam", team)
    await chat.channel("klein", people["IT"][:3])
    unknown = await cx.says("peiling nieuw --kanalen bestaatniet --dagen 2")
    assert unknown.error is not None and unknown.error.key == "pulse.error.unknown_channel"
    small = await cx.says("peiling nieuw --kanalen klein --dagen 2")
    assert small.error is not None and small.error.key == "pulse.error.audience_too_small"
    assert await _series(chat) == []
    await cx.says("peiling nieuw --kanalen #klantenteam --dagen 2 --stellingen 1")
    await run_due(chat)
    asked = [person for person in everyone(people) if await person.replies_with("pulse.card.question")]
    assert {person.member.id for person in asked} == {person.member.id for person in team}
    newcomer = await chat.member("Noa Nieuw", department="IT")
    await newcomer.opens_chat()
    assert await newcomer.replies_with("pulse.card.question") == [], "not in the channel, so not asked"


async def test_list_close_baseline_and_own_questions(chat: Chat) -> None:
    people = await organisation(chat, {"Sales": 5})
    cx = people["Sales"][0]
    await cx.says(
        'peiling vraag toevoegen likert "Ik kan klanten zelf compenseren." --en "I can compensate customers myself."'
    )
    assert (await cx.last_reply()).key == "pulse.question_added"
    bad = await cx.says('peiling vraag toevoegen schaal "Iets"')
    assert bad.error is not None and bad.error.key == "pulse.error.kind"
    await cx.says("peiling vragen")
    assert "custom-1" in (await cx.last_reply()).text
    await cx.says("peiling nieuw --vragen enps,custom-1 --dagen 2")
    await run_due(chat)
    card = await people["Sales"][1].latest_with_button("9")
    assert "Testbedrijf" in card.text
    await cx.says("peiling lijst")
    assert (await cx.last_reply()).key == "pulse.list.title"
    await cx.says("peiling nulmeting 1")
    assert (await cx.last_reply()).key == "pulse.baseline_on"
    await cx.says("peiling sluit 1")
    assert (await cx.last_reply()).key == "pulse.closed_now"
    again = await cx.says("peiling sluit 1")
    assert again.error is not None and again.error.key == "pulse.error.not_open"
    await cx.says("resultaten 1")
    reply = await cx.last_reply()
    assert reply.key == "pulse.results.title"
    assert chat.t("nl", "pulse.results.enps_hidden", threshold=5) in reply.text
