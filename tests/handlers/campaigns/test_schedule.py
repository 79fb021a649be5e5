"""A campaign over eight simulated weeks in two time zones: sends happen exactly when planned — moved out of
quiet hours, never on a public holiday — pause and resume, re-fired schedules and re-applied files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.clock import ManualClock
from bot.errors import Conflict
from storage.models import Role, Schedule
from storage.repositories import Repos
from tests.handlers.campaigns.factories import WINTER, apply_text, campaign, move_to, texts
from tests.harness import Chat, Person

FRIDAYS = [(11, 27), (12, 4), (12, 11), (12, 18), (1, 8), (1, 15)]  # 25 Dec and 1 Jan are holidays
EVENINGS = [(11, 25), (12, 9), (12, 23), (1, 6)]  # Tuesday 21:00 is quiet: the next morning at 09:00


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027 if month == 1 else 2026, month, day, hour, minute, tzinfo=UTC)


async def people(chat: Chat) -> tuple[Person, Person, Person]:
    manager = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    anna = await chat.member("Anna de Vries", timezone="Europe/Amsterdam")
    ben = await chat.member("Ben Carter", locale="en", timezone="America/New_York")
    return manager, anna, ben


async def count(person: Person, key: str = "campaign.message") -> int:
    return len(await person.replies_with(key))


async def test_eight_weeks_in_two_time_zones_with_holidays_and_quiet_hours(
    chat: Chat, clock: ManualClock
) -> None:
    manager, anna, ben = await people(chat)
    result = await apply_text(chat, WINTER, manager)
    assert result.action == "created"

    # Amsterdam is UTC+1 and New York UTC-5 all winter: 09:00 local is 08:00 and 14:00 UTC.
    expected = sorted(
        [(utc(m, d, 8), anna) for m, d in FRIDAYS + EVENINGS]
        + [(utc(m, d, 14), ben) for m, d in FRIDAYS + EVENINGS],
        key=lambda item: item[0],
    )
    sent = {anna.member.id: 0, ben.member.id: 0}
    for moment, person in expected:
        await move_to(chat, clock, moment - timedelta(minutes=1))
        assert await count(anna) == sent[anna.member.id], f"Anna got a message before {moment}"
        assert await count(ben) == sent[ben.member.id], f"Ben got a message before {moment}"
        await move_to(chat, clock, moment)
        sent[person.member.id] += 1
        assert await count(person) == sent[person.member.id], f"nothing arrived at {moment}"

    # Christmas and New Year's Day (Fridays, Dutch holidays) passed without a word, in both zones.
    await move_to(chat, clock, utc(1, 31, 12))
    assert await count(anna) == len(FRIDAYS) + len(EVENINGS) == await count(ben)
    # Past its end, with nothing left to send, the campaign is marked ended and the hourly resync stops.
    assert (await campaign(chat, "winter")).status == "ended"
    async with chat.services.database.transaction() as session:
        resync = await Repos(session).schedules.by_ref("campaign.sync", "campaigns")
        assert resync is not None and not resync.enabled
    await manager.says("campagnes")
    assert "Winterweken — afgelopen" in " ".join((await manager.last_reply()).text.split())
    fridays = [
        seen.text for seen in await anna.replies_with("campaign.message") if "Vrijdagvraag" in seen.text
    ]
    assert len(fridays) == 6
    english = [seen.text for seen in await ben.replies_with("campaign.message")]
    assert any("Friday question: which customer made your week?" in text for text in english)
    assert all("Campaign: Winterweken" in text for text in english)
    async with chat.services.database.transaction() as session:
        keys = {send.idempotency_key for send in await Repos(session).campaigns.sends(result.campaign.id)}  # type: ignore[union-attr]
    # Every send's key is derived from its campaign, step and planned (local) time.
    assert f"campaign:{result.campaign.id}:friday:2026-12-18T08:00:m{anna.member.id}" in keys  # type: ignore[union-attr]
    assert f"campaign:{result.campaign.id}:evening:2026-12-22T21:00:m{ben.member.id}" in keys  # type: ignore[union-attr]


async def test_a_refired_schedule_and_a_reapplied_file_send_nothing_twice(
    chat: Chat, clock: ManualClock
) -> None:
    manager, anna, _ = await people(chat)
    await apply_text(chat, WINTER, manager)
    await move_to(chat, clock, utc(11, 25, 8))
    friday = Schedule.kind == "campaign.send", Schedule.ref.endswith(":friday:Europe/Amsterdam")
    async with chat.services.database.transaction() as session:
        before = (await session.execute(select(Schedule.payload, Schedule.starts_at).where(*friday))).one()
    await move_to(chat, clock, utc(11, 27, 8))
    assert await count(anna) == 2  # Wednesday's and Friday's

    # As if another instance fired the same due schedule again: the idempotency keys hold.
    async with chat.services.database.transaction() as session:
        await session.execute(
            update(Schedule)
            .where(*friday)
            .values(payload=before[0], starts_at=before[1], next_fire_at=before[1], enabled=True)
        )
    await chat.services.scheduler.run_due()
    await chat.deliver()
    assert await count(anna) == 2

    again = await apply_text(chat, WINTER, manager)
    assert again.action == "unchanged" and again.changes == []
    await move_to(chat, clock, utc(12, 4, 8))
    assert await count(anna) == 3


async def test_pause_stops_sends_and_resume_carries_on_without_making_up(
    chat: Chat, clock: ManualClock
) -> None:
    manager, anna, ben = await people(chat)
    await apply_text(chat, WINTER, manager)
    for moment in (utc(11, 25, 8), utc(11, 25, 14), utc(11, 27, 8), utc(11, 27, 14)):
        await move_to(chat, clock, moment)
    assert await count(anna) == 2 and await count(ben) == 2

    await manager.says("campagne pauzeer winter")
    assert (await manager.last_reply()).key == "campaign.paused"
    await move_to(chat, clock, utc(12, 4, 8))
    await move_to(chat, clock, utc(12, 4, 14))
    assert await count(anna) == 2 and await count(ben) == 2

    await move_to(chat, clock, utc(12, 5, 10))
    await manager.says("campagne hervat winter")
    assert (await manager.last_reply()).key == "campaign.resumed"
    await move_to(chat, clock, utc(12, 9, 8))
    assert await count(anna) == 3  # the next planned send, not the Friday that fell in the pause
    for moment in (utc(12, 9, 14), utc(12, 11, 8), utc(12, 11, 14)):
        await move_to(chat, clock, moment)
    assert await count(anna) == 4 and await count(ben) == 4

    await manager.says("campagne pauzeer winter")
    await manager.says("campagne pauzeer winter")
    assert (await manager.last_reply()).key == "campaign.error.not_active"
    assert (await campaign(chat, "winter")).status == "paused"


MONTHLY = """\
key: maandelijks
name: Maandelijks
timezone: Europe/Amsterdam
starts: 2026-11-23
ends: 2027-03-31
quiet_hours: "20:00-08:00"
holidays: {country: NL, on_holiday: next_working_day}
steps:
  - key: month-end
    kind: message
    cadence: {monthly: -1, time: "16:00"}
    text: "Maandafsluiting: welke klant bleef je bij?"
  - key: second-monday
    kind: message
    cadence: {rrule: "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=2", time: "09:30"}
    text: "Tweede maandag: een klantvraag?"
