"""Follow-up on a baton until it is passed on. A leg has two stages, each with its own clock: sharing (from
receiving the baton until the holder's snippet is posted) and passing on (from then until they hand it to the
next leader). In each stage the holder gets a weekly reminder (``relay.remind``) and, when the stage lasts
longer than ``KLANTPET_RELAY_STALL_DAYS``, the CX managers get one polite note (``relay.escalate``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.context import JobContext
from bot.messages import Button, Buttons, Message, Text
from bot.messages import Context as Footer
from bot.router import Router
from handlers.leadership.common import (
    cx_managers,
    first_name,
    pass_button,
    stop_schedule,
    who,
    write_button,
)
from handlers.leadership.relay_chain import chain_text, eligible_peers
from storage.models import Member, Schedule
from storage.models.leadership import Relay, RelayLeg

router = Router()
WEEKLY = "FREQ=WEEKLY;INTERVAL=1"


def _ref(leg: RelayLeg) -> str:
    return f"relay-leg:{leg.id}"


async def plan(ctx: JobContext, leg: RelayLeg, holder: Member, since: datetime) -> None:
    """Remind ``holder`` weekly from ``since`` (the start of the leg's current stage) and escalate after the
    stall period; the escalation retries weekly while it has to wait (a snippet awaiting approval)."""
    zone = ctx.timezone_of(holder)
    scheduler = ctx.services.scheduler
    for kind, first in (
        ("relay.remind", since + timedelta(days=7)),
        ("relay.escalate", since + timedelta(days=ctx.settings.relay_stall_days)),
    ):
        await scheduler.put(
            ctx.session, kind=kind, ref=_ref(leg), timezone=zone, starts_at=first, rrule=WEEKLY
        )


async def stop(ctx: JobContext, leg: RelayLeg) -> None:
    await stop_schedule(ctx, "relay.remind", _ref(leg))
    await stop_schedule(ctx, "relay.escalate", _ref(leg))


async def finish(ctx: JobContext, relay: Relay, leg: RelayLeg, holder: Member) -> None:
    """Nobody is left who has not run a leg: the relay is complete, and its last holder hears so."""
    leg.passed_at = ctx.now()
    await stop(ctx, leg)
    await ctx.repo.leadership.end_relay(relay, "finished", ctx.now())
    locale = ctx.locale_of(holder)
    await ctx.dm(
        holder,
        Message.text(
            ctx.t(locale, "leadership.relay.finished", chain=await chain_text(ctx, relay)),
            key="leadership.relay.finished",
        ),
        key=f"relay-finished:{relay.id}",
    )


# --- Reminders and escalation ----------------------------------------------------------------------------
async def _open_leg(ctx: JobContext, schedule: Schedule) -> tuple[Relay, RelayLeg, Member] | None:
    """The leg behind ``schedule`` while it holds the baton of the running relay; else the schedule ends."""
    leg = await ctx.repo.leadership.leg(int(schedule.ref.rsplit(":", 1)[1]))
    relay = await ctx.repo.leadership.running_relay()
    if leg is None or relay is None or leg.relay_id != relay.id or leg.passed_at:
        schedule.enabled = False
        return None
    holder = await ctx.repo.members.get(leg.holder_member_id)
    if holder is None:
        return None
    return relay, leg, holder


def _weeks(fire_time: datetime, since: datetime) -> int:
    return max(1, (fire_time - since).days // 7)


@router.schedule("relay.remind")
async def remind_holder(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    """A weekly nudge: to share (unless a snippet of theirs is already on its way), then to pass it on."""
    found = await _open_leg(ctx, schedule)
    if found is None:
        return
    relay, leg, holder = found
    if not holder.active:
        return  # the CX managers still hear of the stall; a deactivated member gets no messages
    locale = ctx.locale_of(holder)
    button: Button
    if leg.shared_at is None:
        if await ctx.repo.leadership.has_snippet_underway(holder.id, leg.received_at):
            return
        weeks = _weeks(fire_time, leg.received_at)
        key, button = "leadership.relay.reminder", write_button(ctx, locale)
    else:
        if not await eligible_peers(ctx, holder, relay):
            await finish(ctx, relay, leg, holder)  # the last leader still waiting lost the role meanwhile
            return
        weeks = _weeks(fire_time, leg.shared_at)
        key, button = "leadership.relay.pass_reminder", pass_button(ctx, locale)
    leg.reminders += 1
    message = Message(
        blocks=(
            Text(text=ctx.t(locale, key, weeks=weeks, challenge=leg.challenge)),
            Buttons(buttons=(button,)),
        ),
        key=key,
    )
    await ctx.dm(holder, message, key=f"relay-remind:{leg.id}:{fire_time:%Y%m%dT%H%M}")


@router.schedule("relay.escalate")
async def escalate_stall(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    """The baton rests too long in one stage: tell the CX managers, kindly, once per stage, so someone can lend
    a hand. Not while the holder's snippet waits for approval or its posting time (next week, perhaps)."""
    found = await _open_leg(ctx, schedule)
    if found is None:
        return
    _, leg, holder = found
    since = leg.shared_at or leg.received_at
    if leg.escalated_at is not None and leg.escalated_at >= since:
        schedule.enabled = False
        return
    if leg.shared_at is None and await ctx.repo.leadership.has_snippet_underway(holder.id, leg.received_at):
        return
    stage = "escalation" if leg.shared_at is None else "escalation_passing"
    giver = await ctx.repo.members.get(leg.passed_by_member_id) if leg.passed_by_member_id else None
    for manager in await cx_managers(ctx, besides=holder.id):
        locale = ctx.locale_of(manager)
        text = ctx.t(
            locale,
            f"leadership.relay.{stage}",
            holder=who(holder),
            giver=who(giver),
            weeks=_weeks(fire_time, since),
            challenge=leg.challenge,
            first=first_name(holder),
        )
        await ctx.dm(
            manager,
            Message(
                blocks=(Text(text=text), Footer(text=ctx.t(locale, "leadership.relay.escalation_hint"))),
                key=f"leadership.relay.{stage}",
            ),
            key=f"relay-escalate:{leg.id}:{manager.id}"
            if leg.shared_at is None
            else f"relay-escalate:{leg.id}:passing:{manager.id}",
        )
    leg.escalated_at = ctx.now()
    schedule.enabled = False
