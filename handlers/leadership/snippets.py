"""A leader writes a snippet (blog text and/or vlog link, perhaps about a customer story), sees the exact
preview, and sends, schedules, edits or cancels it. With ``KLANTPET_SNIPPET_APPROVAL`` on, sending goes to a
CX manager first. Only leaders (not admins by being admins) write snippets."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from bot.commands import ParsedCommand
from bot.context import Context
from bot.errors import Conflict, NotFound
from bot.messages import Block, Button, Buttons, Divider, Message, Text
from bot.messages import Context as Footer
from bot.router import Click, Router, Submission
from handlers.leadership import review
from handlers.leadership.cards import edit_and_cancel, schedule_form, snippet_form
from handlers.leadership.common import channel_list, local_time, require_leader, stop_schedule
from handlers.leadership.posting import (
    company_channels,
    post_as_seen,
    post_or_schedule,
    schedule_ref,
    schedule_snippet,
)
from handlers.leadership.snippet_input import (
    SnippetInput,
    from_command,
    posting_time,
    suggested_time,
    validated,
)
from handlers.leadership.snippet_story import linked_story, story_reference
from storage.models import Role
from storage.models.leadership import LeaderSnippet, SnippetStatus

router = Router()
DRAFT = {SnippetStatus.draft}
CHANGEABLE = {SnippetStatus.draft, SnippetStatus.pending, SnippetStatus.scheduled, SnippetStatus.rejected}


@router.command("snippet", role=Role.leader, help_key="leadership.help.snippet")
async def snippet_command(ctx: Context, command: ParsedCommand) -> None:
    """``snippet`` alone opens the form; ``snippet <text>`` (or a video link first) goes to the preview."""
    require_leader(ctx)
    if not command.rest.strip():
        await ctx.reply(snippet_form(ctx, ctx.locale), ephemeral=True)
        return
    await _create(ctx, from_command(command.rest), contact_id=None)


@router.action("leadership.snippet.open_form", role=Role.leader)
async def open_form(ctx: Context, click: Click) -> None:
    require_leader(ctx)
    contact_id = await _own_contact(ctx, click.value.get("contact"))
    await ctx.reply(snippet_form(ctx, ctx.locale, contact_id=contact_id), ephemeral=True)


@router.form("leadership.snippet.submit", role=Role.leader)
async def submit_form(ctx: Context, submission: Submission) -> None:
    require_leader(ctx)
    fields = submission.fields
    entered = validated(fields.get("text", ""), fields.get("video", ""), fields.get("story", ""))
    if "snippet" not in submission.value:
        contact_id = await _own_contact(ctx, submission.value.get("contact"))
        await _create(ctx, entered, contact_id=contact_id)
        return
    snippet = await _own(ctx, submission.value, CHANGEABLE)
    story_id = await linked_story(ctx, entered.story_ref, ctx.locale)
    snippet.text, snippet.video_url, snippet.story_id = entered.text, entered.video_url, story_id
    snippet.revision += 1
    snippet.status = SnippetStatus.draft.value
    snippet.post_at = None
    snippet.updated_at = ctx.now()
    await stop_schedule(ctx, "snippet.post", schedule_ref(snippet))
    await ctx.reply(await _preview(ctx, snippet), ephemeral=True)


async def _create(ctx: Context, entered: SnippetInput, contact_id: int | None) -> None:
    await company_channels(ctx)  # no company channel: say so before the leader writes more
    story_id = await linked_story(ctx, entered.story_ref, ctx.locale)
    snippet = await ctx.repo.leadership.create_snippet(
        ctx.member.id,
        text=entered.text,
        video_url=entered.video_url,
        story_id=story_id,
        contact_id=contact_id,
        now=ctx.now(),
    )
    await ctx.reply(await _preview(ctx, snippet), ephemeral=True)


async def _own_contact(ctx: Context, value: Any) -> int | None:
    if value is None:
        return None
    contact = await ctx.repo.leadership.contact(int(value))
    return contact.id if contact is not None and contact.member_id == ctx.member.id else None


async def _own(
    ctx: Context, value: Mapping[str, Any], allowed: Collection[SnippetStatus], *, revision: bool = False
) -> LeaderSnippet:
    """The acting leader's snippet named in a button's payload, in one of the ``allowed`` states."""
    snippet_id = value.get("snippet")
    snippet = await ctx.repo.leadership.snippet(int(snippet_id)) if isinstance(snippet_id, int) else None
    if snippet is None or snippet.author_member_id != ctx.member.id:
        raise NotFound("leadership.snippet.not_found")
    if snippet.status not in {status.value for status in allowed}:
        raise Conflict(
            "leadership.snippet.not_changeable", status=ctx.t(f"leadership.status.{snippet.status}")
        )
    if revision and value.get("revision") != snippet.revision:
        raise Conflict("leadership.snippet.outdated")
    return snippet


def _payload(snippet: LeaderSnippet) -> dict[str, int]:
    return {"snippet": snippet.id, "revision": snippet.revision}


async def _preview(ctx: Context, snippet: LeaderSnippet) -> Message:
    """Exactly what will be posted (in each language of the company channels), with Send now / Schedule /
    Edit / Cancel."""
    names = channel_list(ctx.settings.snippet_channels)
    blocks: list[Block] = [
        Text(text=ctx.t("leadership.preview.intro", channels=names)),
        Divider(),
        *await post_as_seen(ctx, snippet, ctx.member, ctx.locale),
        Divider(),
    ]
    if ctx.settings.snippet_approval:
        blocks.append(Footer(text=ctx.t("leadership.preview.approval")))
    payload = _payload(snippet)
    send = Button(
        label=ctx.t("leadership.button_send"),
        action="leadership.snippet.send",
        payload=payload,
        style="primary",
    )
    schedule = Button(
        label=ctx.t("leadership.button_schedule"), action="leadership.snippet.schedule", payload=payload
    )
    blocks.append(Buttons(buttons=(send, schedule, *edit_and_cancel(ctx, ctx.locale, snippet))))
    return Message(blocks=tuple(blocks), key="leadership.preview.intro")


async def status_card(ctx: Context, snippet: LeaderSnippet, line: str, key: str) -> Message:
    """A line on where the snippet stands, the snippet itself, and Edit / Cancel while it is not out yet."""
    blocks: list[Block] = [
        Text(text=line),
        Divider(),
        *await post_as_seen(ctx, snippet, ctx.member, ctx.locale),
    ]
    if snippet.status in (SnippetStatus.pending.value, SnippetStatus.scheduled.value):
        blocks.append(Buttons(buttons=edit_and_cancel(ctx, ctx.locale, snippet)))
    return Message(blocks=tuple(blocks), key=key)


async def _send_on(ctx: Context, snippet: LeaderSnippet) -> tuple[str, str]:
    """To review when approval is on, else out (now or at the chosen time); (line, prompt key)."""
    if ctx.settings.snippet_approval:
        return await review.submit_for_review(ctx, snippet), "leadership.snippet.awaiting_approval"
    line = await post_or_schedule(ctx, snippet, ctx.member)
    return (
        line,
        "leadership.snippet.scheduled"
        if snippet.status == SnippetStatus.scheduled
        else "leadership.snippet.posted",
    )


@router.action("leadership.snippet.send", role=Role.leader)
async def send_now(ctx: Context, click: Click) -> None:
    require_leader(ctx)
    snippet = await _own(ctx, click.value, DRAFT, revision=True)
    snippet.post_at = None
    line, key = await _send_on(ctx, snippet)
    await ctx.update(click.message_ref, await status_card(ctx, snippet, line, key))


@router.action("leadership.snippet.schedule", role=Role.leader)
async def ask_time(ctx: Context, click: Click) -> None:
    require_leader(ctx)
    snippet = await _own(ctx, click.value, DRAFT, revision=True)
    zone = ctx.timezone_of(ctx.member)
    await ctx.reply(
        schedule_form(ctx, ctx.locale, snippet, suggested_time(ctx.now(), zone), zone), ephemeral=True
    )


@router.form("leadership.snippet.schedule_at", role=Role.leader)
async def schedule_at(ctx: Context, submission: Submission) -> None:
    require_leader(ctx)
    snippet = await _own(ctx, submission.value, DRAFT, revision=True)
    zone = ctx.timezone_of(ctx.member)
    when = posting_time(submission.fields.get("date", ""), submission.fields.get("time", ""), zone, ctx.now())
    snippet.post_at = when
    if ctx.settings.snippet_approval:
        line, key = await review.submit_for_review(ctx, snippet), "leadership.snippet.awaiting_approval"
    else:
        await schedule_snippet(ctx, snippet, when, zone)
        names = channel_list(ctx.settings.snippet_channels)
        line = ctx.t(
            "leadership.snippet.scheduled", channels=names, when=local_time(ctx, ctx.locale, when, zone)
        )
        key = "leadership.snippet.scheduled"
    await ctx.update(submission.message_ref, await status_card(ctx, snippet, line, key))


@router.action("leadership.snippet.edit", role=Role.leader)
async def edit(ctx: Context, click: Click) -> None:
    require_leader(ctx)
    snippet = await _own(ctx, click.value, CHANGEABLE)
    story = await story_reference(ctx, snippet.story_id)
    await ctx.reply(snippet_form(ctx, ctx.locale, snippet=snippet, story=story), ephemeral=True)


@router.action("leadership.snippet.cancel", role=Role.leader)
async def cancel(ctx: Context, click: Click) -> None:
    require_leader(ctx)
    snippet = await _own(ctx, click.value, CHANGEABLE)
    snippet.status = SnippetStatus.cancelled.value
    snippet.updated_at = ctx.now()
    await stop_schedule(ctx, "snippet.post", schedule_ref(snippet))
    await ctx.update(click.message_ref, ctx.message("leadership.snippet.cancelled"))
