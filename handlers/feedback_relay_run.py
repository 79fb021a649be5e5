"""Working the relay queue: the ``feedback.relay`` schedule, on the five-minute marks.

One run works one direction, in a secure random order: everything that came *in* (new anonymous items, the
givers' answers) first, otherwise what is due to go *out* to givers. Each run also forgets what the outbox
sent on the relay's behalf, and books the next run: the next mark while work waits, the mark after the next
message falls due, or the mark after the outbox's last delayed notice (to forget it once sent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.context import JobContext
from bot.router import Router
from handlers.feedback_common import QUIET_TOPIC, RELAY_TOPIC, create_item, day_of, seal, shuffled
from handlers.feedback_relay import KIND, deliver_to_giver, giver_id, record_answer, request_run
from storage.models import Schedule
from storage.models.feedback import FeedbackMode, FeedbackRelayQueue

router = Router()


@dataclass
class _Reach:
    """Who a run reached per "you said, we did" update: each giver once, however many items they gave."""

    givers: dict[str, set[int]] = field(default_factory=dict)
    unreachable: dict[str, int] = field(default_factory=dict)


def _due(payload: dict[str, Any], now: datetime) -> datetime:
    due = payload.get("due")
    return datetime.fromisoformat(due) if isinstance(due, str) else now


@router.schedule(KIND)
async def work_queue(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    now = ctx.now()
    sealer = seal(ctx)
    rows = [(row, sealer.open_json(row.sealed)) for row in await ctx.repo.feedback.relay_queue()]
    incoming = [(row, payload) for row, payload in rows if row.direction == "in"]
    outgoing = [(row, payload) for row, payload in rows if row.direction == "out"]
    due_out = [(row, payload) for row, payload in outgoing if _due(payload, now) <= now]
    batch: list[tuple[FeedbackRelayQueue, dict[str, Any]]] = shuffled(incoming or due_out)
    reach = _Reach()
    for row, payload in batch:
        if row.direction == "in":
            await _take_in(ctx, payload)
        else:
            await _send_out(ctx, payload, reach)
    for dedupe, givers in reach.givers.items():
        await _count(ctx, dedupe, len(givers), 0)
    for dedupe, count in reach.unreachable.items():
        await _count(ctx, dedupe, 0, count)
    await ctx.repo.feedback.drop_relay_rows([row.id for row, _ in batch])
    await ctx.repo.feedback.forget_sent(RELAY_TOPIC, QUIET_TOPIC, day_of(ctx))
    if incoming and due_out:
        await request_run(ctx)
    waiting = [_due(payload, now) for _, payload in outgoing if _due(payload, now) > now]
    if waiting:
        await request_run(ctx, at=min(waiting))
    if batch and not incoming:  # just handed to the outbox: forget it at the next mark, once sent
        await request_run(ctx)
    pending = await ctx.repo.feedback.pending_until(RELAY_TOPIC, QUIET_TOPIC)
    if pending is not None:
        await request_run(ctx, at=pending)


async def _count(ctx: JobContext, dedupe: str, reached: int, unreachable: int) -> None:
    kind, _, update_id = dedupe.partition(":")
    if kind == "update" and update_id.isdigit():
        await ctx.repo.feedback.count_reach(int(update_id), reached, unreachable)


async def _take_in(ctx: JobContext, payload: dict[str, Any]) -> None:
    if payload.get("kind") == "item":
        await create_item(
            ctx,
            text=str(payload.get("text", "")),
            category=str(payload.get("category")),
            mode=FeedbackMode(str(payload.get("mode"))),
            source=str(payload.get("source", "chat")),
            relay_blob=payload.get("blob") if isinstance(payload.get("blob"), str) else None,
        )
        return
    item = await ctx.repo.feedback.item(int(str(payload.get("item"))))
    if item is not None:
        await record_answer(ctx, item, str(payload.get("text", "")))


async def _send_out(ctx: JobContext, payload: dict[str, Any], reach: _Reach) -> None:
    item = await ctx.repo.feedback.item(int(str(payload.get("item"))))
    if item is None:
        return
    dedupe = payload.get("dedupe") if isinstance(payload.get("dedupe"), str) else None
    member_id = giver_id(ctx, item)
    giver = await ctx.repo.members.get(member_id) if member_id is not None else None
    # An unreachable giver is dropped in silence: logging it would name them next to the item.
    if giver is None or not giver.active or await ctx.services.dm_route(ctx.repo, giver) is None:
        if dedupe is not None:
            reach.unreachable[dedupe] = reach.unreachable.get(dedupe, 0) + 1
        return
    if dedupe is not None:
        seen = reach.givers.setdefault(dedupe, set())
        if giver.id in seen:
            return
        seen.add(giver.id)
    params = payload.get("params")
    await deliver_to_giver(
        ctx,
        item,
        giver,
        str(payload.get("key")),
        params if isinstance(params, dict) else {},
        not_before=None,
    )
