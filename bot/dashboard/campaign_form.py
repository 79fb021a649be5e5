"""The dashboard's campaign form: the whole campaign definition as form fields.

`from_spec` fills the form from a campaign, `new_form` with a new one's defaults; `read` takes the posted form
as typed. `bot.dashboard.campaign_data` turns it into a definition's data — the same a YAML file or the chat's
guided form makes, so a campaign made elsewhere loses nothing when it is edited here. Steps are numbered rows
(``s0-kind``, ``s0-time`` …); a row without a kind is an empty one and does not count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from handlers.campaigns import CampaignSpec
from handlers.campaigns.spec import StepSpec

NEW_ROWS = 1
"""Empty step rows under the existing ones (*Add a step* adds one more)."""
MAX_ROWS = 40
ROW_FIELD = re.compile(r"^s(\d{1,2})-([a-z_]+)$")
LISTS = ("working_days", "audience_departments", "audience_channels")
STEP_LISTS = ("days", "audience_departments", "audience_channels", "questions", "meetings")
PULSE_DEFAULTS: dict[str, Any] = {
    "pulse_name": "",
    "duration": "7d",
    "questions": [],
    "statements": "2",
    "open_question": True,
    "baseline": "no",
}


@dataclass
class CampaignForm:
    """The form's values (text, or lists for checkboxes), its step rows and the problems by field."""

    values: dict[str, Any]
    steps: list[dict[str, Any]]
    errors: dict[str, str] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)
    """The form row of each step of the definition (to place a step's problems)."""

    def add_rows(self, count: int = NEW_ROWS) -> None:
        for _ in range(count):
            if len(self.steps) < MAX_ROWS:
                self.steps.append(blank_step(len(self.steps)))


def blank_step(row: int) -> dict[str, Any]:
    return {
        "row": row,
        "key": "",
        "kind": "",
        "cadence": "weekly",
        "days": ["MO"],
        "every": "1",
        "monthly": "1",
        "rrule": "",
        "after": "",
        "time": "09:00",
        "audience": "campaign",
        "audience_departments": [],
        "audience_channels": [],
        "story": "",
        "text_nl": "",
        "text_en": "",
        **PULSE_DEFAULTS,
        "all_meetings": True,
        "meetings": [],
        "order": "",
        "remove": False,
    }


# --- From a definition ---------------------------------------------------------------------------------------
def _moment(text: str | None) -> tuple[str, str]:
    day, _, clock = (text or "").partition(" ")
    return day, clock


def from_spec(spec: CampaignSpec, owner: str) -> CampaignForm:
    """The form for ``spec``; ``owner`` is the owner's reference (``#<member id>``) or ""."""
    starts, starts_time = _moment(spec.starts)
    ends, ends_time = _moment(spec.ends)
    quiet = spec.quiet()
    values: dict[str, Any] = {
        "key": spec.key,
        "name": spec.name,
        "goal": spec.goal,
        "owner": owner,
        "audience": spec.audience.kind,
        "audience_departments": list(spec.audience.names) if spec.audience.kind == "departments" else [],
        "audience_channels": list(spec.audience.names) if spec.audience.kind == "channels" else [],
        "timezone": spec.timezone,
        "starts": starts,
        "starts_time": starts_time,
        "ends": ends,
        "ends_time": ends_time,
        "working_days": list(spec.working_days),
        "quiet_from": f"{quiet[0]:%H:%M}" if quiet else "",
        "quiet_until": f"{quiet[1]:%H:%M}" if quiet else "",
        "holidays_country": spec.holidays.country or "",
        "holidays_subdivision": spec.holidays.subdivision or "",
        "on_holiday": spec.holidays.on_holiday,
    }
    form = CampaignForm(values, [_step_values(step, row) for row, step in enumerate(spec.steps)])
    form.add_rows()
    return form


