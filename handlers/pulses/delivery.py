"""When a member's cards go out: the first card inside the send window, reminders to those who have not
answered anything, and never inside the member's quiet hours (in their own time zone). A card that could
only arrive inside quiet hours or after closing is not sent at all; the member can still ask for it
(``pulse``)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from bot.context import JobContext
from handlers.pulses.cards import card_key, first_card
from handlers.pulses.library import Question, round_questions
from handlers.pulses.timewindows import outside_quiet_hours
from storage.models import Member
from storage.models.pulses import PulseRound

MAX_REMINDERS = 2
_random = random.SystemRandom()


def _outside_quiet_hours(
    ctx: JobContext, pulse_round: PulseRound, member: Member, moment: datetime
) -> datetime | None:
    """``moment``, or the end of the member's quiet hours it falls in; None when that is after closing."""
    at = outside_quiet_hours(moment, ctx.timezone_of(member), pulse_round.quiet_start, pulse_round.quiet_end)
    return at if at < pulse_round.closes_at else None


def delivery_time(
    ctx: JobContext, pulse_round: PulseRound, member: Member, start: datetime
) -> datetime | None:
    """A moment in the send window (random when asked) outside the member's quiet hours, or None when
    there is none before closing."""
    offset = 0.0
    if pulse_round.send_window_minutes and pulse_round.randomise:
        offset = _random.uniform(0, pulse_round.send_window_minutes)
    chosen = _outside_quiet_hours(ctx, pulse_round, member, start + timedelta(minutes=offset))
    if chosen is None and offset:  # the random moment fell too late: the window's start may still do
        chosen = _outside_quiet_hours(ctx, pulse_round, member, start)
    return chosen


async def send_first_card(
    ctx: JobContext, pulse_round: PulseRound, member: Member, questions: list[Question], start: datetime
) -> bool:
    """Queue the invitation with the first question; False when it cannot arrive outside quiet hours."""
    at = delivery_time(ctx, pulse_round, member, start)
    if not questions or at is None:
        return False
    await ctx.dm(
        member,
        first_card(ctx, member, pulse_round, questions),
        key=card_key(pulse_round.id, member.id, questions[0].id),
        topic="pulse",
        not_before=at,
    )
    return True


async def remind(ctx: JobContext, pulse_round: PulseRound, number: int) -> int:
    """Remind the invited who have not answered anything yet (at most once per reminder number)."""
    if pulse_round.status != "open" or not 1 <= number <= MAX_REMINDERS:
        return 0
    questions = await round_questions(ctx.repo.pulses, pulse_round.question_ids)
    sent = 0
    for invitation in await ctx.repo.pulses.non_responders(pulse_round.id, number):
        member = await ctx.repo.members.get(invitation.member_id)
        invitation.reminders_sent = number
        if member is None or not member.active or not questions:
            continue
        at = _outside_quiet_hours(ctx, pulse_round, member, ctx.now())
        if at is None:
            continue
        sent += await ctx.dm(
            member,
            first_card(ctx, member, pulse_round, questions, "reminder"),
            key=card_key(pulse_round.id, member.id, questions[0].id, f"r{number}"),
            topic="pulse",
            not_before=at,
        )
    return sent
