"""The debrief: at the meeting's end the cap wearer is asked (by DM) whether a silo conflict surfaced.

"No" gets thanks (and room for a customer moment, shared in the weekly digest); "yes" gets the conflict
form of `handlers.ritual_conflicts`, whose answer becomes an entry in the silo-conflict register.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.commands import ParsedCommand
from bot.context import Context, JobContext
from bot.errors import NotFound
from bot.messages import Button, Buttons, Field_, Form, Message, Text
from bot.router import Click, Router, Submission
from handlers import ritual_schedule as timing
from handlers.ritual_conflicts import TEXT_LIMITS, conflict_form, my_run, text_error, unanswered
from handlers.ritual_opening import meeting_here
from storage.models import Meeting, Schedule
from storage.models.ritual import DebriefAnswer, RitualRun

router = Router()
log = logging.getLogger(__name__)


async def send_debrief(ctx: JobContext, meeting: Meeting, run: RitualRun) -> bool:
    """Ask the cap wearer how it went (once per run). A wearer the bot cannot reach is not counted as
    asked: the run stays without a debrief, and the next debrief of the day tries again."""
    wearer = await ctx.repo.members.get(run.cap_member_id) if run.cap_member_id else None
    if run.debrief_sent_at is not None or wearer is None:
        return False
    if await ctx.services.dm_route(ctx.repo, wearer) is None:
        log.info("ritual debrief not sent: the wearer has no platform", extra={"run_id": run.id})
        return False
    run.debrief_sent_at = ctx.now()
    locale = ctx.locale_of(wearer)
    payload = {"run": run.id}
    message = Message(
        blocks=(
            Text(text=ctx.t(locale, "ritual.debrief", name=wearer.name.split()[0], meeting=meeting.name)),
            Buttons(
                buttons=(
                    Button(
                        label=ctx.t(locale, "ritual.button_yes"), action="ritual.debrief_yes", payload=payload
                    ),
                    Button(
                        label=ctx.t(locale, "ritual.button_no"), action="ritual.debrief_no", payload=payload
                    ),
                )
            ),
        ),
        key="ritual.debrief",
    )
    return await ctx.dm(wearer, message, key=f"ritual:debrief:{run.id}", topic="ritual")


async def debrief_ended(ctx: JobContext, meeting: Meeting, now: datetime) -> int:
    """Debrief every run of the meeting that has ended without one; returns how many were sent."""
    ended = now - timedelta(minutes=meeting.duration_minutes)
    sent = 0
    for run in await ctx.repo.ritual.runs_awaiting_debrief(meeting.id, ended):
        sent += await send_debrief(ctx, meeting, run)
    return sent


@router.schedule(timing.DEBRIEF)
async def scheduled_debrief(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    meeting = await ctx.repo.ritual.meeting(int(schedule.ref))
    if meeting is not None:
        await debrief_ended(ctx, meeting, fire_time)


@router.schedule(timing.DEBRIEF_AD_HOC)
async def ad_hoc_debrief(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    await scheduled_debrief(ctx, schedule, fire_time)


async def debrief_now(ctx: JobContext, meeting: Meeting) -> RitualRun | None:
    """End the ritual going on now (``pet end``, a meeting-end event): the debrief goes out at once."""
    now = ctx.now()
    for run in await ctx.repo.ritual.recent_runs(meeting.id, 3):
        if run.debrief_sent_at is None and run.occurrence - timing.EARLY_START <= now:
            await send_debrief(ctx, meeting, run)
            return run
    return None


@router.command("pet end", help_key="ritual.help.pet_end", bare=True)
async def end_ritual(ctx: Context, command: ParsedCommand) -> None:
    meeting = await meeting_here(ctx)
    run = await debrief_now(ctx, meeting)
    if run is None:
        raise NotFound("ritual.error.no_run")
    wearer = await ctx.repo.members.get(run.cap_member_id) if run.cap_member_id else None
    await ctx.reply(ctx.message("ritual.ended", name=wearer.name if wearer else "—"))


@router.button("ritual.debrief_no")
async def no_conflict(ctx: Context, click: Click) -> None:
    run = await unanswered(ctx, click.value)
    run.debrief_answer = DebriefAnswer.no_conflict.value
    run.debriefed_at = ctx.now()
    button = Button(label=ctx.t("ritual.button_moment"), action="ritual.moment", payload={"run": run.id})
    await ctx.update(
        click.message_ref,
        Message(
            blocks=(Text(text=ctx.t("ritual.thanks_no_conflict")), Buttons(buttons=(button,))),
            key="ritual.thanks_no_conflict",
        ),
    )


@router.button("ritual.debrief_yes")
async def yes_conflict(ctx: Context, click: Click) -> None:
    run = await unanswered(ctx, click.value)
    await ctx.reply(await conflict_form(ctx, run, {}, {}))


@router.button("ritual.moment")
async def moment_button(ctx: Context, click: Click) -> None:
    run = await my_run(ctx, click.value)
    await ctx.reply(_moment_form(ctx, run, {}))


def _moment_form(ctx: Context, run: RitualRun, errors: dict[str, str]) -> Message:
    form = Form(
        action="ritual.moment_form",
        title=ctx.t("ritual.moment_form.title"),
        fields=(
            Field_(
                name="moment",
                label=ctx.t("ritual.conflict_form.moment"),
                style="textarea",
                max_length=TEXT_LIMITS["moment"],
                value=run.customer_moment or "",
            ),
        ),
        submit_label=ctx.t("ritual.conflict_form.submit"),
        payload={"run": run.id},
        errors=errors,
    )
    return Message(blocks=(form,), key="ritual.moment_form.title")


@router.form("ritual.moment_form")
async def submit_moment(ctx: Context, submission: Submission) -> None:
    run = await my_run(ctx, submission.value)
    moment = submission.fields.get("moment", "").strip()
    error = text_error(ctx, moment, "moment", required=True)
    if error:
        await ctx.reply(_moment_form(ctx, run, {"moment": error}))
        return
    run.customer_moment = moment
    await ctx.reply(ctx.message("ritual.moment_saved"))
