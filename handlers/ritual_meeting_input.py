"""A meeting as typed in the chat form or on the command line: parsed, validated field by field, saved.

The chat commands are in `handlers.ritual_meetings`; `bot.cli_ritual` uses the same functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import recurrence
from bot.context import JobContext
from bot.errors import InvalidInput, KlantpetError
from handlers import ritual_schedule as timing
from storage.models import Channel, Meeting

FieldStyle = Literal["text", "textarea", "select"]

_TIME = re.compile(r"^(\d{1,2})(?:[:.hu](\d{2}))?$")
_DAYS = {
    "MO": ("mo", "ma", "mon", "monday", "maandag"),
    "TU": ("tu", "di", "tue", "tuesday", "dinsdag"),
    "WE": ("we", "wo", "wed", "wednesday", "woensdag"),
    "TH": ("th", "do", "thu", "thursday", "donderdag"),
    "FR": ("fr", "vr", "fri", "friday", "vrijdag"),
    "SA": ("sa", "za", "sat", "saturday", "zaterdag"),
    "SU": ("su", "zo", "sun", "sunday", "zondag"),
}
DAY_CODES = {word: code for code, words in _DAYS.items() for word in words}
FIELDS = ("name", "channel", "days", "time", "rrule", "timezone", "duration", "lead", "topic", "participants")


@dataclass
class MeetingInput:
    """A meeting as typed in the form or on the command line: every value a string, as given."""

    name: str = ""
    channel: str = ""
    days: str = ""
    time: str = ""
    rrule: str = ""
    timezone: str = ""
    duration: str = "60"
    lead: str = "2"
    topic: str = ""
    participants: str = ""

    @classmethod
    def of(cls, meeting: Meeting, participant_names: list[str]) -> MeetingInput:
        start = timing.local_start(meeting)
        return cls(
            name=meeting.name,
            channel=meeting.channel.name if meeting.channel else "",
            rrule=meeting.rrule,
            time=f"{start.hour:02d}:{start.minute:02d}",
            timezone=meeting.timezone,
            duration=str(meeting.duration_minutes),
            lead=str(meeting.opening_lead_minutes),
            topic=meeting.topic or "",
            participants=", ".join(participant_names),
        )


def parse_days(text: str) -> list[str]:
    words = [word for word in re.split(r"[\s,;/+]+", text.strip().lower()) if word]
    unknown = [word for word in words if word not in DAY_CODES]
    if not words or unknown:
        raise InvalidInput("error.invalid_weekdays", field="days", days=", ".join(unknown) or "—")
    return list(dict.fromkeys(DAY_CODES[word] for word in words))


def parse_time(text: str) -> tuple[int, int]:
    match = _TIME.match(text.strip().lower())
    if match is None or int(match.group(1)) > 23 or int(match.group(2) or 0) > 59:
        raise InvalidInput("error.invalid_time", field="time", time=text.strip() or "—")
    return int(match.group(1)), int(match.group(2) or 0)


def _minutes(text: str, field: str, low: int, high: int) -> int:
    value = text.strip()
    if not value.isdigit() or not low <= int(value) <= high:
        raise InvalidInput("ritual.error.minutes", field=field, low=low, high=high)
    return int(value)


async def _channel(ctx: JobContext, reference: str) -> Channel:
    channel = await ctx.repo.channels.by_name(reference) if reference.strip() else None
    if channel is None and ":" in reference:
        platform, _, external = reference.partition(":")
        channel = await ctx.repo.channels.by_external(platform, external)
    if channel is None:
        raise InvalidInput("ritual.error.unknown_channel", field="channel", channel=reference.strip() or "—")
    return channel


async def _participant_ids(ctx: JobContext, text: str, channel: Channel) -> list[int]:
    names = [name.strip() for name in re.split(r"[,\n;]+", text) if name.strip()]
    if not names:
        return await ctx.repo.channels.member_ids(channel.id)
    found: list[int] = []
    for name in names:
        member = await ctx.repo.members.find(name)
        if member is None or not member.active:
            raise InvalidInput("error.member_not_found", field="participants", reference=name)
        found.append(member.id)
    return found


async def apply_input(
    ctx: JobContext, given: MeetingInput, default_timezone: str, base: Meeting | None = None
) -> tuple[Meeting, list[int], dict[str, KlantpetError]]:
    """A new, unsaved meeting from ``given`` (keeping ``base``'s first day), its participants and the
    errors by field. Nothing is stored and ``base`` is left alone."""
    errors: dict[str, KlantpetError] = {}
    draft = Meeting(ritual_enabled=True, participants=[])
    draft.name = given.name.strip()
    if not draft.name or len(draft.name) > 200:
        errors["name"] = InvalidInput("error.field_required", field="name")
    draft.topic = given.topic.strip()[:2000] or None
    draft.timezone = given.timezone.strip() or default_timezone
    try:
        if len(draft.timezone) > 64:  # no zone name is this long; thousands of "/" make zoneinfo recurse
            raise ValueError(draft.timezone)
        zone = ZoneInfo(draft.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = InvalidInput("ritual.error.timezone", field="timezone", zone=draft.timezone)
        zone = ZoneInfo(default_timezone)
    today = ctx.now().astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    draft.starts_at = base.starts_at if base is not None else today.astimezone(UTC)
    duration = _attempt(errors, "duration", lambda: _minutes(given.duration, "duration", 5, 480))
    lead = _attempt(errors, "lead", lambda: _minutes(given.lead.strip() or "2", "lead", 0, 30))
    draft.duration_minutes, draft.opening_lead_minutes = duration or 60, 2 if lead is None else lead
    participants: list[int] = []
    try:
        channel = await _channel(ctx, given.channel)
        draft.channel_id, draft.channel = channel.id, channel
        participants = await _participant_ids(ctx, given.participants, channel)
    except InvalidInput as error:
        errors[error.field or "channel"] = error
    rule = _attempt(errors, "rrule", lambda: _rule(given, errors))
    if rule is not None:
        draft.rrule = rule
        if not errors:
            _attempt(
                errors, "rrule" if given.rrule.strip() else "days", lambda: timing.validate_timing(draft)
            )
    return draft, participants, errors


def _attempt[T](errors: dict[str, KlantpetError], field: str, work: Callable[[], T]) -> T | None:
    """``work()``, or None with its error noted under its field (every field is checked, not just the first)."""
    try:
        return work()
    except InvalidInput as error:
        errors.setdefault(error.field or field, error)
        return None


def _rule(given: MeetingInput, errors: dict[str, KlantpetError]) -> str | None:
    time_of_day = (
        _attempt(errors, "time", lambda: parse_time(given.time))
        if given.time.strip() or not given.rrule.strip()
        else None
    )
    if given.rrule.strip():
        rule = given.rrule.strip()
        if time_of_day is None:
            return None if given.time.strip() else rule
        bare, _, _ = timing.split_rule(rule)
        return f"{bare};BYHOUR={time_of_day[0]};BYMINUTE={time_of_day[1]}"
    days = _attempt(errors, "days", lambda: parse_days(given.days))
    if days is None or time_of_day is None:
        return None
    return recurrence.weekly(days, *time_of_day)


async def save(
    ctx: JobContext, draft: Meeting, participants: list[int], existing: Meeting | None = None
) -> Meeting:
    """Store a validated meeting (new, or onto ``existing``), its participants and its ritual schedules."""
    if existing is None:
        draft.created_at = ctx.now()
        meeting = await ctx.repo.ritual.add_meeting(draft)
    else:
        meeting = existing
        for name in ("name", "topic", "channel_id", "rrule", "timezone", "starts_at"):
            setattr(meeting, name, getattr(draft, name))
        meeting.duration_minutes = draft.duration_minutes
        meeting.opening_lead_minutes = draft.opening_lead_minutes
    await ctx.repo.ritual.set_participants(meeting, participants)
    await ctx.session.refresh(meeting, ["channel"])
    await timing.sync_schedules(ctx, meeting)
    await timing.ensure_weekly(ctx)  # the register's reminders and digest run once there is a meeting
    return meeting


async def set_ritual(ctx: JobContext, meeting: Meeting, enabled: bool) -> None:
    """Switch the meeting's ritual on or off; its schedules follow and the switch is kept for the measures."""
    meeting.ritual_enabled = enabled
    await timing.sync_schedules(ctx, meeting)
