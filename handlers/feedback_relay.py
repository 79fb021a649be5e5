"""The relay: the only way between an anonymous giver and the inbox, and the only reader of the giver mapping.

Everything that touches an anonymous giver passes a sealed queue (`FeedbackRelayQueue`) worked by the
``feedback.relay`` schedule (`handlers.feedback_relay_run`) on fixed five-minute marks, so every arrival
within the same five minutes shares a run: new anonymous items and the giver's answers come *in* (so an
item is never written in the same transaction as the rows that name its giver); replies, status changes
and "you said, we did" updates go *out*, each after a random 5–90 minutes kept inside the sealed row, so the
outbox holds a message to a giver only from the moment it is sent. Named items skip the queue.

A relay message can be answered with its *Reply* button or in its thread (every giver, named or anonymous):
the thread reply finds its way back through the sealed handle in the delivery's key, never a readable link.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.context import Context, JobContext
from bot.errors import Conflict, NotFound
from bot.messages import Button, Buttons, Field_, Form, Message, Text
from bot.router import Click, Router, Submission, ThreadEvent
from handlers.feedback_anonymity import hush
from handlers.feedback_common import (
    MAX_TEXT,
    RELAY_TOPIC,
    REOPEN_DAYS,
    anonymous_delay,
    clean_text,
    day_of,
    seal,
    snippet,
    stamp,
    status_label,
    tell_staff,
)
from storage.models import Member
from storage.models.feedback import FeedbackItem, FeedbackMode, FeedbackStatus

router = Router()
KIND = "feedback.relay"
TOPIC = RELAY_TOPIC
RELAY_SLOT = 5 * 60
"""Seconds between the marks the relay queue is worked on (:00, :05, :10, …)."""


# --- Writing to the queue --------------------------------------------------------------------------------
def next_mark(moment: datetime) -> datetime:
    """The first five-minute mark strictly after ``moment``."""
    seconds = int(moment.timestamp()) // RELAY_SLOT * RELAY_SLOT + RELAY_SLOT
    return datetime.fromtimestamp(seconds, UTC)


async def queue(ctx: JobContext, direction: str, payload: dict[str, Any]) -> None:
    await ctx.repo.feedback.enqueue_relay(direction, seal(ctx).seal_json(payload), day_of(ctx))
    due = payload.get("due")
    await request_run(ctx, at=datetime.fromisoformat(due) if isinstance(due, str) else None)


async def queue_item(
    ctx: JobContext, text: str, category: str, mode: FeedbackMode, *, source: str, blob: str | None = None
) -> None:
    """An anonymous item for the inbox, created by the relay's next run (within five minutes)."""
    payload = {"kind": "item", "text": text, "category": category, "mode": mode.value, "source": source}
    await queue(ctx, "in", {**payload, "blob": blob})


async def request_run(ctx: JobContext, at: datetime | None = None) -> None:
    """Make sure the queue is worked at the first mark after ``at`` (default: now); an earlier run stays."""
    now = ctx.now()
    wanted = next_mark(max(at, now) if at else now)
    existing = await ctx.repo.schedules.by_ref(KIND, "queue")
    booked = existing.next_fire_at if existing is not None and existing.enabled else None
    if booked is not None and now < booked <= wanted:
        return
    await ctx.services.scheduler.put(ctx.session, kind=KIND, ref="queue", timezone="UTC", starts_at=wanted)


async def to_giver(
    ctx: JobContext,
    item: FeedbackItem,
    key: str,
    params: dict[str, Any],
    *,
    dedupe: str | None = None,
    due: datetime | None = None,
) -> bool:
    """Tell the item's giver the prompt ``key``; False when nobody can be reached (anonymous, no replies).

    To an anonymous giver it goes through the queue and leaves at ``due`` (default: after a random while);
    messages with the same ``dedupe`` reach each giver once (give them the same ``due``).
    """
    if item.kind is FeedbackMode.anonymous_no_replies:
        return False
    if item.kind is FeedbackMode.named:
        giver = await ctx.repo.members.get(item.giver_member_id) if item.giver_member_id else None
        if giver is None or not giver.active:
            return False
        await deliver_to_giver(ctx, item, giver, key, params, not_before=None)
        return True
    leaves = due or ctx.now() + anonymous_delay()
    payload = {"item": item.id, "key": key, "params": params, "dedupe": dedupe, "due": leaves.isoformat()}
    await queue(ctx, "out", payload)
    return True


async def deliver_to_giver(
    ctx: JobContext,
    item: FeedbackItem,
    giver: Member,
    key: str,
    params: dict[str, Any],
    not_before: datetime | None,
) -> bool:
    """DM ``giver`` the prompt ``key`` about ``item`` with a Reply button (the relay's own send).

    The row names nobody but its target and carries a sealed handle as key, so a reply in its thread comes
    back to the relay. An anonymous giver's message repeats nothing of the feedback (the chat keeps it) and
    its row keeps only the day.
    """
    sealer = seal(ctx)
    locale = ctx.locale_of(giver)
    named = item.kind is FeedbackMode.named
    values = {**params, "snippet": snippet(sealer.open(item.text_sealed), 60) if named else None}
    if "status" in values:
        values["status_label"] = status_label(ctx, locale, str(values["status"]))
    handle = sealer.handle(item.id)
    answer = Button(
        label=ctx.t(locale, "feedback.button.answer"), action="feedback.answer", payload={"handle": handle}
    )
    message = Message(blocks=(Text(text=ctx.t(locale, key, **values)), Buttons(buttons=(answer,))), key=key)
    sent = await ctx.dm(
        giver, message, key=f"{TOPIC}:{handle}", topic=TOPIC, not_before=not_before, anonymous=True
    )
    if not named:
        await ctx.repo.feedback.hush_deliveries(
            day=day_of(ctx), now=ctx.now(), topic=TOPIC, spare_topic="", keys=(f"{TOPIC}:{handle}",)
        )
    return sent


