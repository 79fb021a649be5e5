"""The feedback settings (answer time, escalation, public channel) and working days.

The settings live in the payload of the daily ``feedback.sla`` schedule, so they are in the database, change
from chat (``inbox sla 3``, ``inbox channel algemeen``) or the CLI, and need no restart. Working days skip
weekends and Dutch public holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from bot.context import JobContext
from storage.models import Schedule

SLA_KIND = "feedback.sla"
DIGEST_KIND = "feedback.digest"
DEFAULT_SLA_DAYS = 5
DEFAULT_ESCALATE_DAYS = 2
SLA_RULE = "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0"
DIGEST_RULE = "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=30;BYSECOND=0"


@lru_cache(maxsize=32)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NL", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The working day ``days`` working days after ``start`` (``start`` itself does not count)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not later)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count


@dataclass(frozen=True)
class FeedbackSettings:
    sla_days: int = DEFAULT_SLA_DAYS
    """Working days within which a giver hears back; then the owner is reminded."""
    escalate_days: int = DEFAULT_ESCALATE_DAYS
    """Working days after the owner's reminder before every CX manager is reminded."""
    channel_id: int | None = None
    """Where public "you said, we did" summaries and the monthly digest go (None: nowhere public)."""

    def payload(self) -> dict[str, Any]:
        return {"sla_days": self.sla_days, "escalate_days": self.escalate_days, "channel_id": self.channel_id}


def _from(payload: dict[str, Any] | None) -> FeedbackSettings:
    payload = payload or {}
    channel = payload.get("channel_id")
    return FeedbackSettings(
        sla_days=int(payload.get("sla_days", DEFAULT_SLA_DAYS)),
        escalate_days=int(payload.get("escalate_days", DEFAULT_ESCALATE_DAYS)),
        channel_id=int(channel) if channel is not None else None,
    )


async def read_settings(ctx: JobContext) -> FeedbackSettings:
    return _from((await _sla_schedule(ctx)).payload)


async def write_settings(ctx: JobContext, settings: FeedbackSettings) -> None:
    await _put(ctx, SLA_KIND, "daily", SLA_RULE, settings.payload())


async def ensure_schedules(ctx: JobContext) -> None:
    """The daily SLA check and the monthly digest exist (created with the first feedback)."""
    await _sla_schedule(ctx)
    if await ctx.repo.schedules.by_ref(DIGEST_KIND, "monthly") is None:
        await _put(ctx, DIGEST_KIND, "monthly", DIGEST_RULE, {})


async def _sla_schedule(ctx: JobContext) -> Schedule:
    found = await ctx.repo.schedules.by_ref(SLA_KIND, "daily")
    if found is None:
        found = await _put(ctx, SLA_KIND, "daily", SLA_RULE, FeedbackSettings().payload())
    return found


async def _put(ctx: JobContext, kind: str, ref: str, rule: str, payload: dict[str, Any]) -> Schedule:
    return await ctx.services.scheduler.put(
        ctx.session,
        kind=kind,
        ref=ref,
        timezone=ctx.settings.default_timezone,
        starts_at=ctx.now(),
        rrule=rule,
        payload=payload,
    )


def local_date(ctx: JobContext, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(ctx.settings.default_timezone)).date()


def answer_by(ctx: JobContext, settings: FeedbackSettings, since: datetime) -> date:
    """The date by which an item waiting since ``since`` should be answered."""
    return add_working_days(local_date(ctx, since), settings.sla_days)
