"""Slack modals: a form opens as a modal, a refusal stays in the modal, the answers reach the DM once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.commands import ParsedCommand
from bot.context import Context
from bot.errors import InvalidInput
from bot.markup import to_slack
from bot.messages import Field_, Form, Message
from bot.router import Submission
from storage.models import Role
from storage.models.stories import Story
from tests.fakes.slack_api import block_actions_body
from tests.platforms.conftest import ANNA, ANNA_DM, Workspace, button, text_of


def t(workspace: Workspace, locale: str, key: str, **params: object) -> str:
    return workspace.services.catalog.t(locale, key, organisation="Testbedrijf", **params)


@pytest.fixture
def test_form(workspace: Workspace) -> None:
    """A small feature: a form whose submission answers twice (the thanks, and the message it came from)."""
    routes = workspace.services.routes

    @routes.command("testform")
    async def form(ctx: Context, command: ParsedCommand) -> None:
        fields = (
            Field_(name="name", label="Your name"),
            Field_(name="story", label="What happened?", style="textarea", required=False),
        )
        await ctx.reply(
            Message(blocks=(Form(action="test.form", title="Tell us", fields=fields, submit_label="Send"),))
        )

    @routes.action("test.form")
    async def submitted(ctx: Context, submission: Submission) -> None:
        name = submission.fields.get("name", "").strip()
        if not name:
            raise InvalidInput("error.field_required", field="name")
        await ctx.update(submission.message_ref, "Sent ✔")
        await ctx.reply(f"Thanks, {name}")

    @routes.command("testslow")
    async def slow_form(ctx: Context, command: ParsedCommand) -> None:
        fields = (Field_(name="note", label="Note"),)
        await ctx.reply(
            Message(blocks=(Form(action="test.slow", title="Slow", fields=fields, submit_label="Send"),))
        )

    @routes.action("test.slow")
    async def slow(ctx: Context, submission: Submission) -> None:
        await asyncio.sleep(3.5)  # longer than Slack waits for an acknowledgement
        await ctx.reply("Noted, slowly")


async def open_modal(workspace: Workspace, message: dict[str, Any], label: str) -> dict[str, Any]:
    """Click the form's button on ``message`` and return the modal Slack opened."""
    before = set(workspace.fake.views)
    await workspace.click(message, label)
    await workspace.settle()
    [opened] = [view for key, view in workspace.fake.views.items() if key not in before]
    return opened


async def settle_retries(workspace: Workspace, rounds: int = 5) -> None:
    """Let the outbox run its retries: each round a little more than Slack's one-second Retry-After."""
    await workspace.settle()
    for _ in range(rounds):
        await workspace.settle(later=1.5)


async def test_a_refused_field_is_shown_in_the_modal_and_not_in_the_dm(
    workspace: Workspace, test_form: None
) -> None:
    await workspace.command("testform", channel=ANNA_DM)
    await workspace.settle()
    [message] = workspace.dm()
    view = await open_modal(workspace, message, "Tell us")
    assert [block["block_id"] for block in view["blocks"]] == ["name", "story"]
    assert view["blocks"][1]["element"]["multiline"] is True and view["blocks"][1]["optional"] is True

    refused = await workspace.submit(view, {"name": " "})
    assert refused.json() == {
        "response_action": "errors",
        "errors": {"name": t(workspace, "nl", "error.field_required")},
    }
    await settle_retries(workspace, rounds=2)
    assert workspace.dm() == [message], "the refusal is shown in the modal, not repeated in the DM"

    accepted = await workspace.submit(view, {"name": "Anna", "story": "Een klant belde twee keer."})
    assert accepted.status_code == 200 and accepted.content == b""
    await settle_retries(workspace, rounds=2)
    first, thanks = workspace.dm()
    assert text_of(first) == "Sent ✔" and text_of(thanks) == "Thanks, Anna"


