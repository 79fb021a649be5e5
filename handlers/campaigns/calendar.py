"""When a campaign's sends happen: a step's cadence in local wall-clock time, moved off non-working days,
public holidays and quiet hours.

Rules (in the time zone of whoever receives the send):

1. A planned send on a non-working day or a public holiday is **skipped** (``on_holiday: skip``, the
   default: a weekly rhythm simply has one fewer beat that week), or **moved** to the next working day at
   the same time (``on_holiday: next_working_day``). Journey steps of new joiners always move: a new
   colleague should not miss their day-one story.
2. A send inside the quiet hours moves to the end of the quiet hours (and, should that be a non-working
   day, on to the next working day at that time).
3. The campaign's start and end are calendar days in every recipient's own time zone; sends outside them
   are dropped. Two planned sends of a step that land on the same moment after moving become one (a Saturday
   and a Sunday send moved to Monday 09:00 go out once).

A send keeps the *planned* local time (``occurrence``) as its identity: the idempotency key of everything
it sends is derived from it, so moving a send never makes it a new one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays
from dateutil.rrule import rrule as RRule
from dateutil.rrule import rrulestr

from bot.recurrence import WEEKDAYS, to_utc
from handlers.campaigns.cadence import offset_days, parse_moment
from handlers.campaigns.spec import CampaignSpec, StepSpec

LOOK_BACK = timedelta(days=21)
"""A send planned this long before a moment may still be due after it (moved past holidays)."""
HORIZON = timedelta(days=3 * 366)


@dataclass(frozen=True)
class PlannedSend:
    occurrence: str
    """The planned local time, ISO to the minute (the send's identity)."""
    at: datetime
    """When it goes out (UTC), after moving."""
    timezone: str


@dataclass(frozen=True)
class Calendar:
    working_days: frozenset[int]
    quiet: tuple[time, time] | None
    country: str | None
    subdivision: str | None
    on_holiday: str

    @classmethod
    def of(cls, spec: CampaignSpec) -> Calendar:
        return cls(
            working_days=frozenset(WEEKDAYS.index(day) for day in spec.working_days),
            quiet=spec.quiet(),
            country=spec.holidays.country.upper() if spec.holidays.country else None,
            subdivision=spec.holidays.subdivision,
            on_holiday=spec.holidays.on_holiday,
        )

    @cached_property
    def _holidays(self) -> holidays.HolidayBase | None:
        if self.country is None:
            return None
        return holidays.country_holidays(self.country, subdiv=self.subdivision)

    def holiday(self, day: date) -> str | None:
        found = self._holidays.get(day) if self._holidays is not None else None
        return str(found) if found else None

    def working(self, day: date) -> bool:
        return day.weekday() in self.working_days and self.holiday(day) is None

    def in_quiet_hours(self, clock: time) -> bool:
        if self.quiet is None or self.quiet[0] == self.quiet[1]:
            return False
        start, end = self.quiet
        return start <= clock < end if start < end else clock >= start or clock < end

    def adjust(self, local: datetime, *, move: bool | None = None) -> datetime | None:
        """The local moment a send planned at ``local`` goes out, or None when it is skipped."""
        moving = self.on_holiday == "next_working_day" if move is None else move
        if not self.working(local.date()):
            if not moving:
                return None
            local = self._next_working(local)
        if self.in_quiet_hours(local.time()):
            assert self.quiet is not None
            end = self.quiet[1]
            wake = datetime.combine(local.date(), end)
            local = wake if wake > local else wake + timedelta(days=1)
            if not self.working(local.date()):
                local = self._next_working(local)
        return local

    def _next_working(self, local: datetime) -> datetime:
        for _ in range(60):
            local += timedelta(days=1)
            if self.working(local.date()):
                return local
        return local  # no working day in two months: a misconfiguration; send rather than never


def campaign_window(spec: CampaignSpec) -> tuple[datetime, datetime | None]:
    """The campaign's start and end (UTC); an end given as a day includes that whole day."""
    zone = ZoneInfo(spec.timezone)
    day, clock = parse_moment(spec.starts)
    starts = to_utc(datetime.combine(day, clock or time(0, 0)), zone)
    ends = None
    if spec.ends is not None:
        end_day, end_clock = parse_moment(spec.ends)
        ends = (
            to_utc(datetime.combine(end_day, end_clock), zone)
            if end_clock is not None
            else to_utc(datetime.combine(end_day + timedelta(days=1), time(0, 0)), zone)
            - timedelta(seconds=1)
        )
    return starts, ends


def _occurrences(rule: str, start_local: datetime, from_local: datetime) -> Iterator[datetime]:
    parsed = rrulestr(rule, dtstart=start_local)
    assert isinstance(parsed, RRule)
    yield from parsed.xafter(max(from_local, start_local), inc=True)


def local_window(spec: CampaignSpec) -> tuple[datetime, datetime | None]:
    """The campaign's start and end as wall-clock times: a campaign from 23 to 27 November runs on those
    days in every recipient's own calendar."""
    day, clock = parse_moment(spec.starts)
    start = datetime.combine(day, clock or time(0, 0))
    if spec.ends is None:
        return start, None
    end_day, end_clock = parse_moment(spec.ends)
    end = datetime.combine(end_day, end_clock) if end_clock else datetime.combine(end_day, time(23, 59, 59))
    return start, end


def planned_sends(
    spec: CampaignSpec, step: StepSpec, timezone: str, after: datetime, count: int, *, inclusive: bool = False
) -> list[PlannedSend]:
    """The next ``count`` sends of a recurring ``step`` for people in ``timezone`` after ``after`` (UTC)."""
    calendar = Calendar.of(spec)
    start_local, end_local = local_window(spec)
    zone = ZoneInfo(timezone)
    from_local = (after - LOOK_BACK).astimezone(zone).replace(tzinfo=None)
    horizon = (after + HORIZON).astimezone(zone).replace(tzinfo=None)
    found: list[PlannedSend] = []
    seen: set[datetime] = set()
    for nominal in _occurrences(step.cadence.rule(), start_local, from_local):
        if len(found) >= count or nominal > (end_local or horizon):
            break
        moved = calendar.adjust(nominal)
        if moved is None or (end_local is not None and moved > end_local):
            continue
        at = to_utc(moved, zone)
        if (at < after if inclusive else at <= after) or at in seen:
            continue
        found.append(PlannedSend(nominal.isoformat(timespec="minutes"), at, timezone))
        seen.add(at)
    return found


def next_send(
    spec: CampaignSpec, step: StepSpec, timezone: str, after: datetime, *, inclusive: bool = False
) -> PlannedSend | None:
    found = planned_sends(spec, step, timezone, after, 1, inclusive=inclusive)
    return found[0] if found else None


def journey_send(spec: CampaignSpec, step: StepSpec, timezone: str, joined_at: datetime) -> PlannedSend:
    """When a new joiner gets ``step``: ``after`` days from the day they joined, at the step's time, moved
    to a working moment; a time already past when they joined means as soon as it may."""
    assert step.cadence.after is not None
    zone = ZoneInfo(timezone)
    joined_local = joined_at.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    nominal = datetime.combine(
        joined_local.date() + timedelta(days=offset_days(step.cadence.after)), step.cadence.clock
    )
    planned = max(nominal, joined_local)
    moved = Calendar.of(spec).adjust(planned, move=True) or planned
    return PlannedSend(nominal.isoformat(timespec="minutes"), max(to_utc(moved, zone), joined_at), timezone)
