"""The register's weekly rhythm: owner reminders, polite escalation, and the cross-silo digest.

Each owner is reminded of their unresolved conflicts (``ritual.reminders``, Mondays 09:00); a conflict open
for ``silo_escalation_weeks`` escalates to the CX managers (DM) and the MT channel; the CX team's channel
gets a digest of new, aging and resolved conflicts and the most frequent pairs (``ritual.digest``, 09:30).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.context import JobContext
from bot.messages import Buttons, Message, Text
from bot.router import Router
from handlers import ritual_schedule as timing
from handlers.ritual_register import RECURRING_THRESHOLD, RECURRING_WEEKS, conflict_line, status_buttons
from storage.models import Channel, Member, Role, Schedule
from storage.models.ritual import SiloConflict, SiloStatus
from storage.repositories.ritual import UNRESOLVED, PairCount

router = Router()
log = logging.getLogger(__name__)
AGING_WEEKS = 2


async def flag_recurring_pair(ctx: JobContext, conflict: SiloConflict) -> None:
    """When a pair reaches the threshold, the CX managers hear it once (per pair and week)."""
    now = ctx.now()
    pairs = {
        pair.label: pair
        for pair in await ctx.repo.ritual.recurring_pairs(now, RECURRING_WEEKS, RECURRING_THRESHOLD)
    }
    pair = pairs.get(conflict.pair)
    if pair is None:
        return
    week = now.strftime("%G-W%V")
    for manager in await ctx.repo.members.with_role(Role.cx_manager):
        locale = ctx.locale_of(manager)
        text = ctx.t(
            locale, "ritual.recurring_alert", pair=pair.label, count=pair.count, weeks=RECURRING_WEEKS
        )
        key = f"ritual:recurring:{conflict.department_a_id}:{conflict.department_b_id}:{week}:{manager.id}"
        await ctx.dm(manager, Message.text(text, key="ritual.recurring_alert"), key=key, topic="ritual")


@router.schedule(timing.REMINDERS)
async def weekly_reminders(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    await escalate(ctx, fire_time)
    await remind_owners(ctx, fire_time)


async def remind_owners(ctx: JobContext, now: datetime) -> None:
    """Each owner gets one DM about their unresolved conflicts older than a week."""
    due = [
        conflict
        for conflict in await ctx.repo.ritual.conflicts(
            statuses=UNRESOLVED, created_before=now - timedelta(days=6), limit=10_000
        )
        if conflict.owner is not None
        and (conflict.last_reminded_at is None or conflict.last_reminded_at <= now - timedelta(days=6))
    ]
    by_owner: dict[int, list[SiloConflict]] = {}
    for conflict in due:
        by_owner.setdefault(conflict.owner_member_id or 0, []).append(conflict)
    for conflicts in by_owner.values():
        owner = conflicts[0].owner
        assert owner is not None
        locale = ctx.locale_of(owner)
        lines = "\n".join(conflict_line(ctx, locale, conflict, now, set()) for conflict in conflicts)
        blocks: list[Text | Buttons] = [
            Text(text=ctx.t(locale, "ritual.reminder", name=owner.name.split()[0]) + "\n" + lines)
        ]
        blocks += [status_buttons(ctx, locale, conflict) for conflict in conflicts[:5]]
        await ctx.dm(
            owner,
            Message(blocks=tuple(blocks), key="ritual.reminder"),
            key=f"ritual:remind:{owner.id}:{now:%Y%m%dT%H%MZ}",
            topic="ritual",
        )
        for conflict in conflicts:
            conflict.last_reminded_at = now


async def escalate(ctx: JobContext, now: datetime) -> None:
    """Conflicts open for N weeks go, politely, to the CX managers (DM) and the MT channel — once: a
    conflict a CX manager set back to open after its escalation stays with them (its owner is still
    reminded)."""
    weeks = ctx.settings.silo_escalation_weeks
    due = [
        conflict
        for conflict in await ctx.repo.ritual.conflicts(
            statuses=[SiloStatus.open.value, SiloStatus.discussed.value],
            created_before=now - timedelta(weeks=weeks),
            limit=10_000,
        )
        if conflict.escalated_at is None
    ]
    if not due:
        return
    managers = await ctx.repo.members.with_role(Role.cx_manager)
    mt = (
        await ctx.repo.channels.by_name(ctx.settings.silo_mt_channel)
        if ctx.settings.silo_mt_channel
        else None
    )
    for conflict in due:
        conflict.status = SiloStatus.escalated.value
        conflict.escalated_at = conflict.updated_at = now
        await ctx.audit(None, "silo.escalate", f"silo:{conflict.id}", weeks=weeks)
        for member in managers:
            await _escalation(ctx, conflict, weeks, ctx.locale_of(member), member=member)
        if mt is not None:
            await _escalation(ctx, conflict, weeks, ctx.locale_of(channel=mt), channel=mt)
        if conflict.owner is not None:
            locale = ctx.locale_of(conflict.owner)
            text = ctx.t(locale, "ritual.escalated_owner", id=conflict.id, pair=conflict.pair, weeks=weeks)
            await ctx.dm(
                conflict.owner,
                Message.text(text, key="ritual.escalated_owner"),
                key=f"ritual:escalate:{conflict.id}:owner",
                topic="ritual",
            )


async def _escalation(
    ctx: JobContext,
    conflict: SiloConflict,
    weeks: int,
    locale: str,
    *,
    member: Member | None = None,
    channel: Channel | None = None,
) -> None:
    text = ctx.t(
        locale,
        "ritual.escalation",
        id=conflict.id,
        pair=conflict.pair,
        weeks=weeks,
        owner=conflict.owner.name if conflict.owner else "—",
        goals=conflict.goals,
        impact=conflict.customer_impact,
        next_step=conflict.next_step,
    )
    message = Message.text(text, key="ritual.escalation")
    if channel is not None:
        await ctx.post(channel, message, key=f"ritual:escalate:{conflict.id}:mt", topic="ritual")
    if member is not None:
        await ctx.dm(member, message, key=f"ritual:escalate:{conflict.id}:{member.id}", topic="ritual")


@router.schedule(timing.DIGEST)
async def weekly_digest(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    name = ctx.settings.silo_digest_channel
    channel = await ctx.repo.channels.by_name(name) if name else None
    if channel is None:
        if name:  # a typo in the setting would otherwise silence the digest for good
            log.warning(
                "silo digest not posted: no channel with the configured name", extra={"channel": name}
            )
        return
    locale = ctx.locale_of(channel=channel)
    await ctx.post(
        channel,
        await digest(ctx, locale, fire_time),
        key=f"ritual:digest:{fire_time:%Y%m%dT%H%MZ}",
        topic="ritual",
    )


async def digest(ctx: JobContext, locale: str, now: datetime) -> Message:
    """The week in silos: new, aging and resolved conflicts, the most frequent pairs, customer moments."""
    week_ago = now - timedelta(days=7)
    repo = ctx.repo.ritual
    new = await repo.conflicts(created_since=week_ago, limit=50)
    aging = await repo.conflicts(
        statuses=UNRESOLVED, created_before=now - timedelta(weeks=AGING_WEEKS), limit=50
    )
    resolved = await repo.conflicts(statuses=[SiloStatus.resolved.value], resolved_since=week_ago, limit=50)
    pairs = (await repo.pair_counts(now - timedelta(weeks=RECURRING_WEEKS)))[:3]
    recurring = {pair.label for pair in pairs if pair.count >= RECURRING_THRESHOLD}
    moments = [run.customer_moment for run in await repo.moments_since(week_ago) if run.customer_moment]

    def section[T](key: str, items: Sequence[T], line: Callable[[T], str]) -> str:
        return ctx.t(locale, key) + "\n" + "\n".join(line(item) for item in items) if items else ""

    def listed(conflict: SiloConflict) -> str:
        return conflict_line(ctx, locale, conflict, now, recurring)

    def pair_line(pair: PairCount) -> str:
        return ctx.t(
            locale, "ritual.pair_line", pair=pair.label, count=pair.count, recurring=pair.label in recurring
        )

    parts = [
        ctx.t(locale, "ritual.digest_title"),
        section("ritual.digest_new", new, listed),
        section("ritual.digest_aging", aging, listed),
        section("ritual.digest_resolved", resolved, listed),
        section("ritual.digest_pairs", pairs, pair_line),
        section("ritual.digest_moments", moments[:5], lambda text: f"- “{text}”"),
    ]
    if not (new or aging or resolved):
        parts.insert(1, ctx.t(locale, "ritual.digest_quiet"))
    return Message.text("\n\n".join(part for part in parts if part), key="ritual.digest_title")
