"""Pulse rounds: creating one (the service function campaigns call), and the schedule kinds that open it,
remind non-responders and close it.

Schedule kinds (``services.scheduler``): ``pulse.open`` and ``pulse.close`` (ref ``round:<id>``),
``pulse.remind`` (ref ``round:<id>:<n>``, n = 1 or 2), and the hourly ``pulse.sweep`` (ref ``pulses``)
that closes or opens rounds whose moment the bot missed while it was down. Who is asked lives in
`handlers.pulses.audience`, when their cards go out in `handlers.pulses.delivery`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.context import JobContext
from bot.errors import InvalidInput, NotFound
from handlers.pulses import anonymity
from handlers.pulses.audience import Audience, audience_members, resolve_audience
from handlers.pulses.delivery import MAX_REMINDERS, send_first_card
from handlers.pulses.library import all_questions, ordered, pick_questions
from handlers.pulses.timewindows import RECURRENCES, next_period, period_minutes
from storage.models import Member
from storage.models.pulses import PulseRound

DEFAULT_DURATION_MINUTES = 7 * 24 * 60
DEFAULT_REMINDERS = (2 * 24 * 60, 5 * 24 * 60)
SWEEP_RULE = "FREQ=HOURLY;BYMINUTE=7;BYSECOND=0"


@dataclass(frozen=True)
class RoundSpec:
    """Everything a new round needs; defaults make a sensible weekly-length pulse for everyone."""

    name: str | None = None
    audience: Audience = field(default_factory=Audience)
    opens_at: datetime | None = None
    """None: now."""
    duration_minutes: int = DEFAULT_DURATION_MINUTES
    recurrence: str | None = None
    """``weekly``, ``biweekly``, ``monthly`` or None (once)."""
    question_ids: tuple[str, ...] = ()
    """Fixed questions for every round; empty: eNPS + ``likert_count`` Likert items + one open question, rotating."""
    likert_count: int = 2
    include_open: bool = True
    send_window_minutes: int = 0
    randomise: bool = False
    reminder_minutes: tuple[int, ...] | None = None
    """Minutes after opening; None: after 2 and 5 days (those before closing)."""
    quiet_hours: tuple[str, str] = ("20:00", "08:00")
    baseline: bool = False
    timezone: str | None = None


def _validate(spec: RoundSpec, reminders: tuple[int, ...]) -> None:
    if spec.duration_minutes < 60:
        raise InvalidInput("pulse.error.too_short")
    if spec.recurrence is not None:
        if spec.recurrence not in RECURRENCES:
            raise InvalidInput("pulse.error.recurrence", given=spec.recurrence)
        if spec.duration_minutes > period_minutes(spec.recurrence):
            raise InvalidInput("pulse.error.longer_than_period")
    if len(reminders) > MAX_REMINDERS:
        raise InvalidInput("pulse.error.too_many_reminders", limit=MAX_REMINDERS)
    if any(minutes <= 0 or minutes >= spec.duration_minutes for minutes in reminders):
        raise InvalidInput("pulse.error.reminder_after_close")
    if not 0 <= spec.send_window_minutes < spec.duration_minutes:
        raise InvalidInput("pulse.error.window")
    if not 0 <= spec.likert_count <= 10:
        raise InvalidInput("pulse.error.likert_count")


async def create_round(
    ctx: JobContext, spec: RoundSpec, created_by: Member | None = None, *, open_now: bool = True
) -> PulseRound:
    """Create a round and schedule its opening, reminders and closing; the service campaigns call.

    A round whose opening time has come opens at once (``open_now=False``: the caller opens it with
    `open_round`, e.g. after confirming the creation).

    Raises `InvalidInput` (with a prompt key) for a bad spec, including an audience smaller than the
    anonymity threshold, whose results could never be shown.
    """
    now = ctx.now()
    timezone = spec.timezone or ctx.settings.default_timezone
    opens_at = spec.opens_at or now
    if opens_at < now - timedelta(minutes=5):
        raise InvalidInput("pulse.error.in_the_past")
    reminders = (
        tuple(spec.reminder_minutes)
        if spec.reminder_minutes is not None
        else tuple(minutes for minutes in DEFAULT_REMINDERS if minutes < spec.duration_minutes)
    )
    _validate(spec, reminders)
    audience = await resolve_audience(ctx, spec.audience)
    k = anonymity.threshold(ctx.settings.anonymity_threshold)
    size = len(await audience_members(ctx, audience))
    if size < k:
        raise InvalidInput("pulse.error.audience_too_small", size=size, threshold=k)
    library = await all_questions(ctx.repo.pulses)
    unknown = [question_id for question_id in spec.question_ids if question_id not in library]
    if unknown:
        raise InvalidInput("pulse.error.unknown_question", given=", ".join(unknown))
    sequence = await ctx.repo.pulses.count_rounds()
    question_ids = list(spec.question_ids) or pick_questions(
        library, sequence, spec.likert_count, spec.include_open
    )
    if not question_ids:
        raise InvalidInput("pulse.error.no_questions")
    pulse_round = await ctx.repo.pulses.add_round(
        name=(spec.name or "").strip()[:120] or ctx.t(ctx.settings.default_locale, "pulse.default_name"),
        sequence=sequence,
        status="scheduled",
        audience=audience,
        question_ids=question_ids,
        rotate=not spec.question_ids,
        likert_count=spec.likert_count,
        include_open=spec.include_open,
        recurrence=spec.recurrence,
        timezone=timezone,
        opens_at=opens_at,
        closes_at=opens_at + timedelta(minutes=spec.duration_minutes),
        send_window_minutes=spec.send_window_minutes,
        randomise=spec.randomise,
        reminder_minutes=list(reminders),
        quiet_start=spec.quiet_hours[0],
        quiet_end=spec.quiet_hours[1],
        baseline=spec.baseline,
        threshold=k,
        comment_threshold=anonymity.comment_threshold(k, ctx.settings.comment_threshold),
        groups=[],
        invited_count=0,
        created_by=created_by.id if created_by else None,
        created_at=now,
    )
    await ctx.audit(created_by, "pulse.round.create", f"pulse_round:{pulse_round.id}", name=pulse_round.name)
    await schedule_round(ctx, pulse_round)
    if open_now and pulse_round.opens_at <= now:
        await open_round(ctx, pulse_round, now)
    return pulse_round


async def schedule_round(ctx: JobContext, pulse_round: PulseRound) -> None:
    ref = f"round:{pulse_round.id}"
    moments: list[tuple[str, str, datetime, dict[str, int]]] = [
        ("pulse.close", ref, pulse_round.closes_at, {})
    ]
    if pulse_round.opens_at > ctx.now():  # a round opening now is opened by its creator, not the clock
        moments.append(("pulse.open", ref, pulse_round.opens_at, {}))
    for number, minutes in enumerate(pulse_round.reminder_minutes, start=1):
        moments.append(
            (
                "pulse.remind",
                f"{ref}:{number}",
                pulse_round.opens_at + timedelta(minutes=minutes),
                {"reminder": number},
            )
        )
    # The clock skips fire times missed by more than the grace period; a sweep catches rounds left behind.
    sweep = await ctx.repo.schedules.by_ref("pulse.sweep", "pulses")
    if sweep is None or not sweep.enabled:
        await ctx.services.scheduler.put(
            ctx.session,
            kind="pulse.sweep",
            ref="pulses",
            timezone="UTC",
            starts_at=ctx.now(),
            rrule=SWEEP_RULE,
        )
    for kind, schedule_ref, moment, extra in moments:
        await ctx.services.scheduler.put(
            ctx.session,
            kind=kind,
            ref=schedule_ref,
            timezone=pulse_round.timezone,
            starts_at=moment,
            payload={"round_id": pulse_round.id, **extra},
        )


async def round_or_fail(ctx: JobContext, round_id: int) -> PulseRound:
    pulse_round = await ctx.repo.pulses.get(round_id)
    if pulse_round is None:
        raise NotFound("pulse.error.no_such_round", given=round_id)
    return pulse_round


async def open_round(ctx: JobContext, pulse_round: PulseRound, fire_time: datetime | None = None) -> int:
    """Invite the audience and send each person the first question; returns how many were invited."""
    if pulse_round.status != "scheduled":
        return 0
    start = fire_time or ctx.now()
    members = await audience_members(ctx, pulse_round.audience)
    k = anonymity.threshold(ctx.settings.anonymity_threshold, pulse_round.threshold)
    sizes: dict[int, int] = {}
    for member in members:
        if member.department_id is not None:
            sizes[member.department_id] = sizes.get(member.department_id, 0) + 1
    library = await all_questions(ctx.repo.pulses)
    questions = ordered(pulse_round.question_ids, library)
    pulse_round.threshold = k
    pulse_round.comment_threshold = anonymity.comment_threshold(
        k, ctx.settings.comment_threshold, pulse_round.comment_threshold
    )
    pulse_round.groups = sorted(group for group, size in sizes.items() if size >= k)
    pulse_round.status = "open"
    pulse_round.opened_at = start
    await ctx.repo.pulses.create_tallies(
        pulse_round.id,
        {question.id: question.values for question in questions if question.values},
        pulse_round.groups,
    )
    invited = await ctx.repo.pulses.invite(pulse_round.id, [(m.id, m.department_id) for m in members])
    pulse_round.invited_count = invited
    for member in members:
        await send_first_card(ctx, pulse_round, member, questions, start)
    if pulse_round.recurrence is not None:
        await _plan_next(ctx, pulse_round)
    return invited


async def _plan_next(ctx: JobContext, pulse_round: PulseRound) -> None:
    """Recurring rounds: the next one is created (scheduled) when this one opens."""
    assert pulse_round.recurrence is not None and pulse_round.series_id is not None
    if await ctx.repo.pulses.scheduled_in_series(pulse_round.series_id):
        return
    library = await all_questions(ctx.repo.pulses)
    sequence = pulse_round.sequence + 1
    question_ids = (
        pick_questions(library, sequence, pulse_round.likert_count, pulse_round.include_open)
        if pulse_round.rotate
        else list(pulse_round.question_ids)
    )
    following = await ctx.repo.pulses.add_round(
        series_id=pulse_round.series_id,
        sequence=sequence,
        name=pulse_round.name,
        status="scheduled",
        audience=pulse_round.audience,
        question_ids=question_ids,
        rotate=pulse_round.rotate,
        likert_count=pulse_round.likert_count,
        include_open=pulse_round.include_open,
        recurrence=pulse_round.recurrence,
        timezone=pulse_round.timezone,
        opens_at=next_period(pulse_round.opens_at, pulse_round.recurrence, pulse_round.timezone),
        closes_at=next_period(pulse_round.closes_at, pulse_round.recurrence, pulse_round.timezone),
        send_window_minutes=pulse_round.send_window_minutes,
        randomise=pulse_round.randomise,
        reminder_minutes=list(pulse_round.reminder_minutes),
        quiet_start=pulse_round.quiet_start,
        quiet_end=pulse_round.quiet_end,
        baseline=False,
        threshold=pulse_round.threshold,
        comment_threshold=pulse_round.comment_threshold,
        groups=[],
        invited_count=0,
        created_by=pulse_round.created_by,
        created_at=ctx.now(),
    )
    await schedule_round(ctx, following)


async def cancel_series(ctx: JobContext, pulse_round: PulseRound, actor: Member | None) -> int:
    """Cancel the round if it has not opened, and every scheduled round after it in its series."""
    cancelled = 0
    targets = list(await ctx.repo.pulses.scheduled_in_series(pulse_round.series_id or pulse_round.id))
    if pulse_round.status == "scheduled" and pulse_round not in targets:
        targets.append(pulse_round)
    for target in targets:
        target.status = "cancelled"
        cancelled += 1
        refs = [("pulse.open", ""), ("pulse.close", "")]
        refs += [("pulse.remind", f":{number}") for number in range(1, MAX_REMINDERS + 1)]
        for kind, suffix in refs:
            schedule = await ctx.repo.schedules.by_ref(kind, f"round:{target.id}{suffix}")
            if schedule is not None:
                schedule.enabled = False
    if pulse_round.status == "open":
        pulse_round.recurrence = None
    await ctx.audit(actor, "pulse.round.cancel", f"pulse_round:{pulse_round.id}", cancelled=cancelled)
    ctx.services.scheduler_changed()
    return cancelled
