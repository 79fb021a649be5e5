"""When pulse messages may arrive: send windows, quiet hours, recurrence and short durations (``2d``)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from bot.errors import InvalidInput
from bot.recurrence import to_utc

RECURRENCES = {
    "weekly": relativedelta(weeks=1),
    "biweekly": relativedelta(weeks=2),
    "monthly": relativedelta(months=1),
}
RECURRENCE_WORDS = {
    "weekly": "weekly",
    "wekelijks": "weekly",
    "biweekly": "biweekly",
    "fortnightly": "biweekly",
    "tweewekelijks": "biweekly",
    "monthly": "monthly",
    "maandelijks": "monthly",
    "none": None,
    "geen": None,
    "once": None,
    "eenmalig": None,
}
_DURATION = re.compile(r"^\s*(\d{1,4})\s*([mhdw])\s*$", re.IGNORECASE)
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_UNITS = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}


def parse_duration(text: str) -> int:
    """``90m``, ``2h``, ``3d``, ``1w`` → minutes."""
    match = _DURATION.match(text)
    if not match:
        raise InvalidInput("pulse.error.duration", given=text)
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def parse_clock(text: str) -> time:
    match = _CLOCK.match(text.strip())
    if not match:
        raise InvalidInput("error.invalid_time", time=text)
    return time(int(match.group(1)), int(match.group(2)))


def parse_quiet_hours(text: str) -> tuple[str, str]:
    """``20:00-08:00`` → ("20:00", "08:00"); equal ends mean no quiet hours."""
    start, sep, end = text.partition("-")
    if not sep:
        raise InvalidInput("pulse.error.quiet_hours", given=text)
    return parse_clock(start).strftime("%H:%M"), parse_clock(end).strftime("%H:%M")


def parse_recurrence(text: str | None) -> str | None:
    if text is None or text == "":
        return None
    key = text.strip().lower()
    if key not in RECURRENCE_WORDS:
        raise InvalidInput("pulse.error.recurrence", given=text)
    return RECURRENCE_WORDS[key]


def parse_local(text: str, timezone: str) -> datetime:
    """``2026-11-24 09:00`` (or ``2026-11-24``, 09:00) in ``timezone`` → aware UTC."""
    cleaned = text.strip().replace("T", " ")
    try:
        local = datetime.fromisoformat(cleaned if " " in cleaned else f"{cleaned} 09:00")
    except ValueError:
        raise InvalidInput("pulse.error.moment", given=text) from None
    if local.tzinfo is not None:
        return local.astimezone(ZoneInfo("UTC"))
    return to_utc(local, ZoneInfo(timezone))


def next_period(moment: datetime, recurrence: str, timezone: str) -> datetime:
    """``moment`` one period later, on the same local wall-clock time."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone).replace(tzinfo=None) + RECURRENCES[recurrence]
    return to_utc(local, zone)


def period_minutes(recurrence: str) -> int:
    return {"weekly": 7, "biweekly": 14, "monthly": 28}[recurrence] * 24 * 60


def in_quiet_hours(moment: datetime, timezone: str, quiet_start: str, quiet_end: str) -> bool:
    if quiet_start == quiet_end:
        return False
    local = moment.astimezone(ZoneInfo(timezone)).time()
    start, end = parse_clock(quiet_start), parse_clock(quiet_end)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def outside_quiet_hours(moment: datetime, timezone: str, quiet_start: str, quiet_end: str) -> datetime:
    """``moment``, or the end of the quiet hours it falls in (in the member's own time zone)."""
    if not in_quiet_hours(moment, timezone, quiet_start, quiet_end):
        return moment
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    end = parse_clock(quiet_end)
    wake = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0, tzinfo=None)
    if wake <= local.replace(tzinfo=None):
        wake += timedelta(days=1)
    return to_utc(wake, zone)
