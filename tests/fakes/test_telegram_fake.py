"""Self-test of the fake Telegram Bot API, driven by python-telegram-bot's real client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
import telegram
from telegram import BotCommand, BotCommandScopeDefault, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application
from telegram.request import HTTPXRequest

from .server import serve
from .telegram_api import FakeTelegram, parse_html

CHAT = 4242
# PTB 22 warns on every RetryAfter that retry_after will become a timedelta; not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture(scope="module")
def fake_url() -> Iterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def fake(fake_url: tuple[FakeTelegram, str]) -> FakeTelegram:
    f = fake_url[0]
    f.reset(chats=True)
    f.per_chat_rate, f.global_rate, f.group_per_minute = 1000.0, 1000.0, 1000
    f.add_chat(CHAT)
    return f


@pytest.fixture
def url(fake_url: tuple[FakeTelegram, str]) -> str:
    return fake_url[1]


def make_bot(fake: FakeTelegram, url: str, **req: float) -> telegram.Bot:
    return telegram.Bot(**fake.bot_kwargs(url), request=HTTPXRequest(**req))  # type: ignore[arg-type]


KB = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Ja", callback_data="yes"), InlineKeyboardButton("Nee", callback_data="no")]]
)


@pytest.mark.asyncio
async def test_send_edit_delete_html_keyboard(fake: FakeTelegram, url: str) -> None:
    async with make_bot(fake, url) as bot:
        me = await bot.get_me()
        assert me.username == "klantpet_test_bot" and me.is_bot
        msg = await bot.send_message(
            CHAT, "<b>Hallo</b> & <a href='https://x.nl'>link</a>", parse_mode="HTML", reply_markup=KB
        )
        assert (
            msg.text == "Hallo & link"
            and msg.chat.type == "private"
            and msg.from_user
            and msg.from_user.is_bot
        )
        assert [(e.type, e.offset, e.length) for e in msg.entities] == [("bold", 0, 5), ("text_link", 8, 4)]
        assert msg.reply_markup == KB
        call = fake.calls_to("sendMessage")[-1]
        assert (
            call.params["chat_id"] == CHAT
            and call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
        )
        second = await bot.send_message(CHAT, "tweede")
        assert second.message_id == msg.message_id + 1

        edited = await bot.edit_message_text(
            "<i>Nieuw</i>", CHAT, msg.message_id, parse_mode="HTML", reply_markup=KB
        )
        assert isinstance(edited, telegram.Message) and edited.text == "Nieuw" and edited.edit_date
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text(
                "<i>Nieuw</i>", CHAT, msg.message_id, parse_mode="HTML", reply_markup=KB
            )
        await bot.edit_message_reply_markup(CHAT, msg.message_id)  # removes keyboard
        state = fake.messages(CHAT)
        assert state[0]["text"] == "Nieuw" and "reply_markup" not in state[0]
        with pytest.raises(BadRequest, match="[Mm]essage to edit not found"):
            await bot.edit_message_text("x", CHAT, 999)
        assert await bot.delete_message(CHAT, second.message_id)
        assert len(fake.messages(CHAT)) == 1
        assert await bot.send_chat_action(CHAT, "typing")
        chat = await bot.get_chat(CHAT)
        assert chat.id == CHAT and chat.type == "private"


@pytest.mark.asyncio
async def test_validation_errors(fake: FakeTelegram, url: str) -> None:
    async with make_bot(fake, url) as bot:
        kb = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="a" * 65)]])
        with pytest.raises(BadRequest, match="Button_data_invalid"):  # PTB capitalizes the message
            await bot.send_message(CHAT, "hoi", reply_markup=kb)
        await bot.send_message(
            CHAT,
            "hoi",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="a" * 64)]]),
        )
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(777, "hoi")
        with pytest.raises(BadRequest, match="too long"):
            await bot.send_message(CHAT, "a" * 4097)
        for bad_html in ("<b>open", "<b>x</i>", "<div>x</div>", "a < b", "x</b>", '<span class="x">y</span>'):
            with pytest.raises(BadRequest, match="parse entities"):
                await bot.send_message(CHAT, bad_html, parse_mode="HTML")
    text, ents = parse_html(
        '<pre><code class="language-python">x</code></pre><tg-spoiler>😀</tg-spoiler> &lt;3'
    )
    assert text == "x😀 <3" and ents == [
        {"type": "pre", "language": "python", "offset": 0, "length": 1},
        {"type": "spoiler", "offset": 1, "length": 2},
    ]


@pytest.mark.asyncio
async def test_tokens(fake: FakeTelegram, url: str) -> None:
    for token in ("999:WRONG", "garbage"):
        with pytest.raises(InvalidToken):
            await telegram.Bot(token, base_url=f"{url}/bot").initialize()


@pytest.mark.asyncio
async def test_rate_limit_and_faults(fake: FakeTelegram, url: str) -> None:
    fake.per_chat_rate = 1.0
    async with make_bot(fake, url) as bot:
        await bot.send_message(CHAT, "1")
        with pytest.raises(RetryAfter) as exc:
            await bot.send_message(CHAT, "2")
        assert exc.value.retry_after in (1, dt.timedelta(seconds=1))  # int today, timedelta in PTB 23
        assert fake.rate_limited[-1]["scope"] == "chat"
        fake.per_chat_rate = 1000.0

        fake.fail_next("sendMessage", 1, "429")
        with pytest.raises(RetryAfter):
            await bot.send_message(CHAT, "3")
        fake.fail_next("sendMessage", 1, "500")
        with pytest.raises(NetworkError):
            await bot.send_message(CHAT, "4")
        fake.fail_next("*", 1, "502")
        with pytest.raises(NetworkError):
            await bot.get_me()
        assert (await bot.send_message(CHAT, "5")).text == "5"
    fake.timeout_delay = 0.5
    fake.fail_next("sendMessage", 1, "timeout")
    async with make_bot(fake, url, read_timeout=0.2) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "6")
    assert [f["kind"] for f in fake.faults_injected] == ["429", "500", "502", "timeout"]


def test_group_and_global_limits_with_time_scale() -> None:
    fake = FakeTelegram(per_chat_rate=None, group_per_minute=20, global_rate=None, time_scale=0.01)
    fake.add_chat(-100, "supergroup", "Team")
    with fake._lock:
        for _ in range(20):
            fake._m_sendmessage({"chat_id": -100, "text": "x"})
        with pytest.raises(Exception) as exc:
            fake._m_sendmessage({"chat_id": -100, "text": "x"})
    assert getattr(exc.value, "code", None) == 429 and fake.rate_limited[-1]["scope"] == "group"
    assert fake.rate_limited[-1]["retry_after"] >= 1 and fake.rate_limited[-1]["wait_real"] < 0.1


@pytest.mark.asyncio
async def test_webhook_and_commands(fake: FakeTelegram, url: str) -> None:
    async with make_bot(fake, url) as bot:
        assert await bot.set_webhook(
            "https://klantpet.example/tg", secret_token="s3cr3t", allowed_updates=["message"]
        )
        assert fake.webhook["secret_token"] == "s3cr3t" and fake.webhook["allowed_updates"] == ["message"]
        assert fake.webhook_headers() == {"X-Telegram-Bot-Api-Secret-Token": "s3cr3t"}
        info = await bot.get_webhook_info()
        assert info.url == "https://klantpet.example/tg" and info.allowed_updates == ("message",)
        with pytest.raises(Conflict):
            await bot.get_updates()
        with pytest.raises(BadRequest, match="(?i)https url"):
            await bot.set_webhook("http://insecure")
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert (await bot.get_webhook_info()).url == ""

        await bot.set_my_commands(
            [BotCommand("start", "Begin"), BotCommand("hulp", "Hulp")], language_code="nl"
        )
        await bot.set_my_commands(
            [BotCommand("start", "Start")], language_code="en", scope=BotCommandScopeDefault()
        )
        assert [c["command"] for c in fake.commands_for("nl")] == ["start", "hulp"]
        assert [c.description for c in await bot.get_my_commands(language_code="en")] == ["Start"]
        assert await bot.get_my_commands() == ()


@pytest.mark.asyncio
async def test_get_updates_and_callbacks(fake: FakeTelegram, url: str) -> None:
    async with make_bot(fake, url) as bot:
        sent = await bot.send_message(CHAT, "Kies", reply_markup=KB)
        fake.queue_update(fake.message_update(10, CHAT, 7, "/start@klantpet_test_bot hoi"))
        fake.queue_update(fake.callback_query_update(11, 7, CHAT, sent.message_id, "yes"))
        updates = await bot.get_updates(timeout=1)
        assert [u.update_id for u in updates] == [10, 11]
        msg = updates[0].message
        assert (
            msg
            and msg.text == "/start@klantpet_test_bot hoi"
            and msg.from_user
            and msg.from_user.language_code == "nl"
        )
        assert msg.entities[0].type == "bot_command" and (msg.entities[0].offset, msg.entities[0].length) == (
            0,
            24,
        )
        query = updates[1].callback_query
        assert query and query.data == "yes" and isinstance(query.message, telegram.Message)
        assert query.message.reply_markup == KB
        assert await query.answer("Top")
        assert fake.callback_answers[query.id]["text"] == "Top"
        with pytest.raises(BadRequest, match="query id is invalid"):
            await bot.answer_callback_query("nope")

        assert [u.update_id for u in await bot.get_updates(offset=11)] == [11]
        assert await bot.get_updates(offset=12, timeout=0) == ()
        assert fake.updates == []
        fake.queue_update(fake.message_update(None, -5, 8, "hallo", chat_type="group"))
        (upd,) = await bot.get_updates(offset=12, timeout=1)
        assert upd.update_id == 12 and upd.message and upd.message.chat.type == "group"
        assert len(fake.messages(-5, include_inbound=True)) == 1 and fake.messages(-5) == []


@pytest.mark.asyncio
async def test_application_and_control_endpoints(fake: FakeTelegram, url: str) -> None:
    app = Application.builder().token(fake.token).base_url(f"{url}/bot").updater(None).build()
    async with app:
        assert app.bot.username == "klantpet_test_bot"
        await app.bot.send_message(CHAT, "via app")
    async with httpx.AsyncClient(base_url=url) as client:
        calls = (await client.get("/_fake/calls", params={"method": "sendMessage"})).json()["calls"]
        assert calls[-1]["params"]["text"] == "via app"
        assert (
            await client.post("/_fake/chats", json={"chat_id": 55, "type": "group", "title": "G"})
        ).status_code == 200
        await client.post("/_fake/updates", json=fake.message_update(None, 55, 1, "hoi"))
        assert fake.updates[-1]["message"]["chat"]["title"] == "G"
        await client.post("/_fake/reset")
        assert fake.calls == [] and fake.updates == [] and 55 in fake.chats
