"""Campaign files: every problem reported with its line, nothing applied on error, the same file twice
changes nothing, a dry run shows what would change, and the templates are valid campaigns."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from textwrap import dedent

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.i18n import Catalog
from handlers.campaigns import SpecInvalid, load_yaml, templates
from handlers.campaigns.files import dump_yaml
from storage.models import Role
from storage.repositories import Repos
from tests.handlers.campaigns.factories import WINTER
from tests.harness import Chat

catalog = Catalog()

BROKEN = dedent(
    """\
    key: Winter Weeks
    name: Winterweken
    timezone: Europe/Amsterdm
    starts: 2026-11-23
    quiet_hours: "20:00-09:00"
    steps:
      - key: friday
        kind: message
        cadence: {weekly: [FR, XX], time: "25:00"}
        text: Hallo
      - kind: story
        colour: blue
        cadence:
          rrule: "FREQ=MINUTELY"
      - kind: pulse
        cadence: {monthly: 1MO}
        pulse:
          duration: 10m
    """
)


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(SpecInvalid) as raised:
        load_yaml(text)
    return [(p.line, p.where, catalog.t("en", p.key, **p.params)) for p in raised.value.problems]


def test_every_problem_is_reported_with_its_line() -> None:
    found = problems(BROKEN)
    assert (
        1,
        "key",
        "“Winter Weeks” can't be a key: use 3 to 60 lower-case letters, digits and dashes.",
    ) in found
    assert (
        3,
        "timezone",
        "I don't know the time zone “Europe/Amsterdm”. Write e.g. Europe/Amsterdam.",
    ) in found
    assert (
        9,
        "steps[1].cadence.weekly",
        "I don't understand these days: XX. Write e.g. MO, TU or mon-fri.",
    ) in found
    assert (9, "steps[1].cadence.time", "I don't understand “25:00” as a time. Write e.g. 09:30.") in found
    assert (12, "steps[2].colour", "I don't know the field ‘colour’.") in found
    assert (
        13,
        "steps[2].cadence",
        "More often than once a day isn't possible: that would be a flood.",
    ) in found
    assert (
        18,
        "steps[3].pulse.duration",
        "I don't understand the duration “10m”. Write e.g. 12h, 3d or 1w (at least an hour).",
    ) in found
    assert [line for line, _, _ in found] == sorted(line or 0 for line, _, _ in found)


def test_broken_yaml_and_rules_across_fields_name_their_line() -> None:
    assert problems("key: x\nname: [unclosed\n")[0][0] == 3
    journey = WINTER.replace("starts: 2026-11-23", "starts: 2026-11-23\naudience: new_joiners")
    assert (
        14,
        "steps[1].cadence",
        "Step “friday” is for new joiners: say how long after they start (after: 1w).",
    ) in [(line, where, text) for line, where, text in problems(journey)]
    assert problems("- just\n- a list\n")[0][2].startswith("This file doesn't describe a campaign")


def test_an_own_rule_sends_at_most_once_a_day() -> None:
    def rule(text: str) -> list[str]:
        step = f'steps:\n  - kind: message\n    text: Hallo\n    cadence: {{rrule: "{text}"}}\n'
        try:
            load_yaml(f"key: rules\nname: Regels\nstarts: 2026-11-23\n{step}")
        except SpecInvalid as invalid:
            return [catalog.t("en", p.key, **p.params) for p in invalid.problems]
        return []

    flood = "More often than once a day isn't possible: that would be a flood."
    assert rule("FREQ=DAILY;BYHOUR=1,2,3,4,5,6,7,8,9,10,11,12") == [flood]
    assert rule("FREQ=WEEKLY;BYDAY=MO;BYHOUR=7,21") == [flood]
    assert rule("FREQ=DAILY;BYMINUTE=0,30") == [flood]
    assert rule("FREQ=HOURLY") == [flood]
    assert rule("FREQ=DAILY;COUNT=0") == ["“FREQ=DAILY;COUNT=0” is not a usable RRULE."]
    assert rule("FREQ=DAILY;INTERVAL=2") == []
    assert rule("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=2;BYHOUR=10") == []


def test_the_templates_are_valid_campaigns() -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    klantweek = templates.load("klantweek", now, "Europe/Amsterdam")
    assert (klantweek.key, klantweek.starts, klantweek.ends) == (
        "klantweek-2026-11-30",
        "2026-11-30",
        "2026-12-04",
    )
    assert {step.kind for step in klantweek.steps} == {"message", "story", "ritual", "snippet", "pulse"}
    onboarding = templates.load("onboarding", now, "Europe/Amsterdam")
    assert onboarding.audience.kind == "new_joiners"
    assert [step.cadence.after for step in onboarding.steps] == ["0d", "7d", "28d", "28d"]
    enps = templates.load("enps", now, "Europe/Amsterdam")
    assert enps.starts == "2026-12-01" and enps.steps[0].pulse is not None
    assert enps.steps[0].pulse.baseline == "first"
    assert load_yaml(dump_yaml(klantweek)).fingerprint() == klantweek.fingerprint()


def test_the_organisations_public_holidays_are_the_default() -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    bavarian = templates.load("klantweek", now, "Europe/Berlin", holidays="DE-BY").holidays
    assert (bavarian.country, bavarian.subdivision, bavarian.on_holiday) == ("DE", "BY", "next_working_day")
    assert templates.load("enps", now, "Europe/Amsterdam", holidays="none").holidays.country is None
    without = WINTER.replace("holidays:\n  country: NL\n", "")
    assert "holidays" not in without
    assert load_yaml(without, holidays="BE").holidays.country == "BE"
    assert load_yaml(WINTER, holidays="BE").holidays.country == "NL"  # a file that says so keeps its own


async def klantpet(tmp_path: Path, database_url: str, *args: str) -> Result:
    env = {
        "KLANTPET_DATABASE_URL": database_url,
        "KLANTPET_DATA_DIR": str(tmp_path / "cli"),
        "KLANTPET_DEMO": "false",
        "KLANTPET_LOG_FORMAT": "text",
    }
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def campaigns(chat: Chat) -> list[str]:
    async with chat.services.database.transaction() as session:
        return [campaign.key for campaign in await Repos(session).campaigns.all()]


async def test_cli_apply_is_idempotent_and_has_a_dry_run(
    chat: Chat, tmp_path: Path, database_url: str
) -> None:
    await chat.member("Anna de Vries")
    file = tmp_path / "winter.yaml"
    file.write_text(WINTER, encoding="utf-8")

    dry = await klantpet(tmp_path, database_url, "campaign", "apply", str(file), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Would be created: winter (Winterweken)" in dry.output
    assert "steps.friday: — →" in dry.output and "Next sends:" in dry.output
    assert await campaigns(chat) == []

    first = await klantpet(tmp_path, database_url, "campaign", "apply", str(file))
    assert first.exit_code == 0 and "created: winter" in first.output
    second = await klantpet(tmp_path, database_url, "campaign", "apply", str(file))
    assert second.exit_code == 0 and second.output.strip() == "unchanged: winter (Winterweken)"

    file.write_text(WINTER.replace('time: "08:00"', 'time: "10:00"'), encoding="utf-8")
    changed = await klantpet(tmp_path, database_url, "campaign", "apply", str(file), "--dry-run")
    assert "Would be updated: winter" in changed.output and '"time": "10:00"' in changed.output
    listed = await klantpet(tmp_path, database_url, "campaign", "list")
    assert listed.output.startswith("winter\tactive\t2026-11-23\t2027-01-17\tWinterweken")
    exported = await klantpet(tmp_path, database_url, "campaign", "export", "winter")
    assert load_yaml(exported.output).key == "winter"


async def test_cli_reports_problems_by_line_and_changes_nothing(
    chat: Chat, tmp_path: Path, database_url: str
) -> None:
    file = tmp_path / "broken.yaml"
    file.write_text(BROKEN, encoding="utf-8")
    result = await klantpet(tmp_path, database_url, "campaign", "apply", str(file))
    assert result.exit_code == 1
    assert "broken.yaml:3: timezone: I don't know the time zone “Europe/Amsterdm”." in result.output
    assert "broken.yaml:12: steps[2].colour: I don't know the field ‘colour’." in result.output

    unknown = WINTER.replace("starts: 2026-11-23", "starts: 2026-11-23\naudience: {departments: [Verkoop]}")
    file.write_text(unknown, encoding="utf-8")
    result = await klantpet(tmp_path, database_url, "campaign", "apply", str(file))
    assert result.exit_code == 1
    assert "broken.yaml:6: audience: I don't know the department “Verkoop”." in result.output
    assert await campaigns(chat) == []


async def test_cli_applies_a_template_and_pauses_it(chat: Chat, tmp_path: Path, database_url: str) -> None:
    await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    applied = await klantpet(
        tmp_path, database_url, "campaign", "apply", "--template", "klantweek", "--starts", "2030-03-04"
    )
    assert applied.exit_code == 0, applied.output
    assert "created: klantweek-2030-03-04 (Klantweek)" in applied.output
    paused = await klantpet(tmp_path, database_url, "campaign", "pause", "klantweek-2030-03-04")
    assert paused.output.strip() == "klantweek-2030-03-04: paused"
    again = await klantpet(tmp_path, database_url, "campaign", "pause", "klantweek-2030-03-04")
    assert again.exit_code == 1 and "isn't running (now: paused)" in again.output
    missing = await klantpet(tmp_path, database_url, "campaign", "preview", "nope")
    assert missing.exit_code == 1 and "I don't know a campaign “nope”" in missing.output
