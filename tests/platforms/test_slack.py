"""Slack end to end: signed requests through our real app over HTTP, replies through the outbox to a fake
Slack Web API that speaks Slack's protocol (limits, 429s, Block Kit validation)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot.commands import ParsedCommand
from bot.context import Context
from bot.messages import Button, Buttons, Choice, Message, Option, Text
from bot.router import Click, ThreadEvent
from tests.fakes.slack_api import BOT_USER_ID, block_actions_body, block_suggestion_body
from tests.platforms.conftest import ANNA, ANNA_DM, BART, SUPPORT, Workspace, dm_event, text_of

TRIGGER = "1700000000.12345.abcdef0123456789abcdef0123456789"


def t(workspace: Workspace, locale: str, key: str, **params: object) -> str:
    return workspace.services.catalog.t(locale, key, organisation="Testbedrijf", **params)


async def test_slash_command_in_a_channel_answers_only_the_asker(workspace: Workspace) -> None:
    response = await workspace.command("help")
    assert response.status_code == 200 and response.content == b""
    await workspace.settle()
    [answer] = workspace.fake.ephemerals
    assert answer["to_user"] == ANNA and answer["channel"] == SUPPORT
    assert t(workspace, "nl", "help.intro") in text_of(answer)
    assert workspace.channel() == [], "nothing is posted for everyone"
    anna = await workspace.member()
    assert anna is not None and anna.name == "Anna de Vries"
    assert (
        anna.timezone == "Europe/Amsterdam"
        and anna.locale == "nl"
        and anna.department_name == "Klantenservice"
    )


async def test_slash_command_in_a_direct_message_answers_there(workspace: Workspace) -> None:
    await workspace.command("taal en", user=ANNA, channel=ANNA_DM)
    await workspace.settle()
    [answer] = workspace.dm()
    assert text_of(answer) == t(workspace, "en", "core.language_set")
    anna = await workspace.member()
    assert anna is not None and anna.locale == "en"


async def test_an_english_slack_user_is_answered_in_english(workspace: Workspace) -> None:
    await workspace.command("help", user=BART, channel="D0000BART")
    await workspace.settle()
    [answer] = workspace.dm(BART)
    assert t(workspace, "en", "help.intro") in text_of(answer)


async def test_a_direct_message_and_a_mention_are_understood(workspace: Workspace) -> None:
    await workspace.event(dm_event("help"))
    await workspace.event(
        {
            "type": "app_mention",
            "channel": SUPPORT,
            "user": BART,
            "text": f"<@{BOT_USER_ID}> help",
            "ts": "1700000002.000100",
        }
    )
    await workspace.settle()
    assert t(workspace, "nl", "help.intro") in text_of(workspace.dm()[-1])
    [public] = workspace.channel()
    assert t(workspace, "en", "help.intro") in text_of(public)


@pytest.fixture
def counted(workspace: Workspace) -> list[str]:
    """A command and a button whose handlers note every time they run (the event ids they ran for)."""
    routes = workspace.services.routes
    runs: list[str] = []

    @routes.command("testcount")
    async def count(ctx: Context, command: ParsedCommand) -> None:
        runs.append(ctx.event.event_id)
        again = Button(label="Again", action="test.count")
        await ctx.reply(Message(blocks=(Text(text="Counted"), Buttons(buttons=(again,)))))

    @routes.action("test.count")
    async def clicked(ctx: Context, click: Click) -> None:
        runs.append(ctx.event.event_id)
        await ctx.reply("Counted again")

    return runs


async def test_a_retried_event_is_handled_once(workspace: Workspace, counted: list[str]) -> None:
    event = dm_event("testcount")
    first = await workspace.event(event, event_id="Ev0RETRY01")
    await workspace.settle()
    retry = await workspace.event(
        event,
        event_id="Ev0RETRY01",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert first.status_code == retry.status_code == 200
    await workspace.settle()
    assert counted == ["Ev0RETRY01"], "the handler ran once"
    assert len(workspace.dm()) == 1
    duplicates = workspace.services.registry.get_sample_value(
        "klantpet_inbound_duplicates_total", {"platform": "slack"}
    )
    assert duplicates == 1


async def test_a_bad_signature_is_refused_and_changes_nothing(workspace: Workspace) -> None:
    wrong = "not-the-signing-secret"
    responses = [
        await workspace.command("help", secret=wrong),
        await workspace.event(dm_event("help"), secret=wrong),
        await workspace.post(block_actions_body("kp:1", "abc", user_id=ANNA), secret=wrong),
    ]
    assert [response.status_code for response in responses] == [401, 401, 401]
    await workspace.settle()
    assert await workspace.member() is None
    assert workspace.fake.calls == [] and workspace.fake.ephemerals == []


async def test_a_request_older_than_five_minutes_is_refused(workspace: Workspace) -> None:
    response = await workspace.command("help", timestamp=int(time.time()) - 5 * 60 - 30)
    assert response.status_code == 401
    replayed = await workspace.event(
        dm_event("help"),
        timestamp=int(time.time()) - 6 * 60,
    )
    assert replayed.status_code == 401
    await workspace.settle()
    assert await workspace.member() is None
    assert workspace.fake.calls == [] and workspace.dm() == []


# --- Interactivity, threads and reactions, through a small feature registered for these tests ---------
@pytest.fixture
def heard(workspace: Workspace) -> list[ThreadEvent]:
    """Register a tiny feature: a post with replies and reactions, a form, a button that edits its message."""
    routes = workspace.services.routes
    seen: list[ThreadEvent] = []

    @routes.command("testpost")
    async def post(ctx: Context, command: ParsedCommand) -> None:
        done = Button(label="Done", action="test.done")
        await ctx.reply(Message(blocks=(Text(text="A post"), Buttons(buttons=(done,))), key="testpost.hello"))

    @routes.reply("testpost")
    async def replied(ctx: Context, event: ThreadEvent) -> None:
        seen.append(event)

    @routes.reaction("testpost")
    async def reacted(ctx: Context, event: ThreadEvent) -> None:
        seen.append(event)

    @routes.action("test.done")
    async def done(ctx: Context, click: Click) -> None:
        await ctx.update(click.message_ref, Message.text("Done ✔"))

    return seen


async def test_a_button_click_reaches_its_handler_once(workspace: Workspace, counted: list[str]) -> None:
    await workspace.command("testcount", channel=ANNA_DM)
    await workspace.settle()
    message = workspace.dm()[-1]
    await workspace.click(message, "Again", trigger_id=TRIGGER)
    await workspace.settle()
    await workspace.click(message, "Again", trigger_id=TRIGGER)  # the same interaction delivered twice
    await workspace.settle()
    assert counted[1:] == [f"action:{TRIGGER}"], "the click's handler ran once"
    assert [text_of(m) for m in workspace.dm()] == ["Counted\nAgain", "Counted again"]


async def test_a_click_edits_the_message_it_was_on(workspace: Workspace, heard: list[ThreadEvent]) -> None:
    await workspace.command("testpost", channel=ANNA_DM)
    await workspace.settle()
    [post] = workspace.dm()
    await workspace.click(post, "Done")
    await workspace.settle()
    [edited] = workspace.dm()
    assert edited["ts"] == post["ts"] and text_of(edited) == "Done ✔" and "edited" in edited


async def test_thread_replies_and_reactions_reach_the_handler(
    workspace: Workspace, heard: list[ThreadEvent]
) -> None:
    await workspace.event(
        {
            "type": "app_mention",
            "channel": SUPPORT,
            "user": ANNA,
            "text": f"<@{BOT_USER_ID}> testpost",
            "ts": "1700000001.000100",
        }
    )
    await workspace.settle()
    [post] = workspace.channel()
    thread = {
        "type": "message",
        "channel_type": "channel",
        "channel": SUPPORT,
        "user": BART,
        "text": "Goed verhaal!",
        "ts": "1700000009.000200",
        "thread_ts": post["ts"],
        "parent_user_id": BOT_USER_ID,
    }
    await workspace.event(thread)
    await workspace.event(
        {
            **thread,
            "text": "Not under our post",
            "parent_user_id": ANNA,
            "thread_ts": "1.1",
            "ts": "1700000009.000300",
        }
    )
    item = {"type": "message", "channel": SUPPORT, "ts": post["ts"]}
    await workspace.event(
        {
            "type": "reaction_added",
            "user": ANNA,
            "reaction": "heart",
            "item": item,
            "item_user": BOT_USER_ID,
            "event_ts": "1700000010.000100",
        }
    )
    await workspace.event(
        {
            "type": "reaction_removed",
            "user": ANNA,
            "reaction": "heart",
            "item": item,
            "item_user": BOT_USER_ID,
            "event_ts": "1700000011.000100",
        }
    )
    await workspace.settle()
    assert sorted((e.topic, e.text, e.emoji, e.added) for e in heard) == [
        ("testpost", "", "heart", False),
        ("testpost", "", "heart", True),
        ("testpost", "Goed verhaal!", "", True),
    ]


async def test_slack_gets_its_ack_while_the_work_is_still_going(workspace: Workspace) -> None:
    """The HTTP answer never waits for a handler: a handler that is still busy does not hold the ack."""
    release = asyncio.Event()
    started = asyncio.Event()

    @workspace.services.routes.command("testbusy")
    async def busy(ctx: Context, command: ParsedCommand) -> None:
        started.set()
        await release.wait()
        await ctx.reply("Finally done")

    began = time.monotonic()
    response = await workspace.command("testbusy", channel=ANNA_DM)
    elapsed = time.monotonic() - began
    assert response.status_code == 200 and elapsed < 1.5, f"acknowledged after {elapsed:.2f} s"
    await asyncio.wait_for(started.wait(), timeout=10)
    assert workspace.dm() == [], "the handler is still busy"
    release.set()
    await workspace.settle()
    assert [text_of(m) for m in workspace.dm()] == ["Finally done"]


async def test_a_long_choice_searches_as_the_person_types(workspace: Workspace) -> None:
    """More than 100 options: one select whose options come from our options URL, filtered as typed."""
    routes = workspace.services.routes
    picked: list[int] = []
    labels = [f"Vestiging {number:03d}" for number in range(150)]

    @routes.command("testbranch")
    async def branches(ctx: Context, command: ParsedCommand) -> None:
        options = tuple(Option(label=label, payload={"n": n}) for n, label in enumerate(labels))
        await ctx.reply(
            Message(blocks=(Choice(action="test.branch", label="Welke vestiging?", options=options),))
        )

    @routes.action("test.branch")
    async def branch(ctx: Context, click: Click) -> None:
        picked.append(int(click.value["n"]))
        await ctx.reply(f"Gekozen: {labels[picked[-1]]}")

    await workspace.command("testbranch", channel=ANNA_DM)
    await workspace.settle()
    [message] = workspace.dm()
    [select] = [e for b in message["blocks"] for e in b.get("elements", []) if e["type"] == "external_select"]

    async def typed(text: str) -> list[dict[str, Any]]:
        body = block_suggestion_body(
            select["action_id"], text, user_id=ANNA, channel_id=ANNA_DM, message_ts=message["ts"]
        )
        response = await workspace.post(body)
        assert response.status_code == 200
        return list(response.json()["options"])

    assert len(await typed("")) == 100, "a select shows at most 100 options"
    found = await typed("12")
    assert [option["text"]["text"] for option in found] == [label for label in labels if "12" in label]
    await workspace.post(
        block_actions_body(
            select["action_id"],
            user_id=ANNA,
            channel_id=ANNA_DM,
            message_ts=message["ts"],
            action={"type": "external_select", "selected_option": found[1]},
        )
    )
    await workspace.settle()
    assert picked == [112] and text_of(workspace.dm()[-1]) == "Gekozen: Vestiging 112"


async def test_a_mention_inside_a_thread_is_answered_in_that_thread(workspace: Workspace) -> None:
    thread = "1700000001.000100"
    await workspace.event(
        {
            "type": "app_mention",
            "channel": SUPPORT,
            "user": BART,
            "text": f"<@{BOT_USER_ID}> help",
            "ts": "1700000005.000100",
            "thread_ts": thread,
        }
    )
    await workspace.settle()
    [answer] = workspace.channel()
    assert answer["thread_ts"] == thread and t(workspace, "en", "help.intro") in text_of(answer)
