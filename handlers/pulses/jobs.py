"""The schedule kinds of a round: ``pulse.open``, ``pulse.remind``, ``pulse.close`` and the hourly
``pulse.sweep``."""

from __future__ import annotations

from datetime import datetime

from bot.context import JobContext
from handlers.pulses.closing import close_round
from handlers.pulses.delivery import remind
from handlers.pulses.rounds import open_round
from handlers.pulses.routes import router
from storage.models import Schedule
from storage.models.pulses import PulseRound


async def _round(ctx: JobContext, schedule: Schedule) -> PulseRound | None:
    return await ctx.repo.pulses.get(int(schedule.payload["round_id"]))


@router.schedule("pulse.open")
async def on_open(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    pulse_round = await _round(ctx, schedule)
    if pulse_round is not None:
        await open_round(ctx, pulse_round, fire_time)


@router.schedule("pulse.remind")
async def on_remind(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    pulse_round = await _round(ctx, schedule)
    if pulse_round is not None:
        await remind(ctx, pulse_round, int(schedule.payload["reminder"]))


@router.schedule("pulse.close")
async def on_close(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    pulse_round = await _round(ctx, schedule)
    if pulse_round is not None:
        await close_round(ctx, pulse_round)


@router.schedule("pulse.sweep")
async def on_sweep(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    """Close rounds past their closing time and open (or, when too late, cancel) rounds past their opening."""
    now = ctx.now()
    for pulse_round in await ctx.repo.pulses.rounds(statuses=["open", "scheduled"], limit=500):
        if pulse_round.status == "open" and pulse_round.closes_at <= now:
            await close_round(ctx, pulse_round)
        elif pulse_round.status == "scheduled" and pulse_round.opens_at <= now:
            if pulse_round.closes_at > now:
                await open_round(ctx, pulse_round, now)
            else:
                pulse_round.status = "cancelled"