def _step_values(step: StepSpec, row: int) -> dict[str, Any]:
    cadence = step.cadence
    chosen = next(
        name for name in ("weekly", "monthly", "rrule", "after") if getattr(cadence, name) is not None
    )
    values = blank_step(row)
    values.update(
        key=step.key,
        kind=step.kind,
        cadence=chosen,
        days=list(cadence.weekly or ["MO"]),
        every=str(cadence.every),
        monthly=str(cadence.monthly or "1"),
        rrule=cadence.rrule or "",
        after=cadence.after or "",
        time=cadence.time,
        story=step.story or "",
        text_nl=(step.text or {}).get("nl", ""),
        text_en=(step.text or {}).get("en", ""),
    )
    if step.audience is not None:
        names = list(step.audience.names)
        values.update(
            audience=step.audience.kind,
            audience_departments=names if step.audience.kind == "departments" else [],
            audience_channels=names if step.audience.kind == "channels" else [],
        )
    if step.pulse is not None:
        given = step.pulse.baseline
        baseline = "first" if given == "first" else "always" if given is True else "no"
        values.update(
            pulse_name=step.pulse.name or "",
            duration=step.pulse.duration,
            questions=list(step.pulse.questions),
            order=",".join(step.pulse.questions),
            statements=str(step.pulse.statements),
            open_question=step.pulse.open_question,
            baseline=baseline,
        )
    if step.ritual is not None:
        values.update(
            all_meetings=step.ritual.meetings == "all",
            meetings=[] if step.ritual.meetings == "all" else list(step.ritual.meetings),
            duration=step.ritual.duration or "",
        )
    return values


# --- From the posted form ------------------------------------------------------------------------------------
def read(posted: Mapping[str, list[str]]) -> CampaignForm:
    """The form as typed (``posted``: every field's values, in order)."""

    def one(name: str) -> str:
        return (posted.get(name) or [""])[0].strip()

    values: dict[str, Any] = {
        name: one(name)
        for name in (
            "key",
            "name",
            "goal",
            "owner",
            "audience",
            "timezone",
            "starts",
            "starts_time",
            "ends",
            "ends_time",
            "quiet_from",
            "quiet_until",
            "holidays_country",
            "holidays_subdivision",
            "on_holiday",
        )
    }
    values.update({name: [value for value in posted.get(name, []) if value] for name in LISTS})
    rows: dict[int, dict[str, list[str]]] = {}
    for name, given in posted.items():
        match = ROW_FIELD.match(name)
        if match and int(match.group(1)) < MAX_ROWS:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = given
    steps: list[dict[str, Any]] = []
    for row in sorted(rows):
        fields = rows[row]
        step = blank_step(len(steps))
        for name in step:
            if name in STEP_LISTS:
                step[name] = [value for value in fields.get(name, []) if value]
            elif name in ("open_question", "all_meetings", "remove"):
                step[name] = bool(fields.get(name))
            elif name != "row":
                step[name] = (fields.get(name) or [""])[0].strip()
        if step["kind"] or step["key"]:
            steps.append(step)
    form = CampaignForm(values, steps)
    form.add_rows()
    return form


def new_form(timezone: str, today: date, owner: str, holidays: str) -> CampaignForm:
    """A new campaign's form: starting today, Monday to Friday, quiet from 20:00 to 08:00."""
    country, _, subdivision = holidays.partition("-")
    values: dict[str, Any] = {
        "key": "",
        "name": "",
        "goal": "",
        "owner": owner,
        "audience": "everyone",
        "audience_departments": [],
        "audience_channels": [],
        "timezone": timezone,
        "starts": today.isoformat(),
        "starts_time": "",
        "ends": "",
        "ends_time": "",
        "working_days": ["MO", "TU", "WE", "TH", "FR"],
        "quiet_from": "20:00",
        "quiet_until": "08:00",
        "holidays_country": "" if country.lower() in ("", "none") else country.upper(),
        "holidays_subdivision": subdivision.upper(),
        "on_holiday": "skip",
    }
    form = CampaignForm(values, [])
    form.add_rows()
    return form
