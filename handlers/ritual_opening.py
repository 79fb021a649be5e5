"""The opening: who wears the klantpet today, and the three questions the customer would ask.

Scheduled a few minutes before each occurrence (``ritual.opening``), run at once by ``pet`` in a meeting
channel or by a platform's meeting-start event. One occurrence has one run and one post (idempotency key
``ritual:open:<meeting>:<occurrence>``), whichever of these comes first.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field

from bot.commands import ParsedCommand
from bot.context import Context, JobContext
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.messages import Button, Buttons, Message, Text
from bot.messages import Context as Footer
from bot.router import Click, Router
from handlers import ritual_schedule as timing
from handlers.ritual_rotation import pick_questions, pick_wearer
from storage.models import Meeting, Member, Role, Schedule
from storage.models.ritual import RitualRun

router = Router()
log = logging.getLogger(__name__)
QUESTION_HISTORY = 20


class TailoredQuestions(BaseModel):
    """The LLM's version of the three bank questions, phrased for the meeting's topic."""

    questions: list[str] = Field(min_length=3, max_length=3)


def occurrence_key(meeting_id: int, occurrence: datetime) -> str:
    return f"ritual:open:{meeting_id}:{occurrence:%Y%m%dT%H%MZ}"


async def _questions(ctx: JobContext, meeting: Meeting, locale: str, seed: str) -> list[dict[str, str]]:
    recent = [
        [str(item.get("id")) for item in run.questions]
        for run in await ctx.repo.ritual.recent_runs(meeting.id, QUESTION_HISTORY)
    ]
    chosen = pick_questions(recent, seed)
    texts = [question.text(locale) for question in chosen]
    if meeting.topic and ctx.llm.enabled:
        tailored, _ = await ctx.llm.structured(
            "ritual_questions",
            {"locale": locale, "meeting": meeting.name, "topic": meeting.topic, "questions": texts},
            TailoredQuestions,
            lambda: TailoredQuestions(questions=texts),
        )
        texts = [
            text.strip()[:400] or fallback for text, fallback in zip(tailored.questions, texts, strict=True)
        ]
    return [{"id": question.id, "text": text} for question, text in zip(chosen, texts, strict=True)]


def _offsets(meeting: Meeting) -> dict[int, int]:
    return {participant.member_id: participant.cap_offset for participant in meeting.participants}


async def _candidates(ctx: JobContext, meeting: Meeting, run_day: date, exclude: set[int]) -> list[int]:
    absent = await ctx.repo.ritual.absent_ids(meeting.id, run_day)
    return [
        member.id
        for member in await ctx.repo.ritual.participants(meeting)
        if member.id not in absent | exclude
    ]


async def open_ritual(
    ctx: JobContext, meeting: Meeting, occurrence: datetime, *, scheduled: bool
) -> RitualRun | None:
    """Open the ritual for one occurrence (once); None when nobody is there to wear the cap."""
    existing = await ctx.repo.ritual.run_at(meeting.id, occurrence)
    if existing is not None or meeting.channel is None:
        return existing
    seed = f"{meeting.id}:{occurrence.isoformat()}"
    candidates = await _candidates(ctx, meeting, timing.local_day(meeting, occurrence), set())
    wearer = pick_wearer(candidates, await ctx.repo.ritual.cap_history(meeting.id), seed, _offsets(meeting))
    if wearer is None:
        log.info("ritual skipped: nobody present", extra={"meeting_id": meeting.id})
        return None
    locale = ctx.locale_of(channel=meeting.channel)
    run = await ctx.repo.ritual.add_run(
        RitualRun(
            meeting_id=meeting.id,
            occurrence=occurrence,
            scheduled=scheduled,
            cap_member_id=wearer,
            questions=await _questions(ctx, meeting, locale, seed),
            passed_by=[],
            opened_at=ctx.now(),
        )
    )
    await ctx.post(
        meeting.channel,
        await opening_message(ctx, meeting, run, locale),
        key=occurrence_key(meeting.id, occurrence),
        topic="ritual",
    )
    if not scheduled:
        await ctx.services.scheduler.put(
            ctx.session,
            kind=timing.DEBRIEF_AD_HOC,
            ref=str(meeting.id),
            timezone=meeting.timezone,
            starts_at=occurrence + timedelta(minutes=meeting.duration_minutes),
        )
    await ctx.audit(None, "ritual.open", f"meeting:{meeting.id}", run=run.id, scheduled=scheduled)
    return run


def _cap_buttons(ctx: JobContext, locale: str, run: RitualRun) -> Buttons:
    payload = {"run": run.id}
    return Buttons(
        buttons=(
            Button(label=ctx.t(locale, "ritual.button_pass"), action="ritual.pass", payload=payload),
            Button(label=ctx.t(locale, "ritual.button_take"), action="ritual.take", payload=payload),
            Button(label=ctx.t(locale, "ritual.button_absent"), action="ritual.absent", payload=payload),
        )
    )


async def member_name(ctx: JobContext, member_id: int | None) -> str:
    member = await ctx.repo.members.get(member_id) if member_id else None
    return member.name if member else "—"


async def opening_message(ctx: JobContext, meeting: Meeting, run: RitualRun, locale: str) -> Message:
    wearer = await member_name(ctx, run.cap_member_id)
    questions = "\n".join(f"{number}. {item['text']}" for number, item in enumerate(run.questions, start=1))
    return Message(
        blocks=(
            Text(text=ctx.t(locale, "ritual.opening", meeting=meeting.name, name=wearer)),
            Text(text=questions),
            _cap_buttons(ctx, locale, run),
            Footer(text=ctx.t(locale, "ritual.opening_footer", name=wearer.split()[0])),
        ),
        key="ritual.opening",
    )


async def open_now(ctx: JobContext, meeting: Meeting) -> tuple[RitualRun | None, bool]:
    """The run going on in this meeting now, or a new one: (run, newly opened)."""
    now = ctx.now()
    for run in await ctx.repo.ritual.recent_runs(meeting.id, 3):
        ends = run.occurrence + timedelta(minutes=meeting.duration_minutes)
        if run.debrief_sent_at is None and run.occurrence - timing.EARLY_START <= now < ends:
            return run, False
    scheduled = timing.occurrence_near(meeting, now)
    occurrence = scheduled or now.replace(second=0, microsecond=0)
    return await open_ritual(ctx, meeting, occurrence, scheduled=scheduled is not None), True


async def meeting_here(ctx: Context) -> Meeting:
    if ctx.channel is None:
        raise InvalidInput("ritual.error.pet_in_channel")
    meeting = await ctx.repo.ritual.meeting_for_channel(ctx.channel.id)
    if meeting is None:
        raise NotFound("ritual.error.no_meeting_here")
    return meeting


@router.command("pet", help_key="ritual.help.pet", bare=True)
async def pet(ctx: Context, command: ParsedCommand) -> None:
    meeting = await meeting_here(ctx)
    run, fresh = await open_now(ctx, meeting)
    if run is None:
        raise Conflict("ritual.error.nobody_present")
    if not fresh:
        text = ctx.t("ritual.already_open", name=await member_name(ctx, run.cap_member_id))
        message = Message(
            blocks=(Text(text=text), _cap_buttons(ctx, ctx.locale, run)), key="ritual.already_open"
        )
        await ctx.reply(message, ephemeral=True)


router.command("pet start", bare=True)(pet)


@router.schedule(timing.OPENING)
async def scheduled_opening(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    meeting = await ctx.repo.ritual.meeting(int(schedule.ref))
    if meeting is None or not meeting.ritual_enabled:
        return
    await open_ritual(ctx, meeting, timing.occurrence_of(schedule, fire_time), scheduled=True)


# --- Passing the cap, taking it, being absent -------------------------------------------------------
async def open_run(ctx: Context, click: Click) -> tuple[RitualRun, Meeting]:
    run = await ctx.repo.ritual.run(int(click.value.get("run", 0)))
    meeting = await ctx.repo.ritual.meeting(run.meeting_id) if run else None
    if run is None or meeting is None:
        raise InvalidInput("error.expired_action")
    if run.debrief_sent_at is not None:
        raise Conflict("ritual.error.run_closed")
    return run, meeting


def _may_pass(ctx: Context, meeting: Meeting, run: RitualRun) -> None:
    """Only the one wearing the cap passes it on (or a CX manager, for someone who left without it)."""
    if ctx.member.id != run.cap_member_id and not ctx.member.has_role(Role.cx_manager):
        raise NotAllowed("ritual.error.not_your_cap", meeting=meeting.name)


async def hand_over(ctx: JobContext, meeting: Meeting, run: RitualRun, by: Member, key: str) -> bool:
    """Give the cap to the next fair participant; False when nobody else is there."""
    passer = run.cap_member_id
    excluded = set(run.passed_by) | ({passer} if passer else set())
    candidates = await _candidates(ctx, meeting, timing.local_day(meeting, run.occurrence), excluded)
    history = await ctx.repo.ritual.cap_history(meeting.id)
    wearer = pick_wearer(candidates, history, f"{run.id}:{len(run.passed_by)}", _offsets(meeting))
    if wearer is None:
        return False
    run.passed_by = [*run.passed_by, passer] if passer else list(run.passed_by)
    run.cap_member_id = wearer
    await _announce(ctx, meeting, run, key, passer=await member_name(ctx, passer), by=by)
    return True


async def _announce(
    ctx: JobContext, meeting: Meeting, run: RitualRun, key: str, *, passer: str, by: Member
) -> None:
    assert meeting.channel is not None
    locale = ctx.locale_of(channel=meeting.channel)
    wearer = await member_name(ctx, run.cap_member_id)
    text = ctx.t(locale, key, passer=passer, name=wearer, by=by.name)
    await ctx.post(
        meeting.channel,
        Message(blocks=(Text(text=text), _cap_buttons(ctx, locale, run)), key=key),
        key=f"ritual:cap:{run.id}:{len(run.passed_by)}:{run.cap_member_id}",
        topic="ritual",
    )


@router.button("ritual.pass")
async def pass_cap(ctx: Context, click: Click) -> None:
    run, meeting = await open_run(ctx, click)
    _may_pass(ctx, meeting, run)
    if not await hand_over(ctx, meeting, run, ctx.member, "ritual.passed"):
        raise Conflict("ritual.error.nobody_left", name=await member_name(ctx, run.cap_member_id))


@router.button("ritual.take")
async def take_cap(ctx: Context, click: Click) -> None:
    run, meeting = await open_run(ctx, click)
    if ctx.member.id not in meeting.participant_ids:
        raise NotAllowed("ritual.error.not_participant", meeting=meeting.name)
    if run.cap_member_id == ctx.member.id:
        await ctx.reply(ctx.message("ritual.already_wearing"), ephemeral=True)
        return
    passer = await member_name(ctx, run.cap_member_id)
    if run.cap_member_id:
        run.passed_by = [*run.passed_by, run.cap_member_id]
    run.cap_member_id = ctx.member.id
    await _announce(ctx, meeting, run, "ritual.taken", passer=passer, by=ctx.member)
