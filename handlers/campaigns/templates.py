"""Campaign templates: YAML files under ``prompts/campaigns/`` with a little Jinja for the dates.

A template is a campaign file in which ``start`` (the first day, a `date`), ``days(n)``, ``today``,
``next_monday``, ``next_month`` (its first day), ``timezone`` and ``holiday_country`` / ``holiday_region`` (the
organisation's public holidays, ``KLANTPET_PUBLIC_HOLIDAYS``; ``null`` for none) may be used, e.g. ``ends: "{{ start + days(4) }}"``. Rendering it gives
an ordinary campaign file, validated like any other.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from jinja2 import Environment, StrictUndefined, TemplateError

from bot.errors import NotFound
from bot.i18n import PROMPTS
from handlers.campaigns.files import load_yaml
from handlers.campaigns.problems import Problem, SpecInvalid
from handlers.campaigns.spec import CampaignSpec

TEMPLATES = PROMPTS / "campaigns"
_ENVIRONMENT = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def names() -> list[str]:
    return sorted(path.stem for path in TEMPLATES.glob("*.yaml"))


def render(name: str, now: datetime, timezone: str, start: date | None = None, holidays: str = "NL") -> str:
    """The template ``name`` as a campaign file (raises `NotFound` for an unknown template)."""
    path = TEMPLATES / f"{name.strip().lower()}.yaml"
    if name.strip().lower() not in names():
        raise NotFound("campaign.error.unknown_template", given=name, known=", ".join(names()))
    today = now.astimezone(ZoneInfo(timezone)).date()
    next_monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    country, _, region = holidays.strip().partition("-")
    country = "null" if country.lower() in ("", "none") else country.upper()
    try:
        return _ENVIRONMENT.from_string(path.read_text(encoding="utf-8")).render(
            start=start,
            today=today,
            next_monday=next_monday,
            next_month=next_month,
            timezone=timezone,
            holiday_country=country,
            holiday_region=region.upper() if region and country != "null" else "null",
            days=lambda count: timedelta(days=count),
        )
    except TemplateError as error:
        raise SpecInvalid([Problem((), "campaign.error.yaml", {"reason": str(error)})]) from None


def load(
    name: str, now: datetime, timezone: str, start: date | None = None, holidays: str = "NL"
) -> CampaignSpec:
    """The template ``name`` as a campaign (``holidays``: the organisation's public holidays setting)."""
    return load_yaml(render(name, now, timezone, start, holidays), holidays=holidays)
