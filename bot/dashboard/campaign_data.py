"""The dashboard's campaign form as the data of a campaign definition, and that definition's problems put back
next to the form's fields.

`to_data` gives the plain data `handlers.campaigns.validate` checks (the same shape as a YAML file), remembering
which form row each step came from; `place` puts every `Problem` next to the field it is about.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.dashboard.campaign_form import PULSE_DEFAULTS, CampaignForm
from handlers.campaigns import Problem
from handlers.story_files import slugify

_BASIC_FIELDS = {"holidays": "holidays_country", "quiet_hours": "quiet_from"}
_STEP_FIELDS = {"key": "kind", "text": "text_nl", "pulse": "pulse_name", "ritual": "meetings"}
_CADENCE_FIELDS = {
    "weekly": "days",
    "every": "every",
    "monthly": "monthly",
    "rrule": "rrule",
    "after": "after",
}
_RULE_PROBLEMS = ("campaign.error.too_frequent", "campaign.error.rrule")
_OPTION_FIELDS = {"name": "pulse_name", "meetings": "meetings", "duration": "duration"}


def to_data(form: CampaignForm) -> dict[str, Any]:
    """The campaign's data for `handlers.campaigns.validate` (remembers each step's form row)."""
    values = form.values

    def moment(day: str, clock: str) -> str | None:
        return f"{day} {clock}".strip() if day else (clock or None)

    quiet = f"{values['quiet_from']}-{values['quiet_until']}" if values["quiet_from"] else "none"
    if values["quiet_from"] and not values["quiet_until"]:
        quiet = values["quiet_from"]  # reported as not understood, next to the field
    country = values["holidays_country"]
    data: dict[str, Any] = {
        "key": values["key"] or slugify(values["name"])[:60],
        "name": values["name"],
        "goal": values["goal"],
        "owner": values["owner"] or None,
        "audience": _audience(values),
        "timezone": values["timezone"],
        "starts": moment(values["starts"], values["starts_time"]) or "",
        "ends": moment(values["ends"], values["ends_time"]),
        "working_days": values["working_days"] or "—",
        "quiet_hours": quiet,
        "holidays": {
            "country": country.upper(),
            "subdivision": values["holidays_subdivision"].upper() or None,
            "on_holiday": values["on_holiday"] or "skip",
        }
        if country
        else "none",
    }
    taken = {step["key"] for step in form.steps if step["key"] and not step["remove"]}
    steps: list[dict[str, Any]] = []
    form.rows = []
    for row, step in enumerate(form.steps):
        if step["remove"] or not step["kind"]:
            continue
        if not step["key"]:
            number = len(steps) + 1
            while f"{step['kind']}-{number}" in taken:
                number += 1
            step["key"] = f"{step['kind']}-{number}"
            taken.add(step["key"])
        steps.append(_step_data(step))
        form.rows.append(row)
    data["steps"] = steps
    return data


def _audience(values: Mapping[str, Any]) -> Any:
    kind = values["audience"] or "everyone"
    if kind == "departments":
        return {"kind": kind, "names": values["audience_departments"]}
    if kind == "channels":
        return {"kind": kind, "names": values["audience_channels"]}
    return kind


def _step_data(step: dict[str, Any]) -> dict[str, Any]:
    kind, chosen = step["kind"], step["cadence"] or "weekly"
    cadence: dict[str, Any] = {"time": step["time"] or "09:00"}
    if chosen == "weekly":
        cadence["weekly"] = step["days"] or "—"
    elif chosen == "monthly":
        monthly = step["monthly"] or "1"
        cadence["monthly"] = int(monthly) if re.fullmatch(r"-?\d+", monthly) else monthly
    elif chosen == "rrule":
        cadence["rrule"] = step["rrule"]
    else:
        cadence["after"] = step["after"] or "—"
    if chosen in ("weekly", "monthly"):
        cadence["every"] = step["every"] or "1"
    data: dict[str, Any] = {"key": step["key"], "kind": kind, "cadence": cadence}
    if step["audience"] and step["audience"] != "campaign":
        data["audience"] = _audience(step)
    if kind == "story" and step["story"]:
        data["story"] = step["story"]
    texts = {locale: step[f"text_{locale}"] for locale in ("nl", "en") if step[f"text_{locale}"]}
    if kind in ("message", "snippet") and texts:
        data["text"] = texts
    if kind == "pulse" and any(step[name] != default for name, default in PULSE_DEFAULTS.items()):
        data["pulse"] = {
            "name": step["pulse_name"] or None,
            "duration": step["duration"] or "7d",
            "questions": _in_order(step["questions"], step["order"]),
            "statements": step["statements"] or "2",
            "open_question": step["open_question"],
            "baseline": {"first": "first", "always": True}.get(step["baseline"], False),
        }
    if kind == "ritual" and (not step["all_meetings"] or step["duration"]):
        data["ritual"] = {
            "meetings": "all" if step["all_meetings"] else step["meetings"],
            "duration": step["duration"] or None,
        }
    return data


def _in_order(chosen: list[str], order: str) -> list[str]:
    """The questions ticked, those the step had first in its own order (the page lists the library's)."""
    before = [name for name in order.split(",") if name]
    return sorted(chosen, key=lambda name: before.index(name) if name in before else len(before))


# --- Problems next to their fields ---------------------------------------------------------------------------
def place(form: CampaignForm, problems: list[Problem], text: Callable[[Problem], str]) -> None:
    """Put every problem next to its field (``text`` words it in the viewer's language)."""
    for problem in problems:
        name = field_of(form, problem)
        form.errors[name] = f"{form.errors[name]} {text(problem)}" if name in form.errors else text(problem)


def field_of(form: CampaignForm, problem: Problem) -> str:
    """The form field a problem is about (``steps[2].cadence.time`` → ``s2-time``)."""
    path = problem.path
    if not path:
        return "name"
    if path[0] != "steps" or len(path) < 2 or not isinstance(path[1], int):
        return _BASIC_FIELDS.get(str(path[0]), str(path[0]))
    row = form.rows[path[1]] if path[1] < len(form.rows) else path[1]
    if len(path) == 2:  # a rule about the step as a whole
        return f"s{row}-text_nl" if problem.key == "campaign.error.message_text" else f"s{row}-kind"
    part, rest = str(path[2]), [str(item) for item in path[3:]]
    if part == "cadence":
        name = next((_CADENCE_FIELDS[item] for item in rest if item in _CADENCE_FIELDS), "time")
        name = name if rest else "rrule" if problem.key in _RULE_PROBLEMS else "cadence"
    elif part in ("pulse", "ritual") and rest:
        name = _OPTION_FIELDS.get(rest[0], rest[0])
    else:
        name = _STEP_FIELDS.get(part, part)
    return f"s{row}-{name}"
