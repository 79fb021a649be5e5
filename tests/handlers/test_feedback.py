"""Closing the loop, as dialogues through the web chat on both databases."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from bot.clock import ManualClock
from handlers.feedback_settings import add_working_days, working_days_between
from storage.models import Role
from tests.harness import Chat, Person

WAIT = "De wachttijd aan de telefoon is te lang"


async def relay_and_deliver(chat: Chat, clock: ManualClock) -> None:
    """Let the relay work its queue (both directions) and its random delays (5–90 minutes) run out."""
    for minutes in (6, 91, 6, 91):
        clock.advance(timedelta(minutes=minutes))
        await chat.services.scheduler.run_due()
        await chat.deliver()


def locale(person: Person) -> str:
    return person.member.locale or "nl"


async def give(
    chat: Chat, person: Person, text: str, mode: str = "named", category: str = "customer"
) -> None:
    """Type ``feedback <text>`` and click through how and what about."""
    await person.says(f"feedback {text}")
    assert (await person.last_reply()).key == "feedback.ask_how"
    await person.clicks(chat.t(locale(person), f"feedback.button.{mode}"))
    assert (await person.last_reply()).key == "feedback.ask_category"
    await person.clicks(chat.t(locale(person), f"feedback.category.{category}"))
    assert (await person.last_reply()).key == f"feedback.thanks.{mode}"


async def item_id(manager: Person, text: str) -> int:
    """The number a CX manager was told for the feedback that reads ``text``."""
    for seen in await manager.replies_with("feedback.notice.new"):
        if text[:40] in seen.text:
            found = re.search(r"#(\d+)", seen.text)
            assert found
            return int(found.group(1))
    raise AssertionError(f"no notice about {text!r}")


async def texts(person: Person) -> str:
    return "\n".join(seen.text for seen in await person.sees())


async def test_named_feedback_gets_a_number_a_promise_and_reaches_the_managers(chat: Chat) -> None:
    anna = await chat.member("Anna de Vries")
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    await give(chat, anna, WAIT)
    thanks = await anna.last_reply()
    # Monday 23 November + 5 working days = Monday 30 November.
    assert "maandag 30 november" in thanks.text and "#1" in thanks.text
    notice = (await chloe.replies_with("feedback.notice.new"))[0]
    assert "Anna de Vries" in notice.text and WAIT in notice.text
    await chloe.says("inbox")
    inbox = await chloe.last_reply()
    assert inbox.key == "feedback.inbox.title" and "#1" in inbox.text
    await anna.says("feedback 1")
    assert WAIT in (await anna.last_reply()).text


async def test_plain_dm_text_is_asked_about_rather_than_guessed(chat: Chat, clock: ManualClock) -> None:
    anna = await chat.member("Anna")
    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    await anna.says("hoi")
    assert (await anna.last_reply()).key == "help.unknown"
    await anna.says("De koffieautomaat op de tweede verdieping is al weken stuk")
    assert (await anna.last_reply()).key == "feedback.ask_if_feedback"
    await anna.clicks(chat.t("nl", "feedback.button.not_feedback"))
    assert (await anna.last_reply()).key == "feedback.not_feedback"
    await anna.says("Klanten moeten drie keer hun ordernummer noemen aan de telefoon")
    await anna.clicks(chat.t("nl", "feedback.button.is_feedback"))
    await anna.clicks(chat.t("nl", "feedback.button.anonymous_no_replies"))
    await anna.clicks(chat.t("nl", "feedback.category.process"))
    assert (await anna.last_reply()).key == "feedback.thanks.anonymous_no_replies"
    await relay_and_deliver(chat, clock)
    assert len(await chloe.replies_with("feedback.notice.new")) == 1
    assert "koffieautomaat" not in await texts(chloe)


async def test_the_form_gives_feedback_and_refuses_bad_input(chat: Chat, clock: ManualClock) -> None:
    anna = await chat.member("Anna")
    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    await anna.says("feedback")
    assert (await anna.last_reply()).key == "feedback.form.title"
    empty = await anna.submits({"text": "   ", "mode": "named", "category": "customer"})
    assert empty.error is not None and empty.error.key == "feedback.error.empty"
    too_long = await anna.submits({"text": "x" * 4001, "mode": "named", "category": "customer"})
    assert too_long.error is not None and too_long.error.key == "feedback.error.too_long"
    assert "4001" in (await anna.last_reply()).text
    bad = await anna.submits({"text": "Prima tekst", "mode": "named", "category": "weather"})
    assert bad.error is not None and bad.error.key == "feedback.error.category"
    typed = await anna.says("feedback " + "y" * 4001)
    assert typed.error is not None and typed.error.key == "feedback.error.too_long"
    await relay_and_deliver(chat, clock)
    assert await chloe.replies_with("feedback.notice.new") == []
    await anna.submits({"text": "De wachtmuziek is veel te hard", "mode": "named", "category": "customer"})
    assert len(await anna.replies_with("feedback.thanks.named")) == 1  # the form became the thank-you
    assert len(await chloe.replies_with("feedback.notice.new")) == 1


async def test_anonymous_feedback_answered_twice_back_and_forth(chat: Chat, clock: ManualClock) -> None:
    anna = await chat.member("Anna de Vries")
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    await give(chat, anna, WAIT, mode="anonymous")
    assert await chloe.replies_with("feedback.notice.new") == []  # not before the relay's random run
    await relay_and_deliver(chat, clock)
    number = await item_id(chloe, WAIT)
    replies = [
        ("Dank je! Op welke momenten is het het ergst?", "Vooral maandagochtend tussen negen en tien."),
        ("We zetten op maandag twee extra mensen in.", "Top, dat gaat echt helpen."),
    ]
    for staff_text, giver_text in replies:
        await chloe.says(f"feedback {number} antwoord {staff_text}")
        assert (await chloe.last_reply()).key == "feedback.replied.relay"
        clock.advance(timedelta(minutes=4, seconds=50))
        await chat.services.scheduler.run_due()
        await chat.deliver()
        assert staff_text not in await texts(anna)  # the random delay (five minutes at least) runs
        clock.advance(timedelta(minutes=91))
        await chat.services.scheduler.run_due()
        await chat.deliver()
        relayed = await anna.last_reply()
        assert relayed.key == "feedback.giver.reply"
        assert staff_text in relayed.text and "Chloé Bakker" in relayed.text  # the replier is named
        await anna.clicks(chat.t("nl", "feedback.button.answer"), relayed)
        await anna.submits({"text": giver_text})
        assert (await anna.last_reply()).key == "feedback.answered.anonymous"
        await relay_and_deliver(chat, clock)
        notice = await chloe.last_reply()
        assert notice.key == "feedback.notice.answer" and giver_text in notice.text
    await chloe.says(f"feedback {number}")
    thread = (await chloe.last_reply()).text
    assert all(text in thread for pair in replies for text in pair)
    assert "Anna" not in await texts(chloe)  # the giver stays anonymous to the manager
    assert "Chloé Bakker" in await texts(anna)


async def test_only_the_giver_the_owner_and_managers_see_an_item(chat: Chat) -> None:
    anna = await chat.member("Anna")
    bram = await chat.member("Bram")
    daan = await chat.member("Daan")
    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    await give(chat, anna, WAIT)
    refused = await daan.says("feedback 1")
    assert refused.error is not None and refused.error.key == "feedback.error.not_found"
    assert WAIT not in await texts(daan)
    refused = await daan.says("feedback 1 antwoord Ik weet het beter")
    assert refused.error is not None and refused.error.key == "feedback.error.not_found"
    assert (await anna.says("feedback 1 antwoord Zelf beantwoorden")).error is not None
    await chloe.says("feedback 1 eigenaar Bram")
    assert (await chloe.last_reply()).key == "feedback.owner_set"
    assert (await bram.last_reply()).key == "feedback.notice.owner"
    await bram.says("feedback 1")
    assert WAIT in (await bram.last_reply()).text
    await bram.says("feedback 1 antwoord Ik bel je morgen even")
    assert (await anna.last_reply()).key == "feedback.giver.reply"


async def test_a_reply_to_a_closed_item_reopens_it_or_explains_why_not(
    chat: Chat, clock: ManualClock
) -> None:
    anna = await chat.member("Anna")
    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    await give(chat, anna, WAIT)
    refused = await chloe.says("feedback 1 nietdoen")
    assert refused.error is not None and refused.error.key == "feedback.error.empty"
    await chloe.says("feedback 1 nietdoen Dit past niet in het budget van dit jaar")
    status = await anna.last_reply()
    assert status.key == "feedback.giver.status" and "budget" in status.text
    await anna.clicks(chat.t("nl", "feedback.button.answer"), status)
    await anna.submits({"text": "Jammer, maar het kost ons wel klanten"})
    assert (await anna.last_reply()).key == "feedback.answered.reopened"
    assert (await chloe.last_reply()).key == "feedback.notice.reopened"
    await chloe.says("feedback 1 gedaan")
    clock.advance(timedelta(days=31))
    message = await anna.latest_with_button(chat.t("nl", "feedback.button.answer"))
    await anna.clicks(chat.t("nl", "feedback.button.answer"), message)
    late = await anna.submits({"text": "Het is weer mis"})
    assert late.error is not None and late.error.key == "feedback.error.closed_long_ago"
    await chloe.says("feedback 1")
    assert chat.t("nl", "feedback.status.done") in (await chloe.last_reply()).text


async def test_you_said_we_did_reaches_all_five_givers(chat: Chat, clock: ManualClock) -> None:
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    people = [
        (await chat.member("Anna"), "named", "De wachttijd aan de telefoon is te lang"),
        (await chat.member("Bram"), "named", "Klanten hangen vaak een kwartier in de wacht"),
        (await chat.member("Daan"), "named", "Telefonisch wachten duurt te lang voor klanten"),
        (await chat.member("Emma", locale="en"), "anonymous", "Phone queues are far too long on Mondays"),
        (await chat.member("Fatima"), "anonymous", "Klanten klagen steeds over de wachtrij"),
    ]
    emma = people[3][0]
    silent = await chat.member("Gijs")
    everyone = await chat.channel("algemeen", [person for person, _, _ in people] + [chloe, silent])
    for person, mode, text in people:
        await give(chat, person, text, mode=mode)
    again = "The hold music restarts every twenty seconds"  # Emma's second item in the same theme
    await give(chat, emma, again, mode="anonymous")
    await give(chat, silent, "De wachtrij is een ramp", mode="anonymous_no_replies")
    await relay_and_deliver(chat, clock)
    numbers = [await item_id(chloe, text) for _, _, text in people] + [
        await item_id(chloe, again),
        await item_id(chloe, "De wachtrij is een ramp"),
    ]
    await chloe.says("thema nieuw Wachttijd aan de telefoon")
    assert (await chloe.last_reply()).key == "feedback.theme.created"
    await chloe.says("thema 1 toevoegen " + " ".join(str(number) for number in numbers))
    assert (await chloe.last_reply()).key == "feedback.theme.added"
    await chloe.says("inbox kanaal algemeen")
    update = "Vanaf december staan er op maandag twee extra collega's aan de telefoon."
    await chloe.says(f"thema 1 gedaan {update}")
    sent = await chloe.last_reply()
    assert sent.key == "feedback.update_sent"
    assert "3 gever(s) met naam" in sent.text and "3 anonieme feedback" in sent.text
    await relay_and_deliver(chat, clock)
    for person, _, _ in people:
        received = await person.replies_with("feedback.giver.update")
        assert len(received) == 1, person.member.name  # Emma too, though two of her items are in it
        assert update in received[0].text
    assert "You said, we did" in (await emma.replies_with("feedback.giver.update"))[0].text
    assert await silent.replies_with("feedback.giver.update") == []
    public = await chloe.replies_with("feedback.update_public", where=everyone)
    assert len(public) == 1 and update in public[0].text
    await chloe.says(f"feedback {numbers[0]}")
    assert chat.t("nl", "feedback.status.done") in (await chloe.last_reply()).text
    # The monthly digest on 1 December tells the CX managers (and the channel) what was done, counting
    # givers reached: three named, two anonymous (Emma once), not the six items with replies.
    clock.set(datetime(2026, 12, 1, 8, 31, tzinfo=UTC))
    await chat.services.scheduler.run_due()
    await chat.deliver()
    digest = await chloe.replies_with("feedback.digest.text")
    assert len(digest) == 1 and "Wachttijd aan de telefoon" in digest[0].text and "november" in digest[0].text
    assert "(5 gever(s) bereikt)" in digest[0].text
    assert len(await chloe.replies_with("feedback.digest.text", where=everyone)) == 1


async def test_unanswered_feedback_reminds_the_owner_then_the_managers(
    chat: Chat, clock: ManualClock
) -> None:
    ivo = await chat.member("Ivo")
    bram = await chat.member("Bram", roles=[Role.leader])
    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    await give(chat, ivo, "Chauffeurs kunnen klachten bij aflevering nergens kwijt", category="process")
    await chloe.says("feedback 1 eigenaar Bram")

    async def morning(day: int) -> None:
        clock.set(datetime(2026, 11, day, 8, 0, 30, tzinfo=UTC))  # 09:00 in Amsterdam
        await chat.services.scheduler.run_due()
        await chat.deliver()

    await morning(27)  # Friday: 4 working days
    assert await bram.replies_with("feedback.notice.sla_owner") == []
    await morning(30)  # Monday: 5 working days (the weekend does not count)
    assert len(await bram.replies_with("feedback.notice.sla_owner")) == 1
    assert await chloe.replies_with("feedback.notice.sla_managers") == []
    clock.set(datetime(2026, 12, 1, 8, 0, 30, tzinfo=UTC))
    await chat.services.scheduler.run_due()
    await chat.deliver()
    assert await chloe.replies_with("feedback.notice.sla_managers") == []
    clock.set(datetime(2026, 12, 2, 8, 0, 30, tzinfo=UTC))
    await chat.services.scheduler.run_due()
    await chat.deliver()
    assert len(await chloe.replies_with("feedback.notice.sla_managers")) == 1
    assert len(await bram.replies_with("feedback.notice.sla_owner")) == 1  # reminded once, not daily
    # An answer stops the clock.
    await bram.says("feedback 1 gepland")
    clock.set(datetime(2026, 12, 10, 8, 0, 30, tzinfo=UTC))
    await chat.services.scheduler.run_due()
    await chat.deliver()
    assert len(await chloe.replies_with("feedback.notice.sla_managers")) == 1


async def test_managers_change_the_answer_time_and_others_cannot(chat: Chat) -> None:
    anna = await chat.member("Anna")
    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    refused = await anna.says("inbox sla 2")
    assert refused.error is not None and refused.error.key == "error.not_allowed"
    bad = await chloe.says("inbox sla 99")
    assert bad.error is not None and bad.error.key == "feedback.error.sla_days"
    await chloe.says("inbox sla 2")
    assert (await chloe.last_reply()).key == "feedback.settings.sla"
    await give(chat, anna, WAIT)
    assert "woensdag 25 november" in (await anna.last_reply()).text


def test_working_days_skip_weekends_and_dutch_holidays() -> None:
    assert add_working_days(date(2026, 11, 23), 5) == date(2026, 11, 30)
    assert add_working_days(date(2026, 12, 21), 5) == date(2026, 12, 29)  # Christmas
    assert add_working_days(date(2027, 4, 26), 1) == date(2027, 4, 28)  # King's Day
    assert working_days_between(date(2026, 12, 24), date(2026, 12, 28)) == 1


async def test_pulse_answers_arrive_as_anonymous_items_without_replies(
    chat: Chat, clock: ManualClock
) -> None:
    from handlers.feedback import add_anonymous_item

    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    async with chat.services.database.transaction() as session:
        await add_anonymous_item(chat.services.job_context(session), "Ik mis overleg met Sales", "silo")
    await relay_and_deliver(chat, clock)
    number = await item_id(chloe, "Ik mis overleg met Sales")
    await chloe.says(f"feedback {number}")
    assert chat.t("nl", "feedback.mode.anonymous_no_replies") in (await chloe.last_reply()).text
    refused = await chloe.says(f"feedback {number} antwoord Dank je")
    assert refused.error is not None and refused.error.key == "feedback.error.no_replies"


async def test_feedback_asked_in_a_channel_moves_to_a_direct_message_with_a_warning(
    chat: Chat, clock: ManualClock
) -> None:
    anna = await chat.member("Anna de Vries")
    bram = await chat.member("Bram")
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    channel = await chat.channel("algemeen", [anna, bram, chloe])
    await anna.says(f"/feedback {WAIT}", where=channel)
    moved = await anna.last_reply(channel)
    assert moved.key == "feedback.moved_to_dm" and moved.private
    assert "haal het bericht dan weg" in moved.text  # what she typed there carries her name
    assert [seen.key for seen in await bram.sees(channel) if seen.author == "Klantpet"] == []
    assert (await anna.last_reply()).key == "feedback.ask_how"  # the dialogue goes on in her DM
    await anna.clicks(chat.t("nl", "feedback.button.anonymous"))
    await anna.clicks(chat.t("nl", "feedback.category.customer"))
    assert (await anna.last_reply()).key == "feedback.thanks.anonymous"
    await relay_and_deliver(chat, clock)
    notice = (await chloe.replies_with("feedback.notice.new"))[0]
    assert WAIT in notice.text and "Anna" not in notice.text
    await anna.says("/feedback", where=channel)
    assert (await anna.last_reply()).key == "feedback.form.title"  # the form, privately
    assert len(await anna.replies_with("feedback.moved_to_dm", where=channel)) == 2
