"""Keeping time out of anonymous feedback: outbox rows and audit entries that keep only the day.

A dump must not match an anonymous giver's dialogue with the bot to the item it created by their times. So
everything in that dialogue, and every notice about an anonymous item, keeps only the day and is forgotten
once sent; audit entries about anonymous items keep only the day.
"""

from __future__ import annotations

from typing import Any

from bot.context import Context, JobContext
from handlers.feedback_common import QUIET_TOPIC, RELAY_TOPIC, day_of
from storage.models import Member
from storage.models.feedback import FeedbackItem


async def hush(ctx: JobContext, message_ref: str | None = None) -> None:
    """Keep only the day on the outbox rows of this event (its replies), of the message ``message_ref`` (the
    card the member clicked, with its edits), and forget them once sent.

    For everything in an anonymous giver's dialogue with the bot, and every notice about an anonymous item:
    such rows must not tell when they were written, so they cannot be matched by time with one another.
    """
    event_prefix = None
    platform = None
    if isinstance(ctx, Context):
        platform = ctx.event.platform
        event_prefix = f"in:{ctx.event.platform}:{ctx.event.event_id}:"
    await ctx.repo.feedback.hush_deliveries(
        day=day_of(ctx),
        now=ctx.now(),
        topic=QUIET_TOPIC,
        spare_topic=RELAY_TOPIC,
        key_prefix=event_prefix,
        platform=platform,
        message_ref=message_ref,
    )


async def audit_item(
    ctx: JobContext,
    actor: Member,
    action: str,
    about: list[FeedbackItem],
    subject: str | None = None,
    **detail: Any,
) -> None:
    """An audit entry ``about`` these items (subject: the first, unless given). It keeps the day only when
    one is anonymous, so the audit log cannot be matched by time with what the giver did or received."""
    anonymous = any(item.kind.anonymous_kind for item in about)
    await ctx.repo.audit.record(
        actor.id,
        action,
        subject or f"feedback:{about[0].id}",
        at=day_of(ctx) if anonymous else ctx.now(),
        **detail,
    )
