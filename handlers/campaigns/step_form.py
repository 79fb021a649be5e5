"""The guided form for one step of a campaign (chat): what, how often and when, and what goes with the kind;
turned into a step's data, with each problem next to its field."""

from __future__ import annotations

import re
from typing import Any

from bot.context import Context
from bot.messages import Form, Message, Text
from handlers.campaigns.forms import errors_by_field, form_field, labelled, parse_days
from handlers.campaigns.problems import Problem
from handlers.campaigns.spec import StepSpec

STEP = "campaign.step"
STEP_FIELDS = (
    "kind",
    "cadence",
    "days",
    "every",
    "monthly",
    "rrule",
    "after",
    "time",
    "text",
    "story",
    "audience",
    "audience_names",
    "pulse_name",
    "duration",
    "baseline",
)
_STEP_PATHS = {
    "weekly": "days",
    "every": "every",
    "monthly": "monthly",
    "rrule": "rrule",
    "after": "after",
    "time": "time",
    "text": "text",
    "story": "story",
    "audience": "audience_names",
    "pulse": "duration",
    "ritual": "duration",
    "name": "pulse_name",
}


def step_values(step: StepSpec | None) -> dict[str, str]:
    return (
        {
            "kind": "story",
            "cadence": "weekly",
            "days": "MO",
            "every": "1",
            "time": "09:00",
            "audience": "campaign",
            "baseline": "no",
        }
        if step is None
        else {}
    )


def step_form(ctx: Context, values: dict[str, str], errors: dict[str, str], campaign_id: int) -> Message:
    kinds = labelled(ctx, "campaign.kinds", ("story", "message", "pulse", "ritual", "snippet"))
    cadences = labelled(ctx, "campaign.form.cadences", ("weekly", "monthly", "rrule", "after"))
    audiences = labelled(
        ctx, "campaign.form.audiences", ("campaign", "everyone", "departments", "channels", "new_joiners")
    )
    baselines = labelled(ctx, "campaign.form.baselines", ("no", "first", "always"))
    fields = (
        form_field(ctx, "kind", values.get("kind", "story"), style="select", options=kinds, required=True),
        form_field(
            ctx, "cadence", values.get("cadence", "weekly"), style="select", options=cadences, required=True
        ),
        form_field(ctx, "days", values.get("days", "")),
        form_field(ctx, "every", values.get("every", "1"), max_length=2),
        form_field(ctx, "monthly", values.get("monthly", ""), max_length=4),
        form_field(ctx, "rrule", values.get("rrule", ""), max_length=200),
        form_field(ctx, "after", values.get("after", ""), max_length=5),
        form_field(ctx, "time", values.get("time", "09:00"), max_length=5, required=True),
        form_field(ctx, "text", values.get("text", ""), style="textarea", max_length=3000),
        form_field(ctx, "story", values.get("story", ""), max_length=120),
        form_field(ctx, "audience", values.get("audience", "campaign"), style="select", options=audiences),
        form_field(ctx, "audience_names", values.get("audience_names", "")),
        form_field(ctx, "pulse_name", values.get("pulse_name", ""), max_length=120),
        form_field(ctx, "duration", values.get("duration", ""), max_length=5),
        form_field(ctx, "baseline", values.get("baseline", "no"), style="select", options=baselines),
    )
    form = Form(
        action=STEP,
        title=ctx.t("campaign.form.step_title"),
        fields=fields,
        submit_label=ctx.t("campaign.form.step_submit"),
        payload={"campaign": campaign_id},
        errors=errors,
    )
    return Message(
        blocks=(Text(text=ctx.t("campaign.form.step_intro")), form), key="campaign.form.step_title"
    )


def step_data(fields: dict[str, str], key: str) -> dict[str, Any]:
    """One step's data from the step form."""

    def get(name: str) -> str:
        return fields.get(name, "").strip()

    kind = get("kind") or "story"
    cadence: dict[str, Any] = {"time": get("time") or "09:00"}
    chosen = get("cadence") or "weekly"
    if chosen == "weekly":
        cadence["weekly"] = parse_days(get("days") or "MO")
    elif chosen == "monthly":
        monthly = get("monthly") or "1"
        cadence["monthly"] = int(monthly) if re.fullmatch(r"-?\d+", monthly) else monthly
    elif chosen == "rrule":
        cadence["rrule"] = get("rrule")
    else:
        cadence["after"] = get("after") or "0d"
    if chosen in ("weekly", "monthly") and get("every"):
        cadence["every"] = get("every")
    step: dict[str, Any] = {"key": key, "kind": kind, "cadence": cadence}
    if get("text") and kind in ("message", "snippet"):
        step["text"] = get("text")
    if get("story") and kind == "story":
        step["story"] = get("story")
    audience = get("audience") or "campaign"
    if audience != "campaign":
        names = [part.strip().lstrip("#") for part in get("audience_names").split(",") if part.strip()]
        step["audience"] = {audience: names} if audience in ("departments", "channels") else audience
    if kind == "pulse":
        baseline = {"no": False, "first": "first", "always": True}.get(get("baseline"), False)
        pulse: dict[str, Any] = {"baseline": baseline}
        if get("pulse_name"):
            pulse["name"] = get("pulse_name")
        if get("duration"):
            pulse["duration"] = get("duration")
        step["pulse"] = pulse
    if kind == "ritual":
        step["ritual"] = {"meetings": "all", **({"duration": get("duration")} if get("duration") else {})}
    return step


def step_errors(ctx: Context, problems: list[Problem], index: int) -> dict[str, str]:
    def where(path: tuple[Any, ...]) -> str:
        if len(path) >= 2 and path[0] == "steps" and path[1] == index:
            for part in reversed(path[2:]):
                if str(part) in _STEP_PATHS:
                    return _STEP_PATHS[str(part)]
        return "kind"

    return errors_by_field(ctx, problems, where, STEP_FIELDS)
