"""Speed and the monthly digest: the daily ``feedback.sla`` check and the ``feedback.digest`` schedule.

An item whose giver has waited N working days (default 5) reminds its owner; if it waits the escalation
days more (default 2), every CX manager hears. Items without an owner go to the CX managers at once. On the
first of the month the digest tells CX managers (and the public channel, when set) what was done.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.context import JobContext
from bot.messages import Message
from bot.router import Router
from handlers.feedback_common import QUIET_TOPIC, RELAY_TOPIC, day_of, tell_staff
from handlers.feedback_settings import (
    DIGEST_KIND,
    SLA_KIND,
    is_working_day,
    local_date,
    read_settings,
    working_days_between,
)
from storage.models import Role, Schedule
from storage.models.feedback import FeedbackStatus

router = Router()
DRAFT_DAYS = 2


async def apply_retention(ctx: JobContext) -> dict[str, int]:
    """The daily ``privacy.retention`` job's part: closed items past the retention period (with their
    threads), relay queue rows never worked, drafts never sent, and what the relay left in the outbox."""
    now, settings = ctx.now(), ctx.settings
    await ctx.repo.feedback.forget_sent(RELAY_TOPIC, QUIET_TOPIC, day_of(ctx))
    return {
        "feedback_closed": await ctx.repo.feedback.forget_closed_before(
            now - timedelta(days=settings.retention_closed_feedback_days)
        ),
        "feedback_relay_queue": await ctx.repo.feedback.forget_relay_rows_before(
            now - timedelta(days=settings.retention_relay_queue_days)
        ),
        "feedback_drafts": await ctx.repo.feedback.drop_drafts(before=now - timedelta(days=DRAFT_DAYS)),
    }


@router.schedule(SLA_KIND)
async def remind_unanswered(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    await ctx.repo.feedback.drop_drafts(before=fire_time - timedelta(days=DRAFT_DAYS))
    await ctx.repo.feedback.forget_sent(RELAY_TOPIC, QUIET_TOPIC, day_of(ctx))
    today = local_date(ctx, fire_time)
    if not is_working_day(today):
        return
    settings = await read_settings(ctx)
    managers = list(await ctx.repo.members.with_role(Role.cx_manager))
    for item in await ctx.repo.feedback.waiting():
        assert item.waiting_since is not None
        since = local_date(ctx, item.waiting_since)
        waited = working_days_between(since, today)
        owner = await ctx.repo.members.get(item.owner_member_id) if item.owner_member_id else None
        has_owner = owner is not None and owner.active
        params = {"waited": waited, "days": settings.sla_days, "owner": owner.name if owner else None}
        key = f"feedback.sla:{item.id}:{since.isoformat()}"
        if item.sla_stage < 1 and waited >= settings.sla_days and has_owner:
            assert owner is not None
            await tell_staff(
                ctx, item, "feedback.notice.sla_owner", params, idempotency=f"{key}:1", members=[owner]
            )
            item.sla_stage = 1
        elif item.sla_stage < 2 and waited >= settings.sla_days + (
            settings.escalate_days if has_owner else 0
        ):
            await tell_staff(
                ctx, item, "feedback.notice.sla_managers", params, idempotency=f"{key}:2", members=managers
            )
            item.sla_stage = 2


def _previous_month(ctx: JobContext, fire_time: datetime) -> tuple[date, datetime, datetime]:
    zone = ZoneInfo(ctx.settings.default_timezone)
    first_this = local_date(ctx, fire_time).replace(day=1)
    first_last = (first_this - timedelta(days=1)).replace(day=1)
    start = datetime.combine(first_last, time(0), tzinfo=zone)
    end = datetime.combine(first_this, time(0), tzinfo=zone)
    return first_last, start, end


@router.schedule(DIGEST_KIND)
async def monthly_digest(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    month, start, end = _previous_month(ctx, fire_time)
    updates = await ctx.repo.feedback.updates_between(start, end)
    received = await ctx.repo.feedback.received_between(start, end)
    closed = await ctx.repo.feedback.closed_between(start, end)
    themes = {update.theme_id: await ctx.repo.feedback.theme(update.theme_id) for update in updates}

    def render(locale: str) -> Message:
        months = ctx.services.catalog.choices(locale, "feedback.calendar.months")
        lines = [
            ctx.t(
                locale,
                "feedback.digest.line",
                status=update.status,
                title=theme.title if (theme := themes.get(update.theme_id)) else "?",
                text=update.text,
                contributors=update.contributors,
            )
            for update in updates
        ]
        text = ctx.t(
            locale,
            "feedback.digest.text",
            month=months[month.month - 1],
            year=month.year,
            received=received,
            done=closed.get(FeedbackStatus.done.value, 0),
            wont_do=closed.get(FeedbackStatus.wont_do.value, 0),
            lines="\n".join(lines),
        )
        return Message.text(text, key="feedback.digest.text")

    tag = month.strftime("%Y-%m")
    for manager in await ctx.repo.members.with_role(Role.cx_manager):
        await ctx.dm(
            manager,
            render(ctx.locale_of(manager)),
            key=f"feedback.digest:{tag}:{manager.id}",
            topic="feedback",
        )
    settings = await read_settings(ctx)
    channel = await ctx.repo.channels.get(settings.channel_id) if settings.channel_id else None
    if channel is not None and updates:
        await ctx.post(
            channel,
            render(ctx.locale_of(channel=channel)),
            key=f"feedback.digest:{tag}:channel",
            topic="feedback",
        )
