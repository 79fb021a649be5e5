"""What a campaign is, validated: the shape of a campaign YAML file, a chat or dashboard form and a template.

`CampaignSpec` is the single definition; `validate(data)` makes one from plain data and raises `SpecInvalid`
listing every problem (`handlers.campaigns.problems`); `handlers.campaigns.files.load_yaml` reads a file keeping
every node's line. Cadences live in `handlers.campaigns.cadence`.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import Field, ValidationError, field_validator, model_validator

from bot.i18n import LOCALES
from handlers.campaigns.cadence import (
    Cadence,
    Strict,
    Weekdays,
    duration_minutes,
    parse_clock,
    parse_moment,
    weekdays,
)
from handlers.campaigns.problems import Path, Problem, SpecInvalid, locate, problem, problems_of

STEP_KINDS = ("story", "pulse", "ritual", "snippet", "message")
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")


def _moment_text(value: Any) -> Any:
    """YAML reads ``2026-11-30`` as a date and ``2026-11-30 09:00:00`` as a datetime: keep one spelling."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


class AudienceSpec(Strict):
    """Who a campaign (or one step) is for. In YAML: ``everyone``, ``new_joiners``,
    ``{departments: [Sales]}`` or ``{channels: [algemeen]}``."""

    kind: Literal["everyone", "departments", "channels", "new_joiners"] = "everyone"
    names: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            word = data.strip().lower().replace("-", "_").replace(" ", "_")
            if word not in ("everyone", "new_joiners"):
                raise problem("campaign.error.audience", given=data)
            return {"kind": word}
        if isinstance(data, dict) and "kind" not in data and len(data) == 1:
            kind, names = next(iter(data.items()))
            if kind not in ("departments", "channels"):
                raise problem("campaign.error.audience", given=str(kind))
            listed = names if isinstance(names, list) else str(names or "").split(",")
            return {
                "kind": kind,
                "names": [str(name).strip().lstrip("#") for name in listed if str(name).strip()],
            }
        return data

    @model_validator(mode="after")
    def _names_needed(self) -> AudienceSpec:
        if self.kind in ("departments", "channels") and not self.names:
            raise problem("campaign.error.audience_empty")
        return self

    def to_yaml(self) -> Any:
        return self.kind if self.kind in ("everyone", "new_joiners") else {self.kind: list(self.names)}


class PulseOptions(Strict):
    name: str | None = Field(None, max_length=120)
    duration: str = "7d"
    questions: tuple[str, ...] = ()
    statements: int = Field(2, ge=0, le=10)
    open_question: bool = True
    baseline: bool | Literal["first"] = False
    """``first``: the step's first round is the 0-meting the later rounds are compared with."""

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        if duration_minutes(value) < 60:
            raise problem("campaign.error.duration", given=value)
        return value

    @property
    def minutes(self) -> int:
        return duration_minutes(self.duration)


class RitualOptions(Strict):
    meetings: Literal["all"] | tuple[str, ...] = "all"
    duration: str | None = None
    """How long the ritual stays on (``5d``); none: it stays on."""

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            duration_minutes(value)
        return value


Texts = dict[str, str]


class StepSpec(Strict):
    key: str = ""
    kind: Literal["story", "pulse", "ritual", "snippet", "message"]
    cadence: Cadence
    audience: AudienceSpec | None = None
    """Overrides the campaign's audience for this step."""
    story: str | None = Field(None, max_length=120)
    """A story slug (or number); none: the next story from the library."""
    text: Texts | None = None
    """Per language (``nl``, ``en``); a plain string is used for both."""
    pulse: PulseOptions | None = None
    ritual: RitualOptions | None = None

    @field_validator("text", mode="before")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        if value is None or isinstance(value, dict):
            if isinstance(value, dict):
                unknown = [str(locale) for locale in value if locale not in LOCALES]
                if unknown:
                    raise problem("campaign.error.language", given=", ".join(unknown))
            return value
        return dict.fromkeys(LOCALES, str(value))

    @field_validator("text")
    @classmethod
    def _text_length(cls, value: Texts | None) -> Texts | None:
        if value is not None and any(not text.strip() or len(text) > 3000 for text in value.values()):
            raise problem("campaign.error.text_length", limit=3000)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StepSpec:
        if self.kind == "message" and not self.text:
            raise problem("campaign.error.message_text")
        if self.pulse is not None and self.kind != "pulse":
            raise problem("campaign.error.options_for", option="pulse", kind=self.kind)
        if self.ritual is not None and self.kind != "ritual":
            raise problem("campaign.error.options_for", option="ritual", kind=self.kind)
        if self.story is not None and self.kind != "story":
            raise problem("campaign.error.options_for", option="story", kind=self.kind)
        return self

    def text_for(self, locale: str) -> str | None:
        if not self.text:
            return None
        return self.text.get(locale) or next(iter(self.text.values()))


class HolidaySpec(Strict):
    country: str | None = "NL"
    """ISO country code for the `holidays` package; none: no public holidays."""
    subdivision: str | None = None
    on_holiday: Literal["skip", "next_working_day"] = "skip"
    """What happens to a send on a holiday or non-working day (journey steps always move)."""

    @model_validator(mode="after")
    def _known(self) -> HolidaySpec:
        if self.country is not None:
            try:
                holidays.country_holidays(self.country.upper(), subdiv=self.subdivision, years=2026)
            except NotImplementedError:
                raise problem(
                    "campaign.error.holidays", country=self.country, subdivision=self.subdivision or "—"
                ) from None
        return self


