"""The "you said, we did" updates: when a theme becomes planned or done, its owner (or a manager) writes one.

The bot sends it to the giver of every item in the theme (named ones directly and once each, anonymous ones
through the relay, which counts each giver once) and can post a public summary in a channel.
"""

from __future__ import annotations

from bot.context import Context
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.messages import Field_, Form, Message
from bot.router import Click, Router, Submission
from handlers.feedback_common import (
    MAX_TEXT,
    anonymous_delay,
    clean_text,
    is_manager,
    mark_answered,
    stamp,
    status_label,
)
from handlers.feedback_relay import to_giver
from handlers.feedback_settings import read_settings
from storage.models import Channel
from storage.models.feedback import FeedbackMode, FeedbackStatus, FeedbackTheme

router = Router()
UPDATE_STATUSES = (FeedbackStatus.planned, FeedbackStatus.done)


async def theme_for(ctx: Context, theme_id: int) -> FeedbackTheme:
    """The theme, if the member may work on it (a CX manager, or its owner); otherwise as if it did not exist."""
    theme = await ctx.repo.feedback.theme(theme_id)
    if theme is None or not (is_manager(ctx.member) or theme.owner_member_id == ctx.member.id):
        raise NotFound("feedback.error.theme_not_found", id=theme_id)
    return theme


@router.action("feedback.theme.update")
async def update_form(ctx: Context, click: Click) -> None:
    theme = await theme_for(ctx, int(str(click.value.get("theme"))))
    status = str(click.value.get("status"))
    settings = await read_settings(ctx)
    channels = await ctx.repo.channels.all()
    options = (
        ("", ctx.t("feedback.update_form.no_channel")),
        *tuple((str(c.id), f"#{c.name}") for c in channels),
    )
    await ctx.reply(
        Message(
            blocks=(
                Form(
                    action="feedback.theme.publish",
                    title=ctx.t(
                        "feedback.update_form.title",
                        title=theme.title,
                        status_label=status_label(ctx, ctx.locale, status),
                    ),
                    fields=(
                        Field_(
                            name="text",
                            label=ctx.t("feedback.update_form.text"),
                            style="textarea",
                            max_length=MAX_TEXT,
                        ),
                        Field_(
                            name="channel",
                            label=ctx.t("feedback.update_form.channel"),
                            style="select",
                            required=False,
                            options=options,
                            value=str(settings.channel_id) if settings.channel_id else "",
                        ),
                    ),
                    submit_label=ctx.t("feedback.update_form.submit"),
                    payload={"theme": theme.id, "status": status},
                ),
            ),
            key="feedback.update_form.title",
        )
    )


@router.action("feedback.theme.publish")
async def update_sent(ctx: Context, submission: Submission) -> None:
    theme = await theme_for(ctx, int(str(submission.value.get("theme"))))
    channel_id = submission.fields.get("channel", "")
    channel = await ctx.repo.channels.get(int(channel_id)) if channel_id.isdigit() else None
    await publish(
        ctx,
        theme,
        FeedbackStatus(str(submission.value.get("status"))),
        submission.fields.get("text", ""),
        channel,
    )


async def publish(
    ctx: Context, theme: FeedbackTheme, status: FeedbackStatus, text: str, channel: Channel | None
) -> None:
    """Set the theme (and its items) to planned or done and send the update to every contributor."""
    if not (is_manager(ctx.member) or theme.owner_member_id == ctx.member.id):
        raise NotAllowed("feedback.error.not_staff")
    if status not in UPDATE_STATUSES:
        raise InvalidInput("error.expired_action")
    text = clean_text(text, field="text")
    items = await ctx.repo.feedback.inbox([s.value for s in FeedbackStatus], theme_id=theme.id, limit=10_000)
    if not items:
        raise Conflict("feedback.error.theme_empty", id=theme.id)
    theme.status = status.value
    theme.updated_at = ctx.now()
    update = await ctx.repo.feedback.add_update(
        theme,
        status=status.value,
        text=text,
        author_member_id=ctx.member.id,
        channel_id=channel.id if channel else None,
        now=ctx.now(),
    )
    named_reached: set[int] = set()
    relayed = unreachable = 0
    params = {"title": theme.title, "text": text, "author": ctx.member.name, "status": status.value}
    due = ctx.now() + anonymous_delay()  # one moment for the whole update, so each giver hears it once
    for item in items:
        keeps = item.status == FeedbackStatus.wont_do.value or (
            status is FeedbackStatus.planned and item.state.closed
        )
        if not keeps:
            at = stamp(ctx, item)
            item.status = status.value
            item.status_changed_at = at
            item.closed_at = at if status.closed else None
            mark_answered(item, at)
        if item.kind is FeedbackMode.named:
            if item.giver_member_id in named_reached:
                continue
            if await to_giver(ctx, item, "feedback.giver.update", params):
                named_reached.add(item.giver_member_id or 0)
            else:
                unreachable += 1
        elif await to_giver(
            ctx, item, "feedback.giver.update", params, dedupe=f"update:{update.id}", due=due
        ):
            relayed += 1
        else:
            unreachable += 1
    # Givers reached: the named ones now; the relay adds each anonymous giver once when it delivers.
    update.contributors = len(named_reached)
    update.unreachable = unreachable
    if channel is not None:
        summary = ctx.t(
            ctx.locale_of(channel=channel),
            "feedback.update_public",
            title=theme.title,
            text=text,
            count=len(items),
            author=ctx.member.name,
            status=status.value,
        )
        await ctx.post(
            channel,
            Message.text(summary, key="feedback.update_public"),
            key=f"feedback.update:{update.id}:channel",
        )
    await ctx.audit(ctx.member, "feedback.update", f"feedback_theme:{theme.id}", status=status.value)
    await ctx.reply(
        ctx.message(
            "feedback.update_sent",
            named=len(named_reached),
            relayed=relayed,
            unreachable=unreachable,
            channel=channel.name if channel else None,
        )
    )
