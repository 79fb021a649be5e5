"""The guided forms in chat: a campaign's basics (here) and one step at a time (`step_form`), turned into a
`CampaignSpec` and back, and the helpers both use.

Each field's problem comes back on the form next to that field, in the member's language.
"""

from __future__ import annotations

import re
from typing import Any

from bot.context import Context
from bot.messages import Field_, Form, Message, Text
from handlers.campaigns.problems import Problem
from handlers.campaigns.spec import CampaignSpec
from handlers.story_slots import WEEKDAY_WORDS

BASICS = "campaign.basics"
BASIC_FIELDS = (
    "template",
    "name",
    "key",
    "goal",
    "owner",
    "audience",
    "audience_names",
    "timezone",
    "starts",
    "ends",
    "working_days",
    "quiet_hours",
    "holidays",
    "on_holiday",
)
_ORDER = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_BASIC_PATHS = {"audience": "audience_names", "holidays": "holidays", "owner": "owner"}


def parse_days(text: str) -> list[str] | str:
    """``ma-vr``, ``ma, wo``, ``MO,TU`` → weekday codes (the text itself when it cannot be read, so the
    spec's own check reports it)."""
    days: list[str] = []
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        first, dash, last = part.partition("-")
        start, end = WEEKDAY_WORDS.get(first.lower()), WEEKDAY_WORDS.get(last.lower()) if dash else None
        if start is None or (dash and end is None):
            return text
        if dash and end is not None:
            days.extend(_ORDER[_ORDER.index(start) : _ORDER.index(end) + 1])
        else:
            days.append(start)
    return days or text


def form_field(
    ctx: Context, name: str, value: str, *, style: Any = "text", required: bool = False, **extra: Any
) -> Field_:
    """A form field labelled ``campaign.form.<name>`` (with its ``…_hint`` as placeholder, if there is one)."""
    return Field_(
        name=name,
        label=ctx.t(f"campaign.form.{name}"),
        style=style,
        required=required,
        value=value,
        placeholder=ctx.t(f"campaign.form.{name}_hint")
        if ctx.services.catalog.has(ctx.locale, f"campaign.form.{name}_hint")
        else "",
        **extra,
    )


