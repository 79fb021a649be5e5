"""Giving feedback: any time, by command, by form, or as plain DM text the bot asks about.

The giver chooses named, anonymous with replies, or anonymous without replies, and a category; the bot
confirms what happens next and by when. Named feedback is stored at once; anonymous feedback goes through
the relay (see `handlers.feedback_relay`), so nothing that names the giver is written next to it.
"""

from __future__ import annotations

import secrets

from bot.commands import ParsedCommand
from bot.context import Context, JobContext
from bot.errors import Conflict
from bot.messages import Button, Buttons, Field_, Form, Message, Text
from bot.router import Click, Router, Submission
from handlers import feedback_inbox
from handlers.core import help_message
from handlers.feedback_anonymity import hush
from handlers.feedback_common import (
    MAX_TEXT,
    category_label,
    clean_text,
    create_item,
    day_of,
    mode_label,
    parse_item_ref,
    seal,
    valid_category,
    valid_mode,
)
from handlers.feedback_relay import queue_item
from handlers.feedback_settings import answer_by, read_settings
from handlers.feedback_views import format_day
from storage.models.feedback import FeedbackCategory, FeedbackMode

router = Router()
MIN_WORDS_TO_ASK = 3


@router.command("feedback", help_key="feedback.help.give")
async def feedback(ctx: Context, command: ParsedCommand) -> None:
    args = command.args
    item_id = parse_item_ref(args[0]) if args else None
    if item_id is not None and (len(args) == 1 or feedback_inbox.verb(ctx, args[1]) is not None):
        await feedback_inbox.item_command(ctx, item_id, args[1:], command.rest)
        return
    if not command.rest.strip():
        await _privately(ctx, form_message(ctx))
        return
    await _privately(ctx, await how_message(ctx, clean_text(command.rest)))


async def _privately(ctx: Context, message: Message) -> None:
    """Feedback is a private matter: asked in a channel, the dialogue moves to a direct message."""
    if ctx.event.where.kind == "dm":
        await ctx.reply(message)
        return
    await ctx.dm(ctx.member, message, key=f"feedback.private:{ctx.event.platform}:{ctx.event.event_id}")
    await ctx.reply(ctx.message("feedback.moved_to_dm"), ephemeral=True)


@router.text()
async def maybe_feedback(ctx: Context, text: str) -> None:
    """Plain DM text that is no command: ask whether it is feedback rather than guess."""
    if len(text.split()) < MIN_WORDS_TO_ASK:
        await ctx.reply(help_message(ctx, unknown=text))
        return
    token = await _draft(ctx, clean_text(text))
    yes = Button(
        label=ctx.t("feedback.button.is_feedback"),
        action="feedback.is_feedback",
        payload={"draft": token, "yes": True},
        style="primary",
    )
    no = Button(
        label=ctx.t("feedback.button.not_feedback"),
        action="feedback.is_feedback",
        payload={"draft": token, "yes": False},
    )
    await ctx.reply(
        Message(
            blocks=(Text(text=ctx.t("feedback.ask_if_feedback")), Buttons(buttons=(yes, no))),
            key="feedback.ask_if_feedback",
        )
    )


@router.action("feedback.is_feedback")
async def is_feedback(ctx: Context, click: Click) -> None:
    token = str(click.value.get("draft", ""))
    if click.value.get("yes"):
        if not await ctx.repo.feedback.has_draft(token):
            raise Conflict("feedback.error.draft_gone")
        await ctx.update(click.message_ref, _how(ctx, token))
        return
    await ctx.repo.feedback.take_draft(token)
    await ctx.update(click.message_ref, ctx.message("feedback.not_feedback"))


async def _draft(ctx: Context, text: str) -> str:
    token = secrets.token_urlsafe(18)
    await ctx.repo.feedback.add_draft(token, seal(ctx).seal(text), day_of(ctx))
    return token


async def how_message(ctx: Context, text: str) -> Message:
    return _how(ctx, await _draft(ctx, text))


def _how(ctx: Context, token: str) -> Message:
    buttons = tuple(
        Button(
            label=ctx.t(f"feedback.button.{mode.value}"),
            action="feedback.mode",
            payload={"draft": token, "mode": mode.value},
            style="primary" if mode is FeedbackMode.named else "default",
        )
        for mode in FeedbackMode
    )
    return Message(
        blocks=(Text(text=ctx.t("feedback.ask_how")), Buttons(buttons=buttons)), key="feedback.ask_how"
    )


