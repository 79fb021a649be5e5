"""The daily ``privacy.retention`` job's part for pulses.

- Participation: who was asked and who answered exists only while a round is open (closing reduces it to
  head counts). A round still open after the participation period (``KLANTPET_RETENTION_PARTICIPATION_DAYS``)
  is closed, exactly as at its own closing, so no participation outlives the period and the results still
  add up. Rows a finished round left behind are deleted.
- Raw comments: the open answers of rounds closed longer ago than ``KLANTPET_RETENTION_RAW_COMMENTS_DAYS``
  are deleted; the round's themes and every count stay.
"""

from __future__ import annotations

from datetime import timedelta

from bot.context import JobContext
from handlers.pulses.closing import close_round


async def apply_retention(ctx: JobContext) -> dict[str, int]:
    now, settings, repo = ctx.now(), ctx.settings, ctx.repo.pulses
    closed = 0
    for pulse_round in await repo.open_since(now - timedelta(days=settings.retention_participation_days)):
        closed += await close_round(ctx, pulse_round)
    return {
        "pulse_rounds_closed": closed,
        "pulse_participation": await repo.forget_participation_of_finished_rounds(),
        "pulse_comments": await repo.forget_comments_before(
            now - timedelta(days=settings.retention_raw_comments_days)
        ),
    }
