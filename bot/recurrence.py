"""Recurring times in a time zone: RFC 5545 RRULEs evaluated in local wall-clock time, stored in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule as RRule
from dateutil.rrule import rrulestr

from bot.errors import InvalidInput

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def weekly(days: list[str], hour: int, minute: int, interval: int = 1) -> str:
    """An RRULE for given weekdays (``MO``…``SU``) at a local time."""
    bad = [day for day in days if day.upper() not in WEEKDAYS]
    if bad or not days:
        raise InvalidInput("error.invalid_weekdays", days=", ".join(bad or days))
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise InvalidInput("error.invalid_time", time=f"{hour}:{minute}")
    return f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={','.join(d.upper() for d in days)};BYHOUR={hour};BYMINUTE={minute};BYSECOND=0"


def _rule(rule: str, starts_at: datetime, zone: ZoneInfo) -> RRule:
    local_start = starts_at.astimezone(zone).replace(tzinfo=None)
    try:
        parsed = rrulestr(rule, dtstart=local_start)
    except (ValueError, TypeError) as error:
        raise InvalidInput("error.invalid_rrule", rule=rule) from error
    if not isinstance(parsed, RRule):
        raise InvalidInput("error.invalid_rrule", rule=rule)
    return parsed


def validate(rule: str, timezone: str) -> None:
    """Raise `InvalidInput` unless ``rule`` is a usable RRULE in a known time zone."""
    _rule(rule, datetime.now(UTC), ZoneInfo(timezone))


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Attach ``zone`` to a naive local time; a time in a DST gap moves forward like a wall clock."""
    aware = local.replace(tzinfo=zone)
    round_trip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != local:  # nonexistent (spring forward): take the instant an hour later
        aware = (local + timedelta(hours=1)).replace(tzinfo=zone)
    return aware.astimezone(UTC)


def next_after(
    rule: str | None, timezone: str, starts_at: datetime, after: datetime, ends_at: datetime | None = None
) -> datetime | None:
    """The first occurrence strictly after ``after`` (UTC), or None when the series has ended."""
    zone = ZoneInfo(timezone)
    if rule is None:
        result: datetime | None = starts_at if starts_at > after else None
    else:
        local_after = after.astimezone(zone).replace(tzinfo=None)
        found = _rule(rule, starts_at, zone).after(local_after, inc=False)
        result = to_utc(found, zone) if found is not None else None
        # A DST fold can map the local successor onto the same or an earlier instant: step past it.
        guard = 0
        while result is not None and result <= after and guard < 5:
            found = _rule(rule, starts_at, zone).after(found, inc=False) if found else None
            result = to_utc(found, zone) if found is not None else None
            guard += 1
    if result is not None and ends_at is not None and result > ends_at:
        return None
    return result


def occurrences(
    rule: str | None, timezone: str, starts_at: datetime, after: datetime, until: datetime, limit: int = 1000
) -> list[datetime]:
    """Occurrences in (after, until], at most ``limit``."""
    found: list[datetime] = []
    cursor = after
    while len(found) < limit:
        following = next_after(rule, timezone, starts_at, cursor)
        if following is None or following > until:
            break
        found.append(following)
        cursor = following
    return found
