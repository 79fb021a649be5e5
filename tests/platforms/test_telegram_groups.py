"""Telegram groups: a meeting group runs the klantpet ritual through the real ritual handlers, and a
stranger who talks to the bot there gets no public answer.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.markup import to_plain
from storage.models import ChannelMember, Delivery, Identity, Member
from tests.platforms.telegram_harness import GROUP, Telegram, TelegramUser, fake_api, tg

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
FIXTURES = (fake_api, tg)  # pytest hands these to the tests by name
BOT = "@klantpet_test_bot"


async def add_meeting_from_the_shell(tg: Telegram, *arguments: str) -> str:
    """``klantpet meetings add …`` against the running app's database; returns what it printed."""
    from bot.cli import app

    environment = {
        "KLANTPET_DATA_DIR": str(tg.settings.data_dir),
        "KLANTPET_DATABASE_URL": tg.settings.resolved_database_url,
        "KLANTPET_LOG_FORMAT": "text",
    }
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["meetings", "add", *arguments], env=environment
    )
    assert result.exit_code == 0, result.output
    return result.output


def opening_wearer(tg: Telegram, text: str, names: list[str]) -> str:
    named = [
        name
        for name in names
        if to_plain(tg.t("nl", "ritual.opening", meeting="Weekstart", name=name)) in text
    ]
    assert len(named) == 1, f"expected the opening with one wearer in {text!r}"
    return named[0]


def buttons(tg: Telegram, chat: int) -> list[str]:
    keyboard = tg.fake.messages(chat)[-1].get("reply_markup", {}).get("inline_keyboard", [])
    return [button["text"] for row in keyboard for button in row]


@pytest.mark.slow
async def test_a_meeting_group_runs_the_klantpet_ritual(tg: Telegram) -> None:
    people = {
        "Anna de Vries": await tg.linked("Anna de Vries", 1001),
        "Bram Jansen": await tg.linked("Bram Jansen", 1002),
    }
    for person in people.values():  # both talk to Klantpet in the group: it knows them as its members
        await person.says(f"/help{BOT}", chat=GROUP)
    printed = await add_meeting_from_the_shell(
        tg, "--name", "Weekstart", "--channel", "Weekstart Team", "--days", "ma", "--time", "10:00"
    )
    assert "with 2 participants" in printed  # by default, the group's members Klantpet has met

    anna = people["Anna de Vries"]
    await anna.says("/pet", chat=GROUP)
    wearer = opening_wearer(tg, anna.last(GROUP), list(people))
    assert buttons(tg, GROUP) == [
        tg.t("nl", key) for key in ("ritual.button_pass", "ritual.button_take", "ritual.button_absent")
    ]

    other = next(name for name in people if name != wearer)
    await people[other].presses(tg.t("nl", "ritual.button_take"), chat=GROUP)
    assert anna.last(GROUP).startswith(to_plain(tg.t("nl", "ritual.taken", name=other, passer=wearer)))

    await anna.says("/pet end", chat=GROUP)
    assert anna.last(GROUP) == to_plain(tg.t("nl", "ritual.ended", name=other))
    cap = people[other]  # the debrief goes to whoever wore the cap last, in their private chat
    debrief = to_plain(tg.t("nl", "ritual.debrief", name=other.split()[0], meeting="Weekstart"))
    assert cap.last() == debrief
    assert buttons(tg, cap.user_id) == [tg.t("nl", "ritual.button_yes"), tg.t("nl", "ritual.button_no")]
    await cap.presses(tg.t("nl", "ritual.button_no"))
    assert cap.last().startswith(to_plain(tg.t("nl", "ritual.thanks_no_conflict"))[:20])
    assert debrief not in people[wearer].sees()  # the first wearer passed the cap on: no debrief for them


async def test_a_stranger_in_a_group_gets_no_public_answer_and_leaves_nothing(tg: Telegram) -> None:
    anna = await tg.linked("Anna", 1001)
    await anna.says(f"/help{BOT}", chat=GROUP)
    in_group, deliveries = len(tg.fake.messages(GROUP)), await tg.count(Delivery)
    members, links = await tg.count(Member), await tg.count(ChannelMember)
    stranger = TelegramUser(tg, 6010, "Eve")
    await stranger.says(f"/help{BOT}", chat=GROUP)
    await stranger.says(f"{BOT} what is this?", chat=GROUP)
    assert len(tg.fake.messages(GROUP)) == in_group  # the group hears nothing about who the bot knows
    assert await tg.count(Delivery) == deliveries and await tg.count(Member) == members
    assert await tg.count(ChannelMember) == links
    async with tg.services.database.transaction() as session:
        assert (await session.scalars(select(Identity).where(Identity.external_id == "6010"))).first() is None
    await stranger.says("/help")  # in a private chat the polite refusal comes, as always
    assert stranger.last() == tg.t("nl", "error.not_linked", organisation="Testbedrijf")