class CampaignSpec(Strict):
    key: str
    name: str = Field(min_length=1, max_length=120)
    goal: str = Field("", max_length=1000)
    owner: str | None = Field(None, max_length=200)
    """A member's name or ``#id``; none: whoever applies it."""
    audience: AudienceSpec = Field(default_factory=AudienceSpec)
    timezone: str = "Europe/Amsterdam"
    starts: str
    ends: str | None = None
    """A day (inclusive) or a moment; none: runs until paused or archived."""
    working_days: Weekdays = Field(default_factory=lambda: ["MO", "TU", "WE", "TH", "FR"])
    quiet_hours: str | None = "20:00-08:00"
    holidays: HolidaySpec = Field(default_factory=HolidaySpec)
    steps: list[StepSpec] = Field(default_factory=list, max_length=40)
    """At least one before it can run (a chat draft may have none yet)."""

    @field_validator("key", mode="before")
    @classmethod
    def _key(cls, value: Any) -> Any:
        text = str(value).strip().lower()
        if not KEY_PATTERN.match(text):
            raise problem("campaign.error.key", given=value)
        return text

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            if len(value) > 64:  # no zone name is this long; thousands of "/" make zoneinfo recurse
                raise ValueError(value)
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise problem("campaign.error.timezone", given=value) from None
        return value

    @field_validator("starts", "ends", mode="before")
    @classmethod
    def _moments(cls, value: Any) -> Any:
        value = _moment_text(value)
        if value is not None:
            day, clock = parse_moment(str(value))
            return day.isoformat() if clock is None else f"{day.isoformat()} {clock:%H:%M}"
        return value

    @field_validator("working_days", mode="before")
    @classmethod
    def _working(cls, value: Any) -> Any:
        return weekdays(value)

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet(cls, value: Any) -> Any:
        if value is None or str(value).strip().lower() in ("", "none", "geen", "false"):
            return None
        start, sep, end = str(value).partition("-")
        if not sep:
            raise problem("campaign.error.quiet_hours", given=value)
        return f"{parse_clock(start):%H:%M}-{parse_clock(end):%H:%M}"

    @field_validator("holidays", mode="before")
    @classmethod
    def _no_holidays(cls, value: Any) -> Any:
        if value is None or value is False or str(value).strip().lower() in ("none", "geen"):
            return {"country": None}
        if isinstance(value, str):
            return {"country": value}
        return value

    @model_validator(mode="after")
    def _step_keys(self) -> CampaignSpec:
        """A step without a key is named after its kind and place (``story-2``); `rules` checks the rest."""
        for index, step in enumerate(self.steps):
            if not step.key:
                self.steps[index] = step.model_copy(update={"key": f"{step.kind}-{index + 1}"})
        return self

    # --- Derived --------------------------------------------------------------------------------------
    def audience_of(self, step: StepSpec) -> AudienceSpec:
        return step.audience or self.audience

    def step(self, key: str) -> StepSpec | None:
        return next((step for step in self.steps if step.key == key), None)

    def quiet(self) -> tuple[time, time] | None:
        if self.quiet_hours is None:
            return None
        start, _, end = self.quiet_hours.partition("-")
        return parse_clock(start), parse_clock(end)

    def canonical(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def fingerprint(self) -> str:
        """Equal for equal definitions, whatever the file's order, comments or spelling."""
        text = json.dumps(self.canonical(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def rules(spec: CampaignSpec) -> list[Problem]:
    """What involves several fields: unique step keys, journeys only for new joiners, the end after the start."""
    found: list[Problem] = []
    keys: set[str] = set()
    for index, step in enumerate(spec.steps):
        where: Path = ("steps", index)
        if not KEY_PATTERN.match(step.key) or len(step.key) > 40:
            found.append(Problem((*where, "key"), "campaign.error.step_key", {"given": step.key}))
        elif step.key in keys:
            found.append(Problem((*where, "key"), "campaign.error.step_twice", {"given": step.key}))
        keys.add(step.key)
        audience = spec.audience_of(step)
        if audience.kind == "new_joiners" and not step.cadence.relative:
            found.append(Problem((*where, "cadence"), "campaign.error.journey_cadence", {"step": step.key}))
        if audience.kind != "new_joiners" and step.cadence.relative:
            found.append(
                Problem((*where, "cadence"), "campaign.error.after_only_journeys", {"step": step.key})
            )
        if audience.kind == "new_joiners" and step.kind in ("ritual", "snippet"):
            found.append(
                Problem(
                    (*where, "kind"), "campaign.error.journey_kind", {"step": step.key, "kind": step.kind}
                )
            )
    if spec.ends is not None and parse_moment(spec.ends)[0] < parse_moment(spec.starts)[0]:
        found.append(Problem(("ends",), "campaign.error.ends_before_start"))
    return found


def holiday_default(setting: str) -> Any:
    """The organisation's holidays setting (``NL``, ``DE-BY``, ``none``) as a definition's ``holidays``."""
    country, _, region = setting.strip().partition("-")
    if country.lower() in ("", "none"):
        return "none"
    return {"country": country.upper(), "subdivision": region.upper() or None}


def validate(data: Any, lines: dict[Path, int] | None = None, *, holidays: str = "NL") -> CampaignSpec:
    """A `CampaignSpec` from plain data; raises `SpecInvalid` listing every problem with its line.
    ``holidays``: the organisation's setting, for a definition that does not say (``KLANTPET_PUBLIC_HOLIDAYS``)."""
    if not isinstance(data, dict):
        raise SpecInvalid([Problem((), "campaign.error.not_a_campaign", line=1)])
    if "holidays" not in data:
        data = {**data, "holidays": holiday_default(holidays)}
    try:
        spec = CampaignSpec.model_validate(data)
    except ValidationError as error:
        raise SpecInvalid(problems_of(error, lines)) from None
    found = rules(spec)
    if found:
        raise SpecInvalid(locate(found, lines or {}))
    return spec