# --- The giver, as only the relay knows them -----------------------------------------------------------------
def giver_id(ctx: JobContext, item: FeedbackItem) -> int | None:
    if item.kind is FeedbackMode.named:
        return item.giver_member_id
    return seal(ctx).open_giver(item.relay_blob) if item.relay_blob else None


async def _item_of_giver(ctx: Context, handle: str) -> FeedbackItem:
    item_id = seal(ctx).open_handle(handle)
    item = await ctx.repo.feedback.item(item_id) if item_id is not None else None
    if item is None or giver_id(ctx, item) != ctx.member.id:
        raise NotFound("feedback.error.not_found", id="?")
    return item


async def destroy_mappings_of(ctx: JobContext, member_id: int) -> int:
    """Make every anonymous item of ``member_id`` unreachable (the items and threads stay); returns how many.

    The blobs carry no member id, so each one is opened. Every mapping is written anew, also the others
    (same giver, fresh random IV): a dump taken before and after shows every blob changed, not which ones
    were destroyed. Items still waiting in the queue are treated the same way.
    """
    sealer = seal(ctx)
    destroyed = 0

    def rewrite(blob: str) -> str:
        nonlocal destroyed
        giver = sealer.open_giver(blob)
        if giver == member_id:
            destroyed += 1
        return sealer.seal_giver(giver) if giver is not None and giver != member_id else sealer.seal_nobody()

    for item in await ctx.repo.feedback.relayed_items():
        assert item.relay_blob is not None
        item.relay_blob = rewrite(item.relay_blob)
    for row in await ctx.repo.feedback.relay_queue():
        payload = sealer.open_json(row.sealed)
        if isinstance(payload.get("blob"), str):
            payload["blob"] = rewrite(str(payload["blob"]))
        row.sealed = sealer.seal_json(payload)
    return destroyed


# --- The giver answers back --------------------------------------------------------------------------------
@router.action("feedback.answer")
async def answer_form(ctx: Context, click: Click) -> None:
    handle = str(click.value.get("handle", ""))
    item = await _item_of_giver(ctx, handle)
    await ctx.reply(
        Message(
            blocks=(
                Form(
                    action="feedback.answer.send",
                    title=ctx.t("feedback.answer.title"),
                    fields=(
                        Field_(
                            name="text",
                            label=ctx.t("feedback.answer.label"),
                            style="textarea",
                            max_length=MAX_TEXT,
                        ),
                    ),
                    submit_label=ctx.t("feedback.answer.submit"),
                    payload={"handle": handle},
                ),
            ),
            key="feedback.answer.title",
        )
    )
    if item.kind.anonymous_kind:
        await hush(ctx)


@router.action("feedback.answer.send")
async def answer_sent(ctx: Context, submission: Submission) -> None:
    item = await _item_of_giver(ctx, str(submission.value.get("handle", "")))
    await giver_answers(ctx, item, submission.fields.get("text", ""), submission.message_ref)


@router.reply(TOPIC)
async def answer_in_thread(ctx: Context, thread: ThreadEvent) -> None:
    item = await _item_of_giver(ctx, thread.delivery_key.split(":", 1)[1])
    await giver_answers(ctx, item, thread.text)


async def giver_answers(ctx: Context, item: FeedbackItem, text: str, form_ref: str | None = None) -> None:
    """The giver's answer (form or thread): recorded at once when named, through the queue when anonymous;
    a closed item reopens within `REOPEN_DAYS`, later the giver hears why not."""
    text = clean_text(text, field="text")
    reopening = item.state.closed
    if reopening and item.closed_at and ctx.now() - item.closed_at > timedelta(days=REOPEN_DAYS):
        raise Conflict("feedback.error.closed_long_ago", days=REOPEN_DAYS)
    if item.kind is FeedbackMode.named:
        await record_answer(ctx, item, text)
        key = "feedback.answered.reopened" if reopening else "feedback.answered.named"
    else:
        await queue(ctx, "in", {"kind": "answer", "item": item.id, "text": text})
        key = "feedback.answered.reopened" if reopening else "feedback.answered.anonymous"
    await ctx.reply(ctx.message(key, id=item.id if item.kind is FeedbackMode.named else None))
    if item.kind.anonymous_kind:
        await hush(ctx, form_ref)


async def record_answer(ctx: JobContext, item: FeedbackItem, text: str) -> None:
    """Add the giver's answer to the thread, reopen a closed item, and tell its staff."""
    at = stamp(ctx, item)
    message = await ctx.repo.feedback.add_message(
        item, author="giver", text_sealed=seal(ctx).seal(text), at=at
    )
    reopened = item.state.closed
    if reopened:
        item.status = FeedbackStatus.acknowledged.value
        item.status_changed_at = at
        item.closed_at = None
    item.waiting_since = at
    item.sla_stage = 0
    giver = await ctx.repo.members.get(item.giver_member_id) if item.giver_member_id else None
    await tell_staff(
        ctx,
        item,
        "feedback.notice.reopened" if reopened else "feedback.notice.answer",
        {"text": text, "giver": giver.name if giver else None},
        idempotency=f"feedback.answer:{message.id}",
        delayed=True,
    )
