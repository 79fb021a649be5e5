"""Optional approval (``KLANTPET_SNIPPET_APPROVAL``): a CX manager approves a leader's snippet or sends it
back with a note. An approval always concerns the revision the reviewer saw."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.context import Context
from bot.errors import Conflict, InvalidInput, NotAllowed
from bot.messages import Button, Buttons, Divider, Form, Message, Text
from bot.messages import Field_ as Field
from bot.router import Click, Router, Submission
from handlers.leadership.cards import edit_and_cancel
from handlers.leadership.common import channel_list, cx_managers, local_time, who
from handlers.leadership.posting import post_as_seen, post_or_schedule
from storage.models import Member, Role
from storage.models.leadership import LeaderSnippet, SnippetStatus

router = Router()
MAX_NOTE = 1000


async def submit_for_review(ctx: Context, snippet: LeaderSnippet) -> str:
    """Ask the CX managers to approve ``snippet`` (status pending); returns the line for the leader."""
    reviewers = await cx_managers(ctx, besides=ctx.member.id)
    if not reviewers:
        raise Conflict("leadership.review.no_reviewer")
    snippet.status = SnippetStatus.pending.value
    snippet.updated_at = ctx.now()
    names = channel_list(ctx.settings.snippet_channels)
    payload = {"snippet": snippet.id, "revision": snippet.revision}
    for reviewer in reviewers:
        locale = ctx.locale_of(reviewer)
        when = (
            local_time(ctx, locale, snippet.post_at, ctx.timezone_of(reviewer))
            if snippet.post_at
            else ctx.t(locale, "leadership.review.asap")
        )
        intro = ctx.t(locale, "leadership.review.request", author=who(ctx.member), channels=names, when=when)
        post = await post_as_seen(ctx, snippet, ctx.member, locale)
        buttons = Buttons(
            buttons=(
                Button(
                    label=ctx.t(locale, "leadership.review.button_approve"),
                    action="leadership.review.approve",
                    payload=payload,
                    style="primary",
                ),
                Button(
                    label=ctx.t(locale, "leadership.review.button_reject"),
                    action="leadership.review.reject",
                    payload=payload,
                ),
            )
        )
        await ctx.dm(
            reviewer,
            Message(
                blocks=(Text(text=intro), Divider(), *post, Divider(), buttons),
                key="leadership.review.request",
            ),
            key=f"snippet-review:{snippet.id}:{snippet.revision}:{reviewer.id}",
        )
    await ctx.audit(ctx.member, "snippet.submit", f"snippet:{snippet.id}", revision=snippet.revision)
    return ctx.t("leadership.snippet.awaiting_approval", count=len(reviewers))


async def _pending(ctx: Context, value: Mapping[str, Any]) -> tuple[LeaderSnippet, Member]:
    snippet_id = value.get("snippet")
    snippet = await ctx.repo.leadership.snippet(int(snippet_id)) if isinstance(snippet_id, int) else None
    if (
        snippet is None
        or snippet.status != SnippetStatus.pending.value
        or snippet.revision != value.get("revision")
    ):
        raise Conflict("leadership.review.already_handled")
    if snippet.author_member_id == ctx.member.id:
        raise NotAllowed("leadership.review.own")
    author = await ctx.repo.members.get(snippet.author_member_id)
    if author is None:
        raise Conflict("leadership.review.already_handled")
    return snippet, author


@router.action("leadership.review.approve", role=Role.cx_manager)
async def approve(ctx: Context, click: Click) -> None:
    snippet, author = await _pending(ctx, click.value)
    snippet.reviewed_by_member_id = ctx.member.id
    snippet.reviewed_at = ctx.now()
    line = await post_or_schedule(ctx, snippet, author)
    locale = ctx.locale_of(author)
    await ctx.dm(
        author,
        Message.text(
            ctx.t(locale, "leadership.review.approved_notice", reviewer=ctx.member.name, outcome=line),
            key="leadership.review.approved_notice",
        ),
        key=f"snippet-approved:{snippet.id}:{snippet.revision}",
    )
    await ctx.audit(ctx.member, "snippet.approve", f"snippet:{snippet.id}", revision=snippet.revision)
    await ctx.update(click.message_ref, ctx.message("leadership.review.approved", author=author.name))


@router.action("leadership.review.reject", role=Role.cx_manager)
async def ask_reason(ctx: Context, click: Click) -> None:
    snippet, author = await _pending(ctx, click.value)
    form = Form(
        action="leadership.review.send_back",
        title=ctx.t("leadership.review.reason_title", author=author.name),
        submit_label=ctx.t("leadership.review.reason_submit"),
        payload={"snippet": snippet.id, "revision": snippet.revision},
        fields=(
            Field(
                name="reason", label=ctx.t("leadership.review.reason"), style="textarea", max_length=MAX_NOTE
            ),
        ),
    )
    await ctx.reply(Message(blocks=(form,), key="leadership.review.reason_title"), ephemeral=True)


@router.form("leadership.review.send_back", role=Role.cx_manager)
async def send_back(ctx: Context, submission: Submission) -> None:
    reason = submission.fields.get("reason", "").strip()
    if not reason:
        raise InvalidInput("error.field_required", field="reason")
    if len(reason) > MAX_NOTE:
        raise InvalidInput("error.field_too_long", field="reason", limit=MAX_NOTE)
    snippet, author = await _pending(ctx, submission.value)
    now = ctx.now()
    snippet.status = SnippetStatus.rejected.value
    snippet.review_note = reason
    snippet.reviewed_by_member_id = ctx.member.id
    snippet.reviewed_at = now
    snippet.updated_at = now
    locale = ctx.locale_of(author)
    await ctx.dm(
        author,
        Message(
            blocks=(
                Text(
                    text=ctx.t(
                        locale, "leadership.review.rejected_notice", reviewer=ctx.member.name, reason=reason
                    )
                ),
                Buttons(buttons=edit_and_cancel(ctx, locale, snippet)),
            ),
            key="leadership.review.rejected_notice",
        ),
        key=f"snippet-rejected:{snippet.id}:{snippet.revision}",
    )
    await ctx.audit(ctx.member, "snippet.reject", f"snippet:{snippet.id}", revision=snippet.revision)
    await ctx.update(submission.message_ref, ctx.message("leadership.review.sent_back", author=author.name))