def labelled(ctx: Context, prefix: str, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Choices as (value, ``<prefix>.<value>`` in the member's language)."""
    return tuple((value, ctx.t(f"{prefix}.{value}")) for value in values)


# --- Basics ----------------------------------------------------------------------------------------------------
def basics_values(spec: CampaignSpec | None, ctx: Context, owner: str = "") -> dict[str, str]:
    """The basics form's values: a new campaign's defaults, or ``spec`` with its ``owner``'s name."""
    if spec is None:
        return {
            "template": "none",
            "owner": owner,
            "audience": "everyone",
            "timezone": ctx.timezone_of(ctx.member),
            "working_days": "MO,TU,WE,TH,FR",
            "quiet_hours": "20:00-08:00",
            "holidays": ctx.settings.public_holidays.replace("-", "/"),
            "on_holiday": "skip",
        }
    holidays = spec.holidays.country or "none"
    if spec.holidays.country and spec.holidays.subdivision:
        holidays += f"/{spec.holidays.subdivision}"
    return {
        "name": spec.name,
        "key": spec.key,
        "goal": spec.goal,
        "owner": spec.owner or owner,
        "audience": spec.audience.kind,
        "audience_names": ", ".join(spec.audience.names),
        "timezone": spec.timezone,
        "starts": spec.starts,
        "ends": spec.ends or "",
        "working_days": ",".join(spec.working_days),
        "quiet_hours": spec.quiet_hours or "none",
        "holidays": holidays,
        "on_holiday": spec.holidays.on_holiday,
    }


def basics_form(
    ctx: Context,
    values: dict[str, str],
    errors: dict[str, str],
    campaign_id: int | None,
    templates: list[str],
) -> Message:
    fields = []
    if campaign_id is None:
        choices = (("none", ctx.t("campaign.form.no_template")), *((name, name) for name in templates))
        fields.append(
            form_field(ctx, "template", values.get("template", "none"), style="select", options=choices)
        )
        fields.append(form_field(ctx, "name", values.get("name", "")))
        fields.append(form_field(ctx, "key", values.get("key", ""), max_length=60))
    else:
        fields.append(form_field(ctx, "name", values.get("name", ""), required=True))
    audiences = labelled(
        ctx, "campaign.form.audiences", ("everyone", "departments", "channels", "new_joiners")
    )
    fields += [
        form_field(ctx, "goal", values.get("goal", ""), style="textarea", max_length=1000),
        form_field(ctx, "owner", values.get("owner", ""), max_length=200),
        form_field(ctx, "audience", values.get("audience", "everyone"), style="select", options=audiences),
        form_field(ctx, "audience_names", values.get("audience_names", "")),
        form_field(ctx, "timezone", values.get("timezone", "")),
        form_field(ctx, "starts", values.get("starts", "")),
        form_field(ctx, "ends", values.get("ends", "")),
        form_field(ctx, "working_days", values.get("working_days", "")),
        form_field(ctx, "quiet_hours", values.get("quiet_hours", "")),
        form_field(ctx, "holidays", values.get("holidays", "")),
        form_field(
            ctx,
            "on_holiday",
            values.get("on_holiday", "skip"),
            style="select",
            options=labelled(ctx, "campaign.on_holiday", ("skip", "next_working_day")),
        ),
    ]
    form = Form(
        action=BASICS,
        title=ctx.t("campaign.form.title_edit" if campaign_id else "campaign.form.title"),
        fields=tuple(fields),
        submit_label=ctx.t("campaign.form.submit"),
        payload={"campaign": campaign_id} if campaign_id else {},
        errors=errors,
    )
    return Message(blocks=(Text(text=ctx.t("campaign.form.intro")), form), key="campaign.form.title")


def basics_data(fields: dict[str, str], base: dict[str, Any]) -> dict[str, Any]:
    """The campaign's data with the basics form applied (``base``: the campaign or template so far)."""
    data = dict(base)
    for name in ("name", "key", "goal", "timezone", "starts", "ends", "quiet_hours"):
        value = fields.get(name, "").strip()
        if value or name in ("goal", "ends"):
            data[name] = value or None if name == "ends" else value
    if "owner" in fields:  # empty: the campaign keeps its owner (a new one: whoever saves it)
        data["owner"] = fields["owner"].strip() or None
    kind = fields.get("audience", "everyone")
    names = [part.strip().lstrip("#") for part in fields.get("audience_names", "").split(",") if part.strip()]
    data["audience"] = {kind: names} if kind in ("departments", "channels") else kind
    if fields.get("working_days", "").strip():
        data["working_days"] = parse_days(fields["working_days"])
    holidays = fields.get("holidays", "").strip()
    if holidays:
        country, _, subdivision = holidays.partition("/")
        data["holidays"] = (
            "none"
            if country.lower() in ("none", "geen")
            else {
                "country": country.strip().upper(),
                "subdivision": subdivision.strip().upper() or None,
                "on_holiday": fields.get("on_holiday") or "skip",
            }
        )
    return data


def basics_errors(ctx: Context, problems: list[Problem]) -> dict[str, str]:
    return errors_by_field(
        ctx,
        problems,
        lambda path: _BASIC_PATHS.get(str(path[0]), str(path[0])) if path else "name",
        BASIC_FIELDS,
    )


def errors_by_field(
    ctx: Context, problems: list[Problem], where: Any, fields: tuple[str, ...]
) -> dict[str, str]:
    """Every problem worded next to the field ``where(path)`` names (an unknown one: the second field)."""
    found: dict[str, str] = {}
    for problem in problems:
        name = where(problem.path)
        name = name if name in fields else fields[1]
        text = ctx.t(problem.key, **problem.params)
        found[name] = f"{found[name]} {text}" if name in found else text
    return found
