"""What the dashboard's campaign form offers to choose from, and the campaign preview as the page shows it.

Every list holds what exists (departments, channels, approved stories, pulse questions, meetings, CX managers
and admins as owners) plus whatever the campaign already names, so editing never drops a value silently: a
name that no longer exists stays selected and the campaigns feature reports it next to its field.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import holidays

from bot.context import JobContext
from bot.dashboard.campaign_form import CampaignForm
from bot.dashboard.display import local
from bot.recurrence import WEEKDAYS
from handlers.campaigns import CampaignSpec, preview
from handlers.campaigns.spec import STEP_KINDS
from handlers.pulses.library import all_questions
from storage.models import Role
from storage.models.campaigns import Campaign

PREVIEW_COUNT = 5
"""Sends shown per audience."""
CADENCES = ("weekly", "monthly", "rrule", "after")
AUDIENCES = ("everyone", "departments", "channels", "new_joiners")
ORDINALS = (1, 2, 3, 4, -1)
TIMEZONES = sorted(available_timezones())
LABELS = {
    "key": "campaign.form.key",
    "goal": "campaign.form.goal",
    "owner": "campaign.form.owner",
    "audience": "campaign.form.audience",
    "audience_departments": "dashboard.campaigns.departments",
    "audience_channels": "dashboard.campaigns.channels",
    "timezone": "campaign.form.timezone",
    "starts": "dashboard.campaigns.starts",
    "ends": "dashboard.campaigns.ends",
    "working_days": "campaign.form.working_days",
    "quiet_from": "campaign.form.quiet_hours",
    "holidays_country": "dashboard.campaigns.holidays_country",
    "on_holiday": "campaign.form.on_holiday",
    "steps": "dashboard.campaigns.steps",
    "kind": "campaign.form.kind",
    "cadence": "campaign.form.cadence",
    "time": "campaign.form.time",
    "every": "campaign.form.every",
    "days": "campaign.form.days",
    "monthly": "campaign.form.monthly",
    "rrule": "campaign.form.rrule",
    "after": "campaign.form.after",
    "story": "dashboard.campaigns.story",
    "text_nl": "dashboard.campaigns.text_nl",
    "pulse_name": "campaign.form.pulse_name",
    "baseline": "campaign.form.baseline",
    "statements": "dashboard.campaigns.statements",
    "questions": "dashboard.campaigns.questions",
    "meetings": "dashboard.campaigns.meetings",
    "duration": "campaign.form.duration",
}
"""The label of each field a problem can be about (for the list of problems above the form)."""
COUNTRIES = sorted(code for code in holidays.list_supported_countries() if len(code) == 2)


def _named(wanted: list[str], in_use: list[str]) -> list[tuple[str, str]]:
    """``wanted`` followed by the names ``in_use`` it lacks (case-insensitive), each as (value, label)."""
    seen = {name.casefold() for name in wanted}
    names = wanted + sorted({name for name in in_use if name.casefold() not in seen})
    return [(name, name) for name in names]


def _in_use(form: CampaignForm, name: str) -> list[str]:
    found = list(form.values.get(name, []))
    for step in form.steps:
        found += step.get(name, [])
    return found


async def choices(
    ctx: JobContext, locale: str, form: CampaignForm, campaign: Campaign | None
) -> dict[str, Any]:
    """Everything the form's selects, checkboxes and lists offer, labelled in ``locale``."""

    def t(key: str, **params: Any) -> str:
        return ctx.t(locale, key, **params)

    days = ctx.services.catalog.choices(locale, "campaign.weekdays")
    ordinals = ctx.services.catalog.choices(locale, "campaign.ordinals")
    monthly = [(str(day), t("campaign.form.month_day", day=day)) for day in range(1, 29)]
    monthly.append(("-1", t("campaign.form.month_last")))
    monthly += [
        (f"{number}{code}", f"{ordinals[number - 1 if number > 0 else 5]} {days[index]}")
        for number in ORDINALS
        for index, code in enumerate(WEEKDAYS)
    ]
    offered = {value for value, _ in monthly}
    monthly += [(step["monthly"], step["monthly"]) for step in form.steps if step["monthly"] not in offered]
    stories = {
        story.slug: story.title for story in await ctx.repo.stories.approved(ctx.settings.default_locale)
    }
    for step in form.steps:
        if step["story"] and step["story"] not in stories:
            stories[step["story"]] = step["story"]
    library = await all_questions(ctx.repo.pulses)
    questions = [(key, question.text.get(locale) or key) for key, question in library.items()]
    questions += [(key, key) for key in sorted(set(_in_use(form, "questions")) - set(library))]
    owners = {
        member.id: member.name
        for role in (Role.cx_manager, Role.admin)
        for member in await ctx.repo.members.with_role(role)
    }
    if campaign is not None and campaign.owner_member_id and campaign.owner_member_id not in owners:
        current = await ctx.repo.members.get(campaign.owner_member_id)
        owners[campaign.owner_member_id] = (
            current.name if current is not None else f"#{campaign.owner_member_id}"
        )
    return {
        "kinds": [(kind, t(f"campaign.kinds.{kind}")) for kind in STEP_KINDS],
        "cadences": [(cadence, t(f"campaign.form.cadences.{cadence}")) for cadence in CADENCES],
        "audiences": [(audience, t(f"campaign.form.audiences.{audience}")) for audience in AUDIENCES],
        "weekdays": list(zip(WEEKDAYS, days, strict=True)),
        "monthly": monthly,
        "baselines": [(value, t(f"campaign.form.baselines.{value}")) for value in ("no", "first", "always")],
        "on_holiday": [(value, t(f"campaign.on_holiday.{value}")) for value in ("skip", "next_working_day")],
        "departments": _named(
            [department.name for department in await ctx.repo.members.departments()],
            _in_use(form, "audience_departments"),
        ),
        "channels": _named(
            [channel.name for channel in await ctx.repo.channels.all()], _in_use(form, "audience_channels")
        ),
        "labels": LABELS,
        "stories": sorted(stories.items(), key=lambda item: item[1].casefold()),
        "questions": questions,
        "meetings": _named(
            [meeting.name for meeting in await ctx.repo.ritual.meetings()], _in_use(form, "meetings")
        ),
        "owners": sorted(((f"#{key}", name) for key, name in owners.items()), key=lambda item: item[1]),
        "timezones": TIMEZONES,
        "countries": COUNTRIES,
    }


async def preview_groups(
    ctx: JobContext, locale: str, campaign: Campaign, spec: CampaignSpec
) -> list[dict[str, Any]]:
    """The campaigns feature's preview of ``spec``: per audience the next sends, each at its local time in
    the audience's time zone, with the exact text in the audience's language."""
    days = ctx.services.catalog.choices(locale, "campaign.weekdays")
    groups = []
    for group in await preview(ctx, campaign, PREVIEW_COUNT, locale, spec):
        sends = []
        for send in group.sends:
            moment = send.at.astimezone(ZoneInfo(send.timezone)) if send.at else None
            sends.append(
                {
                    "at": send.at,
                    "when": f"{days[moment.weekday()]} {local(send.at, send.timezone, locale)}"
                    if moment
                    else "—",
                    "timezone": send.timezone,
                    "step": send.step_key,
                    "kind": ctx.t(locale, f"campaign.kinds.{send.kind}") if send.kind else "",
                    "text": " ".join(send.text.split()),
                }
            )
        groups.append({"label": group.label, "size": group.size, "sends": sends})
    return groups