async def test_a_story_form_shown_again_with_errors_keeps_the_modal_open(workspace: Workspace) -> None:
    await workspace.command("help", channel=ANNA_DM)
    await workspace.settle()
    await workspace.grant(Role.cx_manager)
    await workspace.command("stories add", channel=ANNA_DM)
    await workspace.settle()
    form_message = workspace.dm()[-1]
    view = await open_modal(workspace, form_message, t(workspace, "nl", "stories.form.add_title"))
    story = {"title": "Twee keer gebeld", "story": "Een klant belde twee keer.", "locale": "nl"}

    refused = await workspace.submit(view, {**story, "image_url": "www.klant.nl/foto.jpg"})
    assert refused.json() == {
        "response_action": "errors",
        "errors": {"image_url": t(workspace, "nl", "stories.form.bad_link")},
    }
    await settle_retries(workspace, rounds=2)
    assert workspace.dm()[-1] == form_message, "the form message is neither edited nor repeated"
    assert await stories(workspace) == 0

    accepted = await workspace.submit(view, {**story, "image_url": "https://klant.nl/foto.jpg"})
    assert accepted.content == b""
    await settle_retries(workspace, rounds=2)
    saved = workspace.dm()[-1]
    assert saved["ts"] == form_message["ts"] and "edited" in saved
    assert to_slack(t(workspace, "nl", "stories.form.saved")) in text_of(saved)
    assert await stories(workspace) == 1


async def test_replies_to_a_submission_arrive_after_a_429(workspace: Workspace, test_form: None) -> None:
    await workspace.command("testform", channel=ANNA_DM)
    await workspace.settle()
    view = await open_modal(workspace, workspace.dm()[0], "Tell us")
    workspace.fake.fail_next("chat.postMessage", kind="429")
    workspace.fake.fail_next("chat.update", kind="500")
    await workspace.submit(view, {"name": "Anna"})
    await settle_retries(workspace)
    assert [text_of(message) for message in workspace.dm()] == ["Sent ✔", "Thanks, Anna"]
    assert workspace.fake.faults == {"429": 1, "500": 1}


async def test_a_form_opened_from_the_home_answers_with_every_reply(
    workspace: Workspace, test_form: None
) -> None:
    await workspace.command("testform", channel=ANNA_DM)
    await workspace.settle()
    await workspace.event({"type": "app_home_opened", "user": ANNA, "channel": ANNA_DM, "tab": "home"})
    await workspace.settle()
    home = workspace.fake.home_views[ANNA]
    opener = button(home["blocks"], "Tell us")
    before = set(workspace.fake.views)
    await workspace.post(
        block_actions_body(
            opener["action_id"], opener["value"], user_id=ANNA, view={"id": home["id"], "type": "home"}
        )
    )
    await workspace.settle()
    [view] = [view for key, view in workspace.fake.views.items() if key not in before]
    await workspace.submit(view, {"name": "Anna"})
    await settle_retries(workspace, rounds=2)
    texts = [text_of(message) for message in workspace.dm()]
    assert texts[-2:] == ["Sent ✔", "Thanks, Anna"], "both answers arrive, as new messages"


async def test_a_slow_form_is_acknowledged_in_time_and_answered_in_the_dm(
    workspace: Workspace, test_form: None
) -> None:
    await workspace.command("testslow", channel=ANNA_DM)
    await workspace.settle()
    view = await open_modal(workspace, workspace.dm()[0], "Slow")
    started = time.monotonic()
    response = await workspace.submit(view, {"note": "hallo"})
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and response.content == b"", "the modal closes"
    assert elapsed < 2.5, f"Slack waits 3 s; the acknowledgement took {elapsed:.2f} s"
    await settle_retries(workspace, rounds=2)
    assert text_of(workspace.dm()[-1]) == "Noted, slowly"


async def test_a_modal_opened_too_late_is_not_opened(workspace: Workspace, test_form: None) -> None:
    """Slack's trigger ids live 3 s; the fake refuses an expired one like Slack, and nothing breaks."""
    await workspace.command("testform", channel=ANNA_DM)
    await workspace.settle()
    [message] = workspace.dm()
    opener = button(message["blocks"], "Tell us")
    await workspace.post(
        block_actions_body(
            opener["action_id"],
            opener["value"],
            user_id=ANNA,
            channel_id=message["channel"],
            message_ts=message["ts"],
            trigger_id=f"{int(time.time()) - 10}.1.0123456789abcdef0123456789abcdef",
        )
    )
    await workspace.settle()
    [call] = workspace.fake.calls_to("views.open")
    assert call.error == "expired_trigger_id" and workspace.fake.views == {}


async def stories(workspace: Workspace, title: str = "Twee keer gebeld") -> int:
    async with workspace.services.database.transaction() as session:
        found = select(func.count()).select_from(Story).where(Story.title == title)
        return int(await session.scalar(found) or 0)
