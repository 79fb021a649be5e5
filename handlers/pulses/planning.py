"""Planning a round in chat: ``pulse new`` with options (English or Dutch names) or through its form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.commands import ParsedCommand
from bot.context import Context
from bot.errors import InvalidInput
from bot.messages import Field_, Form, Message
from handlers.pulses import timewindows
from handlers.pulses.audience import Audience
from handlers.pulses.cards import moment_text
from handlers.pulses.rounds import RoundSpec, create_round, open_round
from handlers.pulses.routes import router
from storage.models import Role

# Dutch spellings of the options of `pulse new` (the English ones always work).
OPTION_SYNONYMS = {
    "naam": "name",
    "afdelingen": "departments",
    "afdeling": "departments",
    "kanalen": "channels",
    "kanaal": "channels",
    "opent": "opens",
    "start": "opens",
    "dagen": "days",
    "duur": "duration",
    "herhaling": "recurrence",
    "vragen": "questions",
    "stellingen": "likert",
    "zonder-open": "no-open",
    "venster": "window",
    "willekeurig": "random",
    "herinneringen": "reminders",
    "stil": "quiet",
    "nulmeting": "baseline",
}
NEW_FORM = "pulse.new"


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip().lstrip("#") for part in text.split(",") if part.strip())


def whole_number(text: str, key: str) -> int:
    """``text`` as an integer, or `InvalidInput` with ``key``."""
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(key, given=text) from None


def spec_from_options(options: Mapping[str, str], timezone: str) -> RoundSpec:
    """A `RoundSpec` from ``pulse new`` options (English or Dutch names)."""
    given = {OPTION_SYNONYMS.get(name, name): value for name, value in options.items()}
    known = {
        "name",
        "departments",
        "channels",
        "opens",
        "days",
        "duration",
        "recurrence",
        "questions",
        "likert",
        "no-open",
        "window",
        "random",
        "reminders",
        "quiet",
        "baseline",
    }
    unknown = sorted(set(given) - known)
    if unknown:
        raise InvalidInput("pulse.error.unknown_option", given=", ".join(f"--{name}" for name in unknown))
    audience = Audience()
    if given.get("departments"):
        audience = Audience("departments", _names(given["departments"]))
    elif given.get("channels"):
        audience = Audience("channels", _names(given["channels"]))
    duration = timewindows.parse_duration(given["duration"]) if given.get("duration") else 7 * 24 * 60
    if given.get("days"):
        duration = whole_number(given["days"], "pulse.error.duration") * 24 * 60
    reminders: tuple[int, ...] | None = None
    if "reminders" in given:
        text = given["reminders"].strip().lower()
        reminders = (
            ()
            if text in ("", "none", "geen", "0")
            else tuple(timewindows.parse_duration(p) for p in _names(text))
        )
    return RoundSpec(
        name=given.get("name") or None,
        audience=audience,
        opens_at=timewindows.parse_local(given["opens"], timezone) if given.get("opens") else None,
        duration_minutes=duration,
        recurrence=timewindows.parse_recurrence(given.get("recurrence")),
        question_ids=_names(given.get("questions", "")),
        likert_count=whole_number(given["likert"], "pulse.error.likert_count") if given.get("likert") else 2,
        include_open="no-open" not in given,
        send_window_minutes=timewindows.parse_duration(given["window"]) if given.get("window") else 0,
        randomise="random" in given,
        reminder_minutes=reminders,
        quiet_hours=timewindows.parse_quiet_hours(given["quiet"])
        if given.get("quiet")
        else ("20:00", "08:00"),
        baseline="baseline" in given,
        timezone=timezone,
    )


async def _create(ctx: Context, spec: RoundSpec) -> None:
    """Create the round, confirm it, then open it when its time has come (so the confirmation comes first)."""
    pulse_round = await create_round(ctx, spec, ctx.member, open_now=False)
    zone = ctx.timezone_of(ctx.member)
    await ctx.reply(
        ctx.message(
            "pulse.created",
            id=pulse_round.id,
            name=pulse_round.name,
            opens=moment_text(ctx, ctx.locale, pulse_round.opens_at, zone),
            closes=moment_text(ctx, ctx.locale, pulse_round.closes_at, zone),
            questions=len(pulse_round.question_ids),
            reminders=len(pulse_round.reminder_minutes),
            recurrence=ctx.t(f"pulse.recurrence.{pulse_round.recurrence or 'none'}"),
            baseline=pulse_round.baseline,
        )
    )
    if pulse_round.opens_at <= ctx.now():
        await open_round(ctx, pulse_round, ctx.now())


@router.command("pulse new", role=Role.cx_manager, help_key="pulse.help.new")
async def new_round(ctx: Context, command: ParsedCommand) -> None:
    if not command.options and not command.args:
        await ctx.reply(_new_form(ctx))
        return
    if command.args:
        raise InvalidInput("pulse.error.usage_new")
    spec = spec_from_options(command.options, ctx.timezone_of(ctx.member))
    await _create(ctx, spec)


def _new_form(ctx: Context) -> Message:
    recurrences = tuple(
        (value, ctx.t(f"pulse.recurrence.{value}")) for value in ("none", "weekly", "biweekly", "monthly")
    )
    yes_no = (("no", ctx.t("pulse.form.no")), ("yes", ctx.t("pulse.form.yes")))
    return Message(
        blocks=(
            Form(
                action=NEW_FORM,
                title=ctx.t("pulse.form.title"),
                fields=(
                    Field_(name="name", label=ctx.t("pulse.form.name"), required=False, max_length=120),
                    Field_(
                        name="departments",
                        label=ctx.t("pulse.form.departments"),
                        required=False,
                        placeholder=ctx.t("pulse.form.departments_placeholder"),
                    ),
                    Field_(
                        name="opens",
                        label=ctx.t("pulse.form.opens"),
                        required=False,
                        placeholder="2026-12-01 09:00",
                    ),
                    Field_(name="days", label=ctx.t("pulse.form.days"), value="7", max_length=3),
                    Field_(
                        name="recurrence",
                        label=ctx.t("pulse.form.recurrence"),
                        style="select",
                        options=recurrences,
                        value="none",
                    ),
                    Field_(
                        name="baseline",
                        label=ctx.t("pulse.form.baseline"),
                        style="select",
                        options=yes_no,
                        value="no",
                    ),
                ),
                submit_label=ctx.t("pulse.form.submit"),
            ),
        ),
        key="pulse.form.title",
    )


@router.form(NEW_FORM, role=Role.cx_manager)
async def new_round_form(ctx: Context, submission: Any) -> None:
    fields = {name: value.strip() for name, value in submission.fields.items()}
    options: dict[str, str] = {"days": fields.get("days") or "7"}
    for name in ("name", "departments", "opens"):
        if fields.get(name):
            options[name] = fields[name]
    if fields.get("recurrence") and fields["recurrence"] != "none":
        options["recurrence"] = fields["recurrence"]
    if fields.get("baseline") == "yes":
        options["baseline"] = ""
    spec = spec_from_options(options, ctx.timezone_of(ctx.member))
    await _create(ctx, spec)
