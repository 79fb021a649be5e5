"""When a meeting happens, and the ritual schedules that follow from it.

A meeting's rule (RRULE, or weekdays + a time) is evaluated in the meeting's time zone. Its time of day is
taken out of the rule and put into the anchor, so the same rule can fire the opening a few minutes before
each occurrence (``ritual.opening``) and the debrief at its end (``ritual.debrief``), both with ref = the
meeting id, across daylight-saving changes.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import recurrence
from bot.context import JobContext
from bot.errors import InvalidInput
from storage.models import Meeting, Schedule

OPENING = "ritual.opening"
DEBRIEF = "ritual.debrief"
DEBRIEF_AD_HOC = "ritual.debrief_adhoc"
REMINDERS = "ritual.reminders"
DIGEST = "ritual.digest"
EARLY_START = timedelta(minutes=30)
"""An opening this long before a scheduled start belongs to that occurrence (a meeting that starts early)."""


def split_rule(rule: str) -> tuple[str, int | None, int | None]:
    """(the rule without its time of day, hour, minute); a meeting happens at one time a day."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text:
        raise InvalidInput("error.invalid_rrule", rule=rule)
    kept: list[str] = []
    hour: int | None = None
    minute: int | None = None
    for part in text.split(";"):
        name, _, value = part.partition("=")
        name = name.strip().upper()
        if name in ("BYHOUR", "BYMINUTE"):
            if not value.strip().isdigit():
                raise InvalidInput("ritual.error.one_time_a_day", rule=rule)
            if name == "BYHOUR":
                hour = int(value)
            else:
                minute = int(value)
        elif name != "BYSECOND" and part.strip():
            kept.append(f"{name}={value.strip().upper()}")
    if not any(part.startswith("FREQ=") for part in kept):
        raise InvalidInput("error.invalid_rrule", rule=rule)
    return ";".join(kept), hour, minute


def anchor(meeting: Meeting) -> tuple[str, datetime]:
    """(time-free rule, first start in UTC): the rule's time of day on the meeting's first day."""
    zone = ZoneInfo(meeting.timezone)
    rule, hour, minute = split_rule(meeting.rrule)
    local = meeting.starts_at.astimezone(zone)
    start = datetime.combine(
        local.date(),
        time(hour if hour is not None else local.hour, minute if minute is not None else local.minute),
    )
    return rule, recurrence.to_utc(start, zone)


def local_start(meeting: Meeting) -> time:
    _, first = anchor(meeting)
    return first.astimezone(ZoneInfo(meeting.timezone)).time()


def validate_timing(meeting: Meeting) -> None:
    """The rule must parse, and the opening and the end must fall on the meeting's own day."""
    rule, first = anchor(meeting)
    recurrence.validate(rule, meeting.timezone)
    start = first.astimezone(ZoneInfo(meeting.timezone))
    minutes = start.hour * 60 + start.minute
    if minutes - meeting.opening_lead_minutes < 0 or minutes + meeting.duration_minutes > 24 * 60:
        raise InvalidInput("ritual.error.same_day")
    if next_occurrence(meeting, first - timedelta(seconds=1)) is None:
        raise InvalidInput("ritual.error.no_occurrences")


def occurrences(meeting: Meeting, after: datetime, until: datetime) -> list[datetime]:
    """Start times of the meeting in (after, until]."""
    rule, first = anchor(meeting)
    return recurrence.occurrences(rule, meeting.timezone, first, after, until)


def next_occurrence(meeting: Meeting, after: datetime) -> datetime | None:
    rule, first = anchor(meeting)
    return recurrence.next_after(rule, meeting.timezone, first, after)


def occurrence_near(meeting: Meeting, now: datetime) -> datetime | None:
    """The scheduled occurrence going on now (or starting within half an hour), if any."""
    found = occurrences(meeting, now - timedelta(minutes=meeting.duration_minutes), now + EARLY_START)
    return found[0] if found else None


def local_day(meeting: Meeting, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(meeting.timezone)).date()


async def sync_schedules(ctx: JobContext, meeting: Meeting) -> None:
    """(Re)compute the meeting's opening and debrief schedules; off when the ritual is off or homeless.

    Every caller that switches the ritual on or off comes through here, so the switch is recorded here too
    (``ritual stats`` counts the scheduled rituals from that history)."""
    await ctx.repo.ritual.switch_ritual(meeting, ctx.now())
    rule, first = anchor(meeting)
    enabled = meeting.ritual_enabled and meeting.channel_id is not None
    lead = meeting.opening_lead_minutes
    for kind, offset in ((OPENING, -lead), (DEBRIEF, meeting.duration_minutes)):
        await ctx.services.scheduler.put(
            ctx.session,
            kind=kind,
            ref=str(meeting.id),
            timezone=meeting.timezone,
            starts_at=first + timedelta(minutes=offset),
            rrule=rule,
            payload={"offset_minutes": offset},
            enabled=enabled,
        )


async def stop_schedules(ctx: JobContext, meeting_id: int) -> None:
    for kind in (OPENING, DEBRIEF, DEBRIEF_AD_HOC):
        schedule = await ctx.repo.schedules.by_ref(kind, str(meeting_id))
        if schedule is not None:
            schedule.enabled = False
            schedule.next_fire_at = None
    ctx.services.scheduler_changed()


def occurrence_of(schedule: Schedule, fire_time: datetime) -> datetime:
    """The meeting start a fired opening or debrief belongs to."""
    return fire_time - timedelta(minutes=int(schedule.payload.get("offset_minutes", 0)))


async def ensure_weekly(ctx: JobContext) -> None:
    """The register's weekly jobs (owner reminders + escalation, and the digest): Mondays, once set up.

    Called at start (when there is a meeting or a conflict), when a meeting is saved and when a conflict
    is recorded; it creates the jobs only when they do not exist yet."""
    for kind, hour, minute in ((REMINDERS, 9, 0), (DIGEST, 9, 30)):
        if await ctx.repo.schedules.by_ref(kind, "weekly") is None:
            await ctx.services.scheduler.put(
                ctx.session,
                kind=kind,
                ref="weekly",
                timezone=ctx.settings.default_timezone,
                starts_at=ctx.now(),
                rrule=recurrence.weekly(["MO"], hour, minute),
            )


def format_day(ctx: JobContext, locale: str, day: date) -> str:
    """``maandag 7 december`` / ``Monday 7 December``."""
    weekday = ctx.services.catalog.choices(locale, "ritual.weekdays")[day.weekday()]
    month = ctx.services.catalog.choices(locale, "ritual.months")[day.month - 1]
    return f"{weekday} {day.day} {month}"


def format_moment(ctx: JobContext, locale: str, moment: datetime, zone: str) -> str:
    """``maandag 7 december 10:00`` in ``zone``."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{format_day(ctx, locale, local.date())} {local:%H:%M}"
