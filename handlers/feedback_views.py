"""How feedback looks in chat: an item with its thread, inbox lines, dates in the reader's language."""

from __future__ import annotations

from datetime import date

from bot.context import Context, JobContext
from bot.messages import Button, Buttons, Message, Quote, Text
from handlers.feedback_common import (
    category_label,
    giver_label,
    is_manager,
    is_staff,
    item_payload,
    mode_label,
    seal,
    snippet,
    status_label,
)
from handlers.feedback_settings import local_date, working_days_between
from storage.models.feedback import FeedbackItem, FeedbackMode, FeedbackStatus


def format_day(ctx: JobContext, locale: str, day: date) -> str:
    """``vrijdag 28 november`` / ``Friday 28 November``."""
    catalog = ctx.services.catalog
    weekday = catalog.choices(locale, "feedback.calendar.days")[day.weekday()]
    month = catalog.choices(locale, "feedback.calendar.months")[day.month - 1]
    return ctx.t(locale, "feedback.calendar.date", weekday=weekday, day=day.day, month=month)


def age_days(ctx: JobContext, item: FeedbackItem) -> int:
    return (local_date(ctx, ctx.now()) - local_date(ctx, item.created_at)).days


async def inbox_line(ctx: Context, item: FeedbackItem) -> str:
    owner = await ctx.repo.members.get(item.owner_member_id) if item.owner_member_id else None
    waiting = (
        working_days_between(local_date(ctx, item.waiting_since), local_date(ctx, ctx.now()))
        if item.waiting_since is not None
        else None
    )
    return ctx.t(
        "feedback.inbox.line",
        id=item.id,
        status_label=status_label(ctx, ctx.locale, item.status),
        category_label=category_label(ctx, ctx.locale, item.category),
        mode_label=mode_label(ctx, ctx.locale, item.mode),
        age=age_days(ctx, item),
        waiting=waiting,
        owner=owner.name if owner else None,
        theme=item.theme_id,
        snippet=snippet(seal(ctx).open(item.text_sealed), 70),
    )


async def item_message(ctx: Context, item: FeedbackItem) -> Message:
    """The item as its viewer may see it: the text, its state and thread; staff get the triage buttons."""
    sealer = seal(ctx)
    repo = ctx.repo
    giver = await repo.members.get(item.giver_member_id) if item.giver_member_id else None
    owner = await repo.members.get(item.owner_member_id) if item.owner_member_id else None
    theme = await repo.feedback.theme(item.theme_id) if item.theme_id else None
    header = ctx.t(
        "feedback.item.header",
        id=item.id,
        status_label=status_label(ctx, ctx.locale, item.status),
        category_label=category_label(ctx, ctx.locale, item.category),
        giver=giver_label(ctx, ctx.locale, item, giver),
        age=age_days(ctx, item),
        owner=owner.name if owner else None,
        theme=f"#{theme.id} {theme.title}" if theme else None,
        source=item.source,
    )
    blocks: list[Text | Quote | Buttons] = [Text(text=header), Quote(text=sealer.open(item.text_sealed))]
    if item.reason_sealed:
        blocks.append(Text(text=ctx.t("feedback.item.reason", reason=sealer.open(item.reason_sealed))))
    lines = []
    for message in await repo.feedback.thread(item.id):
        if message.author == "giver":
            who = giver.name if giver else ctx.t("feedback.item.anonymous_giver")
        else:
            author = await repo.members.get(message.author_member_id) if message.author_member_id else None
            who = author.name if author else "?"
        lines.append(ctx.t("feedback.item.thread_line", who=who, text=sealer.open(message.text_sealed)))
    if lines:
        blocks.append(Text(text=ctx.t("feedback.item.thread") + "\n" + "\n".join(lines)))
    if is_staff(ctx.member, item):
        blocks.append(Buttons(buttons=_staff_buttons(ctx, item)))
    elif item.giver_member_id == ctx.member.id:
        blocks.append(
            Buttons(
                buttons=(
                    Button(
                        label=ctx.t("feedback.button.answer"),
                        action="feedback.answer",
                        payload={"handle": sealer.handle(item.id)},
                    ),
                )
            )
        )
    return Message(blocks=tuple(blocks), key="feedback.item.header")


def _staff_buttons(ctx: Context, item: FeedbackItem) -> tuple[Button, ...]:
    buttons: list[Button] = []
    if item.kind is not FeedbackMode.anonymous_no_replies:
        buttons.append(
            Button(
                label=ctx.t("feedback.button.reply"),
                action="feedback.reply",
                payload=item_payload(ctx, item),
                style="primary",
            )
        )
    for status in FeedbackStatus:
        if status is FeedbackStatus.new or status.value == item.status:
            continue
        buttons.append(
            Button(
                label=ctx.t(f"feedback.button.status.{status.value}"),
                action="feedback.status",
                payload={**item_payload(ctx, item), "status": status.value},
                style="danger" if status is FeedbackStatus.wont_do else "default",
            )
        )
    if item.owner_member_id != ctx.member.id and is_manager(ctx.member):
        buttons.append(
            Button(
                label=ctx.t("feedback.button.take"), action="feedback.take", payload=item_payload(ctx, item)
            )
        )
    return tuple(buttons)
