"""The Telegram platform end to end: updates are posted to our FastAPI webhook, the bot answers through
python-telegram-bot's real client against the local fake Bot API (tests/fakes/telegram_api.py)."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.errors import InvalidInput
from bot.markup import to_plain
from bot.messages import Button, Buttons, Field_, Form, Message, Text
from bot.platforms.telegram import TelegramPlatform
from bot.router import Router, Submission
from storage.models import Channel, ChannelMember, Delivery, Identity, Member, ProcessedEvent
from storage.models.telegram import TelegramFormSession, TelegramInvite
from storage.repositories import Repos
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.platforms.telegram_harness import (
    GROUP,
    SECRET,
    Telegram,
    TelegramUser,
    code_of,
    enqueue,
    fake_api,
    tg,
)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
FIXTURES = (fake_api, tg)  # pytest hands these to the tests by name


# --- Start ------------------------------------------------------------------------------------------
async def test_start_registers_the_webhook_with_its_secret_and_publishes_commands(tg: Telegram) -> None:
    webhook = tg.fake.webhook
    assert webhook["url"] == "https://klantpet.example/telegram/webhook"
    assert webhook["secret_token"] == SECRET
    assert set(webhook["allowed_updates"]) == {"message", "callback_query", "my_chat_member"}
    dutch = {command["command"] for command in tg.fake.commands_for("nl")}
    english = {command["command"] for command in tg.fake.commands_for("en")}
    assert {"hulp", "taal", "ik"} <= dutch and "rol" not in dutch  # admin commands stay out of the menu
    assert {"help", "language", "me"} <= english
    assert tg.fake.commands_for("") == tg.fake.commands_for("nl")


# --- Inbound safety ---------------------------------------------------------------------------------
async def test_webhook_with_a_wrong_or_missing_secret_is_refused_and_changes_nothing(tg: Telegram) -> None:
    stranger = TelegramUser(tg, 6001, "Mallory")
    update = stranger.update("hallo", update_id=500)
    assert (await tg.post(update, secret="guessed")).status_code == 403
    assert (await tg.post(update, secret=None)).status_code == 403
    assert (await tg.post(update, secret=SECRET + "x")).status_code == 403
    await tg.deliver()
    assert await tg.count(ProcessedEvent) == 0 and await tg.count(Delivery) == 0
    assert tg.fake.calls_to("sendMessage") == []
    # the very same update with the right secret is handled: the refused ones left no trace
    assert (await tg.post(update)).status_code == 200
    await tg.deliver()
    assert stranger.last() == tg.t("nl", "error.not_linked", organisation="Testbedrijf")


async def test_malformed_update_is_a_bad_request(tg: Telegram) -> None:
    response = await tg.client.post(
        "/telegram/webhook", content=b"not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 400


async def test_the_same_update_twice_is_handled_once(tg: Telegram) -> None:
    anna = await tg.linked("Anna de Vries", 1001)
    before = len(anna.sees())
    update = anna.update("/ik", update_id=777)
    assert (await tg.post(update)).status_code == 200
    assert (await tg.post(update)).status_code == 200
    await tg.deliver()
    assert len(anna.sees()) == before + 1
    assert "Anna de Vries" in anna.last()


async def test_an_unlinked_user_is_refused_politely_and_not_stored(tg: Telegram) -> None:
    members = await tg.count(Member)
    stranger = TelegramUser(tg, 6002, "Eve", language="en")
    await stranger.says("/help")
    await stranger.says("what is this?")
    assert stranger.sees() == [tg.t("en", "error.not_linked", organisation="Testbedrijf")] * 2
    assert await tg.count(Member) == members and await tg.count(Identity) == 0


# --- Invitations ------------------------------------------------------------------------------------
async def test_an_invitation_links_once(tg: Telegram) -> None:
    anna = await tg.member("Anna de Vries")
    link = await tg.platform.invitations.create(anna.id)
    code = code_of(link)
    async with tg.services.database.transaction() as session:
        stored = (await session.scalars(select(TelegramInvite))).one()
    assert stored.code_hash == hashlib.sha256(code.encode()).hexdigest() and code not in stored.code_hash

    phone = TelegramUser(tg, 1001, "Anna")
    await phone.says(f"/start {code}")
    assert phone.sees()[0] == tg.t("nl", "telegram.linked", name="Anna")
    assert to_plain(tg.t("nl", "welcome.text", name="Anna")) in phone.sees()
    await phone.says("/ik")
    assert "Anna de Vries" in phone.last()

    thief = TelegramUser(tg, 6003, "Mallory")
    await thief.says(f"/start {code}")
    assert thief.last() == tg.t("nl", "telegram.invite_used")
    await thief.says("/ik")
    assert thief.last() == tg.t("nl", "error.not_linked", organisation="Testbedrijf")
    async with tg.services.database.transaction() as session:
        assert await Repos(session).members.by_identity("telegram", "6003") is None

    await phone.says(f"/start {code}")
    assert phone.last() == tg.t("nl", "telegram.already_linked", name="Anna")


async def test_an_expired_or_unknown_invitation_links_nobody(tg: Telegram) -> None:
    bram = await tg.member("Bram")
    code = code_of(await tg.platform.invitations.create(bram.id, days=7))
    tg.clock.advance(timedelta(days=7, minutes=1))
    late = TelegramUser(tg, 1002, "Bram")
    await late.says(f"/start {code}")
    assert late.last() == tg.t("nl", "telegram.invite_expired")
    await late.says("/start made-up-code")
    assert late.last() == tg.t("nl", "telegram.invite_unknown")
    assert await tg.count(Identity) == 0


# --- Conversations ----------------------------------------------------------------------------------
async def test_commands_with_the_bots_name_and_plain_text_in_a_private_chat(tg: Telegram) -> None:
    anna = await tg.linked("Anna", 1001)
    await anna.says("/hulp@klantpet_test_bot")
    assert anna.last().startswith(tg.t("nl", "help.intro"))
    count = len(anna.sees())
    await anna.says("/hulp@some_other_bot")
    assert len(anna.sees()) == count
    await anna.says("taal en")
    assert anna.last() == tg.t("en", "core.language_set")


async def test_a_group_hears_commands_only_and_answers_privately_when_it_should(tg: Telegram) -> None:
    anna = await tg.linked("Anna", 1001)
    await anna.says("/help@klantpet_test_bot", chat=GROUP)
    assert anna.last(GROUP).startswith(tg.t("nl", "help.intro"))
    events = await tg.count(ProcessedEvent)
    await anna.says("zullen we beginnen?", chat=GROUP)
    assert len(anna.sees(GROUP)) == 1 and await tg.count(ProcessedEvent) == events
    async with tg.services.database.transaction() as session:
        channel = (await session.scalars(select(Channel))).one()
        assert (channel.external_id, channel.name, channel.kind) == (str(GROUP), "Weekstart Team", "group")
        assert await session.scalar(select(func.count()).select_from(ChannelMember)) == 1
    # a refusal is "only for you": Telegram groups cannot do that, so it goes to the private chat
    await anna.says("/rol geef #1 admin", chat=GROUP)
    assert len(anna.sees(GROUP)) == 1
    assert anna.last() == tg.t("nl", "error.not_allowed", role=tg.t("nl", "roles.admin"))


async def test_a_group_becomes_a_channel_when_a_member_adds_the_bot_and_keeps_it_when_upgraded(
    tg: Telegram,
) -> None:
    await tg.linked("Anna", 1001)

    def added(update_id: int, by: int, chat: dict[str, Any]) -> dict[str, Any]:
        user = {"id": by, "is_bot": False, "first_name": "X"}
        return {
            "update_id": update_id,
            "my_chat_member": {
                "chat": chat,
                "from": user,
                "date": 1700000000,
                "old_chat_member": {"status": "left", "user": tg.fake.bot_user},
                "new_chat_member": {"status": "member", "user": tg.fake.bot_user},
            },
        }

    group = {"id": -500, "type": "group", "title": "Team Zuid"}
    assert (await tg.post(added(900, 6004, {**group, "id": -501}))).status_code == 200  # a stranger: nothing
    assert (await tg.post(added(901, 1001, group))).status_code == 200
    upgrade = {
        "update_id": 902,
        "message": {
            "message_id": 3,
            "chat": group,
            "from": {"id": 1001, "is_bot": False, "first_name": "Anna"},
            "date": 1700000000,
            "migrate_to_chat_id": -100999,
        },
    }
    assert (await tg.post(upgrade)).status_code == 200
    async with tg.services.database.transaction() as session:
        channel = (await session.scalars(select(Channel))).one()
        assert (channel.external_id, channel.name) == ("-100999", "Team Zuid")
        assert await session.scalar(select(func.count()).select_from(ChannelMember)) == 1


async def test_buttons_carry_short_tokens_are_answered_and_work(tg: Telegram) -> None:
    anna = await tg.linked("Anna", 1001)
    await anna.says("/hulp")
    keyboard = tg.fake.messages(1001)[-1]["reply_markup"]["inline_keyboard"]
    data = [button["callback_data"] for row in keyboard for button in row]
    assert data and all(re.fullmatch(r"[a-z2-7]{20}", item) for item in data)
    await anna.presses(tg.t("nl", "help.button_ritual"))
    assert anna.last() == to_plain(tg.t("nl", "help.topics.ritual", threshold=5))
    assert len(tg.fake.callback_answers) == 1


async def test_an_answered_message_is_edited_in_place(tg: Telegram) -> None:
    anna = await tg.linked("Anna", 1001)
    question = Message(
        blocks=(Text(text="Kies"), Buttons(buttons=(Button(label="Ja", action="x.yes"),))), key="t.question"
    )
    await enqueue(tg, "t:question", "1001", question)
    await tg.deliver()
    async with tg.services.database.transaction() as session:
        reference = (await Repos(session).deliveries.by_key("t:question")).platform_message_id  # type: ignore[union-attr]
    await enqueue(tg, "t:answered", "1001", Message.text("Beantwoord: **ja**"), edit_ref=reference)
    await tg.deliver()
    edited = tg.fake.messages(1001)[-1]
    assert edited["text"] == "Beantwoord: ja" and "edit_date" in edited and "reply_markup" not in edited
    assert f"1001:{edited['message_id']}" == reference
    assert anna.sees()[-1] == "Beantwoord: ja"


# --- Forms ------------------------------------------------------------------------------------------
FEEDBACK = Form(
    action="test.feedback",
    title="Feedback",
    fields=(
        Field_(
            name="topic",
            label="Waarover?",
            style="select",
            options=(("product", "Product"), ("service", "Service")),
        ),
        Field_(name="text", label="Wat gebeurde er?", style="textarea", max_length=40),
        Field_(name="name", label="Je naam", required=False),
    ),
    submit_label="Versturen",
)


def _routes_of(received: list[dict[str, str]]) -> Router:
    """A feature with a form: it keeps what was submitted, refuses "onzin" and edits the form message."""
    routes = Router()

    @routes.form("test.feedback")
    async def feedback(ctx: Any, submission: Submission) -> None:
        if submission.fields["text"] == "onzin":
            raise InvalidInput("error.field_required", field="text")
        received.append(dict(submission.fields))
        await ctx.update(submission.message_ref, Message.text("Bedankt, ontvangen."))

    return routes


@pytest.fixture
def received(tg: Telegram) -> list[dict[str, str]]:
    seen: list[dict[str, str]] = []
    tg.services.routes.include(_routes_of(seen))
    return seen


async def _filling_in(tg: Telegram) -> TelegramUser:
    """Anna, linked, has received the feedback form in her private chat and pressed "Fill in"."""
    anna = await tg.linked("Anna", 1001)
    await enqueue(tg, "t:form", "1001", Message(blocks=(FEEDBACK,)))
    await tg.deliver()
    await anna.presses(tg.t("nl", "telegram.form.start"))
    return anna


@pytest.mark.slow
async def test_a_form_is_filled_in_step_by_step_and_survives_a_restart(
    tg: Telegram, received: list[dict[str, str]]
) -> None:
    anna = await _filling_in(tg)
    assert anna.last().startswith("Feedback · vraag 1 van 3\nWaarover?")
    await anna.presses("Service")
    assert "vraag 2 van 3" in anna.last()
    await tg.restart()  # the form in progress lives in the database
    tg.services.routes.include(_routes_of(received))
    # A new process cannot know when its predecessor last wrote to this chat, and Telegram's pace of one
    # message a second per chat outlives it: talk after that second, as a person would.
    await asyncio.sleep(1.1)
    await anna.says("x" * 41)
    assert anna.last() == tg.t("nl", "error.field_too_long", limit=40)
    await anna.says("onzin")
    assert "vraag 3 van 3" in anna.last()
    await anna.presses(tg.t("nl", "telegram.form.skip"))
    # the handler refused one answer: that question comes again, the rest is kept
    assert anna.sees()[-2] == tg.t("nl", "error.field_required")
    assert "vraag 2 van 3" in anna.last() and received == []
    await anna.says("De koffie was koud")
    await anna.presses(tg.t("nl", "telegram.form.skip"))
    assert received == [{"topic": "service", "text": "De koffie was koud", "name": ""}]
    form_message = tg.fake.messages(1001)[
        [m["text"] for m in tg.fake.messages(1001)].index("Bedankt, ontvangen.")
    ]
    assert "edit_date" in form_message  # the form itself now says it was received
    assert await tg.count(TelegramFormSession) == 0
    await anna.says("/ik")
    assert "Anna" in anna.last()


@pytest.mark.slow
async def test_a_form_can_be_cancelled_and_sends_nothing(
    tg: Telegram, received: list[dict[str, str]]
) -> None:
    anna = await _filling_in(tg)
    await anna.presses("Product")
    await anna.says("/annuleer")
    assert anna.last() == tg.t("nl", "telegram.form.cancelled")
    await anna.says("De koffie was koud")  # no longer an answer: plain text goes to the bot as usual
    assert "vraag" not in anna.last() and received == []
    await anna.presses(tg.t("nl", "telegram.form.start"))
    await anna.presses(tg.t("nl", "telegram.form.cancel"))
    assert anna.last() == tg.t("nl", "telegram.form.cancelled")
    assert await tg.count(TelegramFormSession) == 0 and received == []


# --- Outbound limits --------------------------------------------------------------------------------
@pytest.mark.slow
async def test_a_long_message_is_split_at_paragraphs_with_the_keyboard_last(tg: Telegram) -> None:
    await tg.linked("Anna", 1001)
    tg.fake.per_chat_rate = 0.6  # stricter than ours: the second part is refused once with retry_after
    paragraphs = [f"Alinea {n}: " + "woord " * 300 for n in range(4)]  # ~1800 characters each
    long = Message(
        blocks=(Text(text="\n\n".join(paragraphs)), Buttons(buttons=(Button(label="Top", action="x.top"),)))
    )
    before = len(tg.fake.messages(1001))
    await asyncio.sleep(1.7)
    await enqueue(tg, "t:long", "1001", long)
    await tg.deliver()
    assert tg.fake.rate_limited and len(tg.fake.messages(1001)) == before + 1
    tg.clock.advance(timedelta(seconds=2))
    await tg.deliver()
    parts = tg.fake.messages(1001)[before:]
    assert [part["text"].count("Alinea") for part in parts] == [2, 2]  # no part sent twice
    assert all(len(part["text"]) <= 4096 and part["text"].rstrip().endswith("woord") for part in parts)
    assert (
        "reply_markup" not in parts[0] and parts[1]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Top"
    )


async def test_telegrams_retry_after_is_honoured(tg: Telegram) -> None:
    anna = await tg.linked("Anna", 1001)
    tg.fake.per_chat_rate = 1000.0
    before = len(anna.sees())
    tg.fake.fail_next("sendMessage", 1, "429")
    await enqueue(tg, "t:limited", "1001", Message.text("Even geduld"))
    await tg.deliver()
    async with tg.services.database.transaction() as session:
        waiting = await Repos(session).deliveries.by_key("t:limited")
    assert waiting is not None and waiting.status == "pending" and waiting.attempts == 0
    assert waiting.not_before == tg.clock.now() + timedelta(seconds=1)
    await tg.deliver()
    assert len(anna.sees()) == before  # not before Telegram said so
    tg.clock.advance(timedelta(seconds=1))
    await tg.deliver()
    assert anna.last() == "Even geduld"


async def test_a_chat_that_does_not_exist_fails_for_good_and_a_server_error_is_retried(tg: Telegram) -> None:
    tg.fake.per_chat_rate = 1000.0
    await enqueue(tg, "t:nowhere", "424242", Message.text("Hallo?"))
    await tg.deliver()
    tg.fake.add_chat(1009)
    tg.fake.fail_next("sendMessage", 1, "500")
    await enqueue(tg, "t:flaky", "1009", Message.text("Hallo!"))
    await tg.deliver()
    async with tg.services.database.transaction() as session:
        nowhere = await Repos(session).deliveries.by_key("t:nowhere")
        flaky = await Repos(session).deliveries.by_key("t:flaky")
    assert (
        nowhere is not None
        and nowhere.status == "failed"
        and "chat not found" in (nowhere.last_error or "").lower()
    )
    assert flaky is not None and flaky.status == "pending" and flaky.attempts == 1
    tg.clock.advance(timedelta(minutes=5))
    await tg.deliver()
    assert [message["text"] for message in tg.fake.messages(1009)] == ["Hallo!"]


def most_in_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start - window < t <= start) for start in times)


def paced(platform: TelegramPlatform, targets: list[str]) -> list[float]:
    """When each send to ``targets`` (in order) may go, paced by our limiter as the outbox paces them."""
    from bot.ratelimit import RateLimiter

    limiter, now, times = RateLimiter(), 1000.0, []
    for target in targets:
        now += limiter.reserve(platform.limits(target), now=now)
        times.append(now)
    return times


def test_limits_follow_telegrams_faq() -> None:
    """At most 1 message a second per chat, 20 a minute per group, 30 a second in all."""
    platform = TelegramPlatform.__new__(TelegramPlatform)
    assert most_in_window(paced(platform, ["1001"] * 30), 1.0) == 1
    group = paced(platform, ["-100500"] * 60)
    assert most_in_window(group, 60.0) <= 20 and most_in_window(group, 1.0) == 1
    broadcast = paced(platform, [str(2000 + n) for n in range(300)])
    assert most_in_window(broadcast, 1.0) <= 30
    assert broadcast[-1] - broadcast[0] < 15  # a broadcast to 300 people is not needlessly slow


# --- Polling ----------------------------------------------------------------------------------------
async def test_polling_mode_pulls_updates_and_stops_cleanly(
    tmp_path: Path, database_url: str, clock: ManualClock, fake_api: tuple[FakeTelegram, str]
) -> None:
    fake, url = fake_api
    fake.reset(chats=True)
    fake.webhook = {"url": "https://old.example/telegram/webhook"}
    settings = make_settings(
        tmp_path,
        database_url,
        web_chat=False,
        telegram_bot_token=fake.token,
        telegram_mode="polling",
        telegram_api_url=url,
    )
    running = Telegram(settings, clock, fake)
    await running.start()
    try:
        assert fake.webhook["url"] == ""
        assert (await running.post({"update_id": 1})).status_code == 404  # no webhook endpoint to abuse
        fake.queue_update(fake.message_update(None, 7001, 7001, "hallo", "Stranger"))
        for _ in range(400):  # up to 20 s on a busy machine
            await running.deliver()
            if fake.messages(7001):
                break
            await asyncio.sleep(0.05)
        assert [m["text"] for m in fake.messages(7001)] == [
            running.t("nl", "error.not_linked", organisation="Testbedrijf")
        ]
    finally:
        await running.stop()
    assert not running.platform.application.running


# --- The admin's command line -----------------------------------------------------------------------
def test_the_cli_prints_a_single_use_invitation_link(
    tmp_path: Path, fake_api: tuple[FakeTelegram, str]
) -> None:
    from typer.testing import CliRunner

    from bot.cli import app
    from storage.db import Database
    from storage.migrate import upgrade

    fake, url = fake_api
    fake.reset(chats=True)
    env = {
        "KLANTPET_DATA_DIR": str(tmp_path),
        "KLANTPET_LOG_FORMAT": "text",
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "KLANTPET_TELEGRAM_API_URL": url,
    }
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'klantpet.db'}")

    async def prepare() -> None:
        await upgrade(database)
        async with database.transaction() as session:
            await Repos(session).members.create("Anna de Vries")

    async def stored_hashes() -> list[str]:
        async with database.transaction() as session:
            return [row.code_hash for row in (await session.scalars(select(TelegramInvite))).all()]

    asyncio.run(prepare())
    runner = CliRunner()
    result = runner.invoke(app, ["telegram", "invite", "anna de vries", "--days", "3"], env=env)
    assert result.exit_code == 0, result.output
    code = code_of(result.output.strip().splitlines()[-1])
    assert asyncio.run(stored_hashes()) == [hashlib.sha256(code.encode()).hexdigest()]
    listed = runner.invoke(app, ["telegram", "invites"], env=env)
    assert "Anna de Vries" in listed.output
    nobody = runner.invoke(app, ["telegram", "invite", "Niemand"], env=env)
    assert nobody.exit_code == 2 and "no active member" in nobody.output
    assert len(asyncio.run(stored_hashes())) == 1
    unconfigured = runner.invoke(
        app, ["telegram", "invite", "anna de vries"], env={**env, "TELEGRAM_BOT_TOKEN": ""}
    )
    assert unconfigured.exit_code == 2 and "not configured" in unconfigured.output
