"""The relay, as dialogues: answering in the thread, reopening anonymously, delays, timing, and no logs."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.logs import JsonFormatter
from storage.models import Delivery, Role
from storage.models.feedback import FeedbackItem
from tests.handlers.test_feedback import WAIT, give, item_id, relay_and_deliver, texts
from tests.harness import Chat, Person


async def step(chat: Chat, clock: ManualClock, delta: timedelta) -> None:
    clock.advance(delta)
    await chat.services.scheduler.run_due()
    await chat.deliver()


async def until_relayed(chat: Chat, clock: ManualClock, person: Person, key: str) -> None:
    """Work the relay mark by mark until ``person`` has a new message ``key`` (at most 100 minutes)."""
    before = len(await person.replies_with(key))
    for _ in range(20):
        await step(chat, clock, timedelta(minutes=5))
        if len(await person.replies_with(key)) > before:
            return
    raise AssertionError(f"{key} never reached {person.member.name}")


async def test_replies_in_the_thread_of_a_relay_message_reach_the_relay_for_every_giver(
    chat: Chat, clock: ManualClock
) -> None:
    anna = await chat.member("Anna de Vries")
    bram = await chat.member("Bram")
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    await give(chat, anna, WAIT, mode="anonymous")
    await give(chat, bram, "Het CRM is traag bij het openen van klantdossiers")
    await relay_and_deliver(chat, clock)
    anonymous, named = await item_id(chloe, WAIT), await item_id(chloe, "Het CRM is traag")
    await chloe.says(f"feedback {anonymous} antwoord Op welke momenten vooral?")
    await chloe.says(f"feedback {named} antwoord Bij welke dossiers?")
    await relay_and_deliver(chat, clock)

    relayed = (await anna.replies_with("feedback.giver.reply"))[-1]
    await anna.says("Vooral op maandagochtend", thread_of=relayed.id)
    assert (await anna.last_reply()).key == "feedback.answered.anonymous"  # not "is this feedback?"
    assert await chloe.replies_with("feedback.notice.answer") == []  # through the queue, later
    direct = (await bram.replies_with("feedback.giver.reply"))[-1]
    await bram.says("De grote zakelijke klanten", thread_of=direct.id)
    assert (await bram.last_reply()).key == "feedback.answered.named"
    assert "De grote zakelijke klanten" in (await chloe.last_reply()).text
    await relay_and_deliver(chat, clock)
    notices = [seen.text for seen in await chloe.replies_with("feedback.notice.answer")]
    assert any("Vooral op maandagochtend" in text and f"#{anonymous}" in text for text in notices)

    # Long after the relay forgot what it sent, the thread still leads back, and names nobody.
    clock.advance(timedelta(days=2))
    await chat.services.scheduler.run_due()
    async with chat.services.database.transaction() as session:
        rows = (await session.scalars(select(Delivery).where(Delivery.topic == "feedback.relay"))).all()
    anonymous_rows = [row for row in rows if row.member_id is None and row.target == ""]
    assert anonymous_rows and all(row.message == {} for row in anonymous_rows)
    assert all(str(anonymous) not in row.idempotency_key.split(":")[0] for row in anonymous_rows)
    await anna.says("En ook op vrijdag na de lunch", thread_of=relayed.id)
    assert (await anna.last_reply()).key == "feedback.answered.anonymous"
    await relay_and_deliver(chat, clock)
    await chloe.says(f"feedback {anonymous}")
    thread = (await chloe.last_reply()).text
    assert "Vooral op maandagochtend" in thread and "En ook op vrijdag na de lunch" in thread
    assert "Anna" not in await texts(chloe)


async def test_an_anonymous_giver_reopens_a_closed_item_or_hears_why_not(
    chat: Chat, clock: ManualClock
) -> None:
    anna = await chat.member("Anna")
    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    await give(chat, anna, WAIT, mode="anonymous")
    await relay_and_deliver(chat, clock)
    number = await item_id(chloe, WAIT)
    await chloe.says(f"feedback {number} nietdoen Dit past niet in het budget van dit jaar")
    await relay_and_deliver(chat, clock)
    status = (await anna.replies_with("feedback.giver.status"))[-1]
    assert "budget" in status.text and WAIT[:20] not in status.text  # nothing of the feedback repeated
    await anna.clicks(chat.t("nl", "feedback.button.answer"), status)
    await anna.submits({"text": "Jammer, maar het kost ons wel klanten"})
    assert (await anna.last_reply()).key == "feedback.answered.reopened"
    await relay_and_deliver(chat, clock)
    reopened = await chloe.replies_with("feedback.notice.reopened")
    assert len(reopened) == 1 and "kost ons wel klanten" in reopened[0].text
    await chloe.says(f"feedback {number}")
    assert chat.t("nl", "feedback.status.acknowledged") in (await chloe.last_reply()).text
    await chloe.says(f"feedback {number} gedaan")
    clock.advance(timedelta(days=31))
    await relay_and_deliver(chat, clock)
    done = (await anna.replies_with("feedback.giver.status"))[-1]
    await anna.clicks(chat.t("nl", "feedback.button.answer"), done)
    late = await anna.submits({"text": "Het is weer mis"})
    assert late.error is not None and late.error.key == "feedback.error.closed_long_ago"
    await relay_and_deliver(chat, clock)
    assert len(await chloe.replies_with("feedback.notice.reopened")) == 1
    await chloe.says(f"feedback {number}")
    assert chat.t("nl", "feedback.status.done") in (await chloe.last_reply()).text


async def test_staff_hear_of_an_anonymous_answer_after_a_random_delay_and_of_a_named_one_at_once(
    chat: Chat, clock: ManualClock
) -> None:
    anna = await chat.member("Anna")
    bram = await chat.member("Bram")
    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    await give(chat, anna, WAIT, mode="anonymous")
    await give(chat, bram, "Het CRM is traag bij het openen van klantdossiers")
    await relay_and_deliver(chat, clock)
    anonymous, named = await item_id(chloe, WAIT), await item_id(chloe, "Het CRM is traag")
    await chloe.says(f"feedback {anonymous} antwoord Welke dagen vooral?")
    await chloe.says(f"feedback {named} antwoord Welke dossiers?")
    await relay_and_deliver(chat, clock)
    await bram.clicks(chat.t("nl", "feedback.button.answer"))
    await bram.submits({"text": "Die van de zakelijke klanten"})
    assert len(await chloe.replies_with("feedback.notice.answer")) == 1  # named: at once

    await anna.clicks(chat.t("nl", "feedback.button.answer"))
    await anna.submits({"text": "Maandag en vrijdag"})
    await step(chat, clock, timedelta(minutes=5))  # the next mark: the relay records the answer
    await chloe.says(f"feedback {anonymous}")
    assert "Maandag en vrijdag" in (await chloe.last_reply()).text
    await step(chat, clock, timedelta(minutes=4, seconds=50))
    assert len(await chloe.replies_with("feedback.notice.answer")) == 1, "not before five minutes"
    await step(chat, clock, timedelta(minutes=86))
    notices = await chloe.replies_with("feedback.notice.answer")
    assert len(notices) == 2 and "Maandag en vrijdag" in notices[-1].text


async def test_anonymous_feedback_is_in_the_inbox_within_five_minutes_even_after_relayed_replies(
    chat: Chat, clock: ManualClock
) -> None:
    anna = await chat.member("Anna")
    bram = await chat.member("Bram")
    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    await give(chat, anna, WAIT, mode="anonymous")  # 09:00:00 exactly: the next mark is 09:05
    await step(chat, clock, timedelta(minutes=4, seconds=59))
    assert await chloe.replies_with("feedback.notice.new") == []
    await step(chat, clock, timedelta(seconds=1))
    assert len(await chloe.replies_with("feedback.notice.new")) == 1
    number = await item_id(chloe, WAIT)
    await chloe.says(f"feedback {number} antwoord Dank je, we kijken ernaar")
    await until_relayed(chat, clock, anna, "feedback.giver.reply")  # an outgoing batch just went
    clock.advance(timedelta(seconds=30))
    await give(chat, bram, "De retourpagina is onvindbaar", mode="anonymous_no_replies")
    await step(chat, clock, timedelta(minutes=5))
    assert len(await chloe.replies_with("feedback.notice.new")) == 2, "no waiting for a later sweep"


async def test_an_anonymous_exchange_logs_no_giver_and_no_relay_secret(
    chat: Chat, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    anna = await chat.member("Anna de Vries")
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    for noisy in ("apscheduler", "httpx", "aiosqlite", "asyncio", "alembic"):  # as `bot.logs` sets it up …
        caplog.set_level(logging.WARNING, logger=noisy)
    caplog.set_level(logging.DEBUG)  # … for the most the bot logs (``KLANTPET_LOG_LEVEL=DEBUG``)
    await give(chat, anna, WAIT, mode="anonymous")
    await relay_and_deliver(chat, clock)
    number = await item_id(chloe, WAIT)
    await chloe.says(f"feedback {number} antwoord Welke dagen vooral?")
    await relay_and_deliver(chat, clock)
    relayed = (await anna.replies_with("feedback.giver.reply"))[-1]
    await anna.says("Maandag en vrijdag", thread_of=relayed.id)
    await anna.clicks(chat.t("nl", "feedback.button.answer"), relayed)
    await anna.submits({"text": "En soms op woensdag"})
    await relay_and_deliver(chat, clock)
    await chloe.says(f"feedback {number} gedaan")
    await relay_and_deliver(chat, clock)
    assert len(await anna.replies_with("feedback.giver.status")) == 1  # the exchange did happen
    await step(chat, clock, timedelta(days=1))  # and the nightly jobs sweep up after it

    async with chat.services.database.transaction() as session:
        item = await session.get(FeedbackItem, number)
        assert item is not None and item.relay_blob
        keys = (await session.scalars(select(Delivery.idempotency_key))).all()
    handles = [key.split(":", 1)[1] for key in keys if key.startswith("feedback.relay:")]
    assert handles
    secrets = [anna.member.name, f"dm:{anna.member.id}", item.relay_blob, *handles]
    formatter = JsonFormatter()
    assert caplog.records, "the capture works: the nightly retention job logs what it removed"
    for record in caplog.records:
        line = formatter.format(record)
        assert not any(secret in line for secret in secrets), line
        for key, value in record.__dict__.items():
            if "member" in key:
                assert value != anna.member.id, line
