"""Absences: a participant who will not be at a meeting is skipped by the rotation.

Said ahead with ``afwezig``/``absent`` (and taken back with ``aanwezig``/``present``), or on the opening
card with "Ik ben er niet bij". When the one who is away wears the cap, it moves on to the next fair
participant; when nobody else is left, they hear so.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.commands import ParsedCommand
from bot.context import Context
from bot.errors import InvalidInput, NotAllowed, NotFound
from bot.router import Click, Router
from handlers import ritual_schedule as timing
from handlers.ritual_meeting_input import DAY_CODES
from handlers.ritual_opening import hand_over, meeting_here, open_run
from storage.models import Meeting
from storage.models.ritual import RitualRun

router = Router()
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


async def _step_aside(ctx: Context, meeting: Meeting, run: RitualRun) -> bool:
    """The absent member hands the cap on if they wear it; False when they wear it and nobody is left."""
    if run.cap_member_id != ctx.member.id:
        return True
    return await hand_over(ctx, meeting, run, ctx.member, "ritual.passed_absent")


async def _noted(ctx: Context, meetings: str, day: date, handed_over: bool) -> None:
    key = "ritual.absent_noted" if handed_over else "ritual.absent_nobody_left"
    shown = timing.format_day(ctx, ctx.locale, day)
    await ctx.reply(ctx.message(key, meetings=meetings, day=shown, name=ctx.member.name), ephemeral=True)


@router.button("ritual.absent")
async def absent_button(ctx: Context, click: Click) -> None:
    run, meeting = await open_run(ctx, click)
    if ctx.member.id not in meeting.participant_ids:
        raise NotAllowed("ritual.error.not_participant", meeting=meeting.name)
    day = timing.local_day(meeting, run.occurrence)
    await ctx.repo.ritual.add_absence(meeting.id, ctx.member.id, day, ctx.now())
    await _noted(ctx, meeting.name, day, await _step_aside(ctx, meeting, run))


def parse_day(words: tuple[str, ...], today: date) -> date:
    """``vandaag``/``today``, ``morgen``/``tomorrow``, a weekday (the next one), ``2026-12-07`` or ``7-12``.

    A day in the past is refused: an absence there would change nothing but the records."""
    text = " ".join(words).strip().lower()
    if text in ("", "vandaag", "today"):
        return today
    if text in ("morgen", "tomorrow"):
        return today + timedelta(days=1)
    if text in DAY_CODES:
        wanted = WEEKDAYS.index(DAY_CODES[text])
        return today + timedelta(days=(wanted - today.weekday()) % 7)
    try:
        if len(text) == 10:
            found = date.fromisoformat(text)
        else:
            day, _, month = text.replace("/", "-").partition("-")
            found = date(today.year, int(month), int(day))
            if found < today:
                found = date(today.year + 1, int(month), int(day))
    except ValueError:
        raise InvalidInput("ritual.error.bad_date", given=text[:40]) from None
    if found < today:
        raise InvalidInput("ritual.error.past_date", given=text[:40])
    return found


async def _my_meetings(ctx: Context) -> list[Meeting]:
    if ctx.channel is not None:
        meeting = await meeting_here(ctx)
        if ctx.member.id not in meeting.participant_ids:
            raise NotAllowed("ritual.error.not_participant", meeting=meeting.name)
        return [meeting]
    mine = [
        meeting for meeting in await ctx.repo.ritual.meetings() if ctx.member.id in meeting.participant_ids
    ]
    if not mine:
        raise NotFound("ritual.error.no_meetings_of_yours")
    return mine


def _today(ctx: Context) -> date:
    return ctx.now().astimezone(ZoneInfo(ctx.timezone_of(ctx.member))).date()


@router.command("absent", help_key="ritual.help.absent")
async def absent(ctx: Context, command: ParsedCommand) -> None:
    meetings = await _my_meetings(ctx)
    day = parse_day(command.args, _today(ctx))
    handed_over = True
    for meeting in meetings:
        await ctx.repo.ritual.add_absence(meeting.id, ctx.member.id, day, ctx.now())
        for run in await ctx.repo.ritual.recent_runs(meeting.id, 3):
            if timing.local_day(meeting, run.occurrence) == day and run.debrief_sent_at is None:
                handed_over = await _step_aside(ctx, meeting, run) and handed_over
    await _noted(ctx, ", ".join(meeting.name for meeting in meetings), day, handed_over)


@router.command("present", help_key="ritual.help.present")
async def present(ctx: Context, command: ParsedCommand) -> None:
    meetings = await _my_meetings(ctx)
    day = parse_day(command.args, _today(ctx))
    for meeting in meetings:
        await ctx.repo.ritual.remove_absence(meeting.id, ctx.member.id, day)
    names = ", ".join(meeting.name for meeting in meetings)
    await ctx.reply(
        ctx.message("ritual.present_noted", meetings=names, day=timing.format_day(ctx, ctx.locale, day)),
        ephemeral=True,
    )
