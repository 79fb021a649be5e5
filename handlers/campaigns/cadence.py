"""When a campaign step fires, as written: weekly, monthly, an RRULE (at most one send a day) or a time
after joining, at a local time; and the small parsers for clocks, days, durations and moments it uses."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from datetime import time as Clock
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot import recurrence
from bot.errors import InvalidInput
from handlers.campaigns.problems import problem

WEEKDAYS = recurrence.WEEKDAYS
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_OFFSET = re.compile(r"^\s*(\d{1,3})\s*([dw])\s*$", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(\d{1,4})\s*([hdw])\s*$", re.IGNORECASE)
_MONTH_DAY = re.compile(r"^(-1|\+?[1-5])(MO|TU|WE|TH|FR|SA|SU)$")
_AT_MOST_DAILY = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")


def parse_clock(text: str) -> time:
    match = _CLOCK.match(str(text).strip())
    if not match:
        raise problem("campaign.error.time", given=text)
    return time(int(match.group(1)), int(match.group(2)))


def offset_days(text: str) -> int:
    """``0d``, ``3d``, ``1w``, ``4w`` → days after joining."""
    match = _OFFSET.match(str(text))
    if not match:
        raise problem("campaign.error.after", given=text)
    return int(match.group(1)) * (7 if match.group(2).lower() == "w" else 1)


def duration_minutes(text: str) -> int:
    """``12h``, ``3d``, ``1w`` → minutes."""
    match = _DURATION.match(str(text))
    if not match:
        raise problem("campaign.error.duration", given=text)
    return int(match.group(1)) * {"h": 60, "d": 24 * 60, "w": 7 * 24 * 60}[match.group(2).lower()]


def parse_moment(text: str) -> tuple[date, time | None]:
    """``2026-11-30`` or ``2026-11-30 09:00`` (local) → (day, time or None)."""
    cleaned = str(text).strip().replace("T", " ")
    try:
        if " " in cleaned:
            moment = datetime.fromisoformat(cleaned)
            return moment.date(), moment.time().replace(second=0, microsecond=0)
        return date.fromisoformat(cleaned), None
    except ValueError:
        raise problem("campaign.error.moment", given=text) from None


def weekdays(value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value).replace(",", " ").split()
    days = [str(item).strip().upper()[:2] for item in items]
    bad = [str(item) for item, day in zip(items, days, strict=True) if day not in WEEKDAYS]
    if bad or not days:
        raise problem("campaign.error.weekdays", given=", ".join(bad) or "—")
    return sorted(set(days), key=WEEKDAYS.index)


Weekdays = Annotated[list[str], Field(min_length=1)]


class Strict(BaseModel):
    """Every part of a campaign definition: unknown fields are errors, text is trimmed, values are fixed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Cadence(Strict):
    """When a step fires: weekly on days (every N weeks), monthly (a day of the month or ``1MO``), an
    RRULE, or — for new joiners — a time after joining (``after: 1w``). Always at ``time`` (local)."""

    weekly: Weekdays | None = None
    monthly: int | str | None = None
    rrule: str | None = None
    after: str | None = None
    every: int = Field(1, ge=1, le=52)
    time: str = "09:00"

    @field_validator("weekly", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        return None if value is None else weekdays(value)

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> str:
        if isinstance(value, int):  # YAML 1.1 reads an unquoted 09:30 as sexagesimal minutes
            value = f"{value // 60}:{value % 60:02d}"
        return parse_clock(str(value)).strftime("%H:%M")

    @field_validator("monthly")
    @classmethod
    def _monthly(cls, value: int | str | None) -> int | str | None:
        if value is None:
            return None
        if isinstance(value, int):
            if value == 0 or not -1 <= value <= 28:
                raise problem("campaign.error.monthly", given=value)
            return value
        text = value.strip().upper()
        if not _MONTH_DAY.match(text):
            raise problem("campaign.error.monthly", given=value)
        return text

    @field_validator("after")
    @classmethod
    def _after(cls, value: str | None) -> str | None:
        if value is None:
            return None
        days = offset_days(value)
        return f"{days}d"

    @model_validator(mode="after")
    def _one_kind(self) -> Cadence:
        given = [name for name in ("weekly", "monthly", "rrule", "after") if getattr(self, name) is not None]
        if len(given) != 1:
            raise problem("campaign.error.cadence_kind")
        if self.rrule is not None:
            wrong = _not_at_most_daily(self.rule())
            if wrong is not None:
                raise problem(wrong, given=self.rrule)
            try:
                recurrence.validate(self.rule(), "UTC")
            except InvalidInput:
                raise problem("campaign.error.rrule", given=self.rrule) from None
        return self

    @property
    def relative(self) -> bool:
        return self.after is not None

    @property
    def clock(self) -> Clock:
        return parse_clock(self.time)

    def rule(self) -> str:
        """The RRULE this cadence stands for (evaluated in local wall-clock time)."""
        clock = self.clock
        at = f"BYHOUR={clock.hour};BYMINUTE={clock.minute};BYSECOND=0"
        if self.weekly is not None:
            return f"FREQ=WEEKLY;INTERVAL={self.every};BYDAY={','.join(self.weekly)};{at}"
        if self.monthly is not None:
            day = f"BYMONTHDAY={self.monthly}" if isinstance(self.monthly, int) else f"BYDAY={self.monthly}"
            return f"FREQ=MONTHLY;INTERVAL={self.every};{day};{at}"
        assert self.rrule is not None
        text = self.rrule.strip().removeprefix("RRULE:").strip().rstrip(";")
        given = {part.partition("=")[0].strip().upper() for part in text.split(";")}
        if "BYHOUR" not in given:
            text += f";BYHOUR={clock.hour}"
        if "BYMINUTE" not in given:  # a rule's own hour means on the hour
            text += f";BYMINUTE={clock.minute if 'BYHOUR' not in given else 0}"
        if "BYSECOND" not in given:
            text += ";BYSECOND=0"
        return text

    def to_yaml(self) -> dict[str, Any]:
        data = self.model_dump(exclude_none=True, exclude_defaults=True)
        data["time"] = self.time
        return data


def _not_at_most_daily(rule: str) -> str | None:
    """Why ``rule`` could send more than once a day (or never), as a prompt key; None when it is fine.

    At most daily means: a frequency of a day or longer, and one hour, minute and second of the day — so every
    send of a step falls on a day of its own, also after moving out of quiet hours and off holidays.
    """
    parts: dict[str, str] = {}
    for part in rule.upper().split(";"):
        name, sep, value = part.partition("=")
        if not sep or name.strip() in parts:
            return "campaign.error.rrule"
        parts[name.strip()] = value.strip()
    if parts.get("FREQ") not in _AT_MOST_DAILY:
        return "campaign.error.too_frequent"
    if any("," in parts.get(name, "") for name in ("BYHOUR", "BYMINUTE", "BYSECOND")):
        return "campaign.error.too_frequent"
    if "COUNT" in parts and not (parts["COUNT"].isdigit() and int(parts["COUNT"]) >= 1):
        return "campaign.error.rrule"
    return None