"""


async def test_monthly_and_own_rule_cadences_fire_when_planned(chat: Chat, clock: ManualClock) -> None:
    manager, anna, _ = await people(chat)
    await apply_text(chat, MONTHLY, manager)
    month_end = "Maandafsluiting: welke klant bleef je bij?"
    expected = [
        (utc(11, 30, 15), month_end),  # Monday 30 November, 16:00 in Amsterdam
        (utc(12, 14, 8, 30), "Tweede maandag"),
        (utc(12, 31, 15), month_end),
        (utc(1, 11, 8, 30), "Tweede maandag"),
        (utc(1, 31, 15) + timedelta(days=1), month_end),  # 31 January is a Sunday: Monday 1 February
        (utc(1, 31, 8, 30) + timedelta(days=8), "Tweede maandag"),  # 8 February
        (utc(1, 31, 15) + timedelta(days=29), month_end),  # 28 February is a Sunday: Monday 1 March
        (utc(1, 31, 8, 30) + timedelta(days=36), "Tweede maandag"),  # 8 March
        (utc(1, 31, 14) + timedelta(days=59), month_end),  # 31 March, 16:00 summer time
    ]
    for number, (moment, text) in enumerate(expected, start=1):
        await move_to(chat, clock, moment - timedelta(minutes=1))
        assert await count(anna) == number - 1, f"too early before {moment}"
        await move_to(chat, clock, moment)
        assert await count(anna) == number, f"nothing at {moment}"
        assert text in texts(await anna.sees(), "campaign.message")[-1]


async def test_archiving_stops_for_good_and_the_key_cannot_be_applied_again(
    chat: Chat, clock: ManualClock
) -> None:
    manager, anna, ben = await people(chat)
    await apply_text(chat, WINTER, manager)
    await move_to(chat, clock, utc(11, 25, 8))  # Tuesday evening's message, the next morning in Amsterdam
    assert await count(anna) == 1 and await count(ben) == 0
    await manager.says("campagne archiveer winter")
    assert (await manager.last_reply()).key == "campaign.archived"
    for moment in (utc(11, 25, 14), utc(11, 27, 8), utc(12, 9, 8), utc(12, 31, 12)):
        await move_to(chat, clock, moment)
    assert await count(anna) == 1 and await count(ben) == 0
    archived = await campaign(chat, "winter")
    assert archived.status == "archived"
    async with chat.services.database.transaction() as session:
        schedules = await Repos(session).campaigns.schedules(archived.id)
        assert schedules and not [schedule for schedule in schedules if schedule.enabled]
    with pytest.raises(Conflict) as refused:
        await apply_text(chat, WINTER, manager)
    assert refused.value.key == "campaign.error.archived"
    await manager.says("campagne hervat winter")
    assert (await manager.last_reply()).key == "campaign.error.not_paused"


async def test_removing_a_step_in_chat_stops_only_that_step(chat: Chat, clock: ManualClock) -> None:
    manager, anna, _ = await people(chat)
    await apply_text(chat, WINTER, manager)
    await move_to(chat, clock, utc(11, 25, 8))
    await move_to(chat, clock, utc(11, 27, 8))
    assert await count(anna) == 2  # Wednesday's (Tuesday evening moved) and Friday's
    await manager.says("campagne wijzig winter")
    await manager.clicks("friday")
    card = " ".join((await manager.last_reply()).text.split())
    assert "evening" in card and "friday" not in card
    for moment in (utc(12, 4, 8), utc(12, 9, 8), utc(12, 11, 8)):
        await move_to(chat, clock, moment)
    assert await count(anna) == 3  # only the evening step's 9 December
    assert all("Vrijdagvraag" not in text for text in texts(await anna.sees(), "campaign.message")[2:])