@router.action("feedback.mode")
async def chose_mode(ctx: Context, click: Click) -> None:
    token = str(click.value.get("draft", ""))
    mode = valid_mode(str(click.value.get("mode", "")))
    if not await ctx.repo.feedback.has_draft(token):
        raise Conflict("feedback.error.draft_gone")
    buttons = tuple(
        Button(
            label=category_label(ctx, ctx.locale, category.value),
            action="feedback.category",
            payload={"draft": token, "mode": mode.value, "category": category.value},
        )
        for category in FeedbackCategory
    )
    text = ctx.t("feedback.ask_category", mode_label=mode_label(ctx, ctx.locale, mode.value))
    await ctx.update(
        click.message_ref,
        Message(blocks=(Text(text=text), Buttons(buttons=buttons)), key="feedback.ask_category"),
    )
    if mode.anonymous_kind:
        await hush(ctx, click.message_ref)


@router.action("feedback.category")
async def chose_category(ctx: Context, click: Click) -> None:
    mode = valid_mode(str(click.value.get("mode", "")))
    category = valid_category(str(click.value.get("category", "")))
    sealed = await ctx.repo.feedback.take_draft(str(click.value.get("draft", "")))
    if sealed is None:
        raise Conflict("feedback.error.draft_gone")
    confirmation = await give(ctx, seal(ctx).open(sealed), mode, category)
    await ctx.update(click.message_ref, confirmation)
    if mode.anonymous_kind:
        await hush(ctx, click.message_ref)


def form_message(ctx: Context) -> Message:
    return Message(
        blocks=(
            Form(
                action="feedback.form",
                title=ctx.t("feedback.form.title"),
                fields=(
                    Field_(
                        name="text", label=ctx.t("feedback.form.text"), style="textarea", max_length=MAX_TEXT
                    ),
                    Field_(
                        name="mode",
                        label=ctx.t("feedback.form.mode"),
                        style="select",
                        options=tuple(
                            (mode.value, ctx.t(f"feedback.button.{mode.value}")) for mode in FeedbackMode
                        ),
                        value=FeedbackMode.named.value,
                    ),
                    Field_(
                        name="category",
                        label=ctx.t("feedback.form.category"),
                        style="select",
                        options=tuple(
                            (category.value, category_label(ctx, ctx.locale, category.value))
                            for category in FeedbackCategory
                        ),
                        value=FeedbackCategory.other.value,
                    ),
                ),
                submit_label=ctx.t("feedback.form.submit"),
            ),
        ),
        key="feedback.form.title",
    )


@router.action("feedback.form")
async def submitted(ctx: Context, submission: Submission) -> None:
    text = clean_text(submission.fields.get("text", ""), field="text")
    mode = valid_mode(submission.fields.get("mode", ""))
    category = valid_category(submission.fields.get("category", ""))
    await ctx.update(submission.message_ref, await give(ctx, text, mode, category))
    if mode.anonymous_kind:
        await hush(ctx, submission.message_ref)


async def give(ctx: Context, text: str, mode: FeedbackMode, category: str) -> Message:
    """Take the feedback in and say what happens next, and by when (the caller shows it, and hushes the
    dialogue's outbox rows when the giver chose to be anonymous)."""
    settings = await read_settings(ctx)
    due = format_day(ctx, ctx.locale, answer_by(ctx, settings, ctx.now()))
    common = {
        "days": settings.sla_days,
        "due": due,
        "category_label": category_label(ctx, ctx.locale, category),
    }
    if mode is FeedbackMode.named:
        item = await create_item(
            ctx, text=text, category=category, mode=mode, source="chat", giver=ctx.member
        )
        await ctx.audit(ctx.member, "feedback.give", f"feedback:{item.id}")
        return ctx.message("feedback.thanks.named", id=item.id, **common)
    blob = seal(ctx).seal_giver(ctx.member.id) if mode is FeedbackMode.anonymous else None
    await queue_item(ctx, text, category, mode, source="chat", blob=blob)
    return ctx.message(f"feedback.thanks.{mode.value}", **common)


async def add_anonymous_item(
    ctx: JobContext, text: str, category: str = "other", source: str = "pulse"
) -> None:
    """Put an anonymous item without replies in the inbox (e.g. an open pulse answer).

    Raises `InvalidInput` for empty or oversized text or an unknown category. The item is queued and
    appears in the inbox at the relay's next run (within minutes), in shuffled order with other arrivals,
    so it is never written in the caller's transaction next to rows that might name its author.
    """
    text = clean_text(text)
    category = valid_category(category)
    await queue_item(ctx, text, category, FeedbackMode.anonymous_no_replies, source=source[:20])
