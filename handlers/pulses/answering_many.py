"""Many pulse answers at once (`bot.batches`): what `answering.answer` does for each, in a few statements.

It takes only the plain case: an open round, a question of it with that value, an invited member, their
first answer to it, one click per member and round in the batch. Everything else (a closed round, someone
not invited, a second tap, a token that no longer fits) is left to `answering.answer`, which gives the
polite reply. The outcome for a taken click is the one `answering.answer` gives: the counters, the card
showing "answered", then the next question or the thanks, and never the value anywhere else.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from bot.batches import BatchClick
from bot.context import JobContext
from bot.messages import Message
from handlers.pulses.cards import ANSWER, card_key, question_card, settled_card, thanks
from handlers.pulses.library import Question, round_questions
from handlers.pulses.routes import router
from storage.models.pulses import PulseRound
from storage.repositories.pulses import Answer

log = logging.getLogger(__name__)


@router.batch(ANSWER)
async def answer_many(ctx: JobContext, clicks: Sequence[BatchClick]) -> set[int]:
    """The indexes of the clicks taken (their answers counted, their messages queued)."""
    by_round: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    for index, click in enumerate(clicks):
        try:
            round_id, question_id = int(click.value["round"]), str(click.value["question"])
            value = int(click.value["value"])
        except (KeyError, TypeError, ValueError):
            continue
        by_round[round_id].append((index, question_id, value))
    taken: set[int] = set()
    for round_id, answers in sorted(by_round.items()):  # in one order in every process: no deadlock
        pulse_round = await ctx.repo.pulses.get(round_id)
        if pulse_round is None or pulse_round.status != "open":
            continue
        taken |= await _answer_round(ctx, pulse_round, clicks, answers)
    return taken


async def _answer_round(
    ctx: JobContext,
    pulse_round: PulseRound,
    clicks: Sequence[BatchClick],
    answers: list[tuple[int, str, int]],
) -> set[int]:
    questions = await round_questions(ctx.repo.pulses, pulse_round.question_ids)
    by_id = {question.id: question for question in questions}
    plain: dict[int, tuple[int, Question, int]] = {}  # member id -> (click index, question, value)
    for index, question_id, value in answers:
        question = by_id.get(question_id)
        member_id = clicks[index].member.id
        if question is None or value not in question.values or member_id in plain:
            continue
        plain[member_id] = (index, question, value)
    invitations = await ctx.repo.pulses.invitations_of(pulse_round.id, plain)
    counted = await ctx.repo.pulses.record_answers(
        pulse_round.id,
        [
            Answer(
                member_id,
                question.id,
                value,
                invitations[member_id].department_id
                if invitations[member_id].department_id in pulse_round.groups
                else None,
            )
            for member_id, (_, question, value) in sorted(plain.items())
            if member_id in invitations
        ],
    )
    answered = await ctx.repo.pulses.answered_of(pulse_round.id, counted)
    messages = _Messages(ctx, pulse_round, questions)
    deliveries: list[dict[str, Any]] = []
    for member_id in sorted(counted):
        index, question, _ = plain[member_id]
        deliveries += await messages.after_answer(clicks[index], question, answered[member_id])
    await ctx.services.outbox.enqueue_many(ctx.session, deliveries)
    return {plain[member_id][0] for member_id in counted}


class _Messages:
    """The messages after an answer, as `answering._after_answer` sends them; built once per language."""

    def __init__(self, ctx: JobContext, pulse_round: PulseRound, questions: list[Question]) -> None:
        self.ctx, self.pulse_round, self.questions = ctx, pulse_round, questions
        self.built: dict[tuple[Any, ...], Message] = {}

    def _once(self, key: tuple[Any, ...], build: Callable[[], Message]) -> Message:
        if key not in self.built:
            self.built[key] = build()
        return self.built[key]

    async def after_answer(
        self, click: BatchClick, question: Question, answered: set[str]
    ) -> list[dict[str, Any]]:
        ctx, pulse_round, questions, member = self.ctx, self.pulse_round, self.questions, click.member
        total = len(questions)
        number = questions.index(question) + 1
        settled = self._once(
            ("settled", click.locale, question.id),
            lambda: settled_card(ctx, click.locale, question, number, total, "answered"),
        )
        event = click.event
        reply: dict[str, Any] = {
            "key": click.reply_key,
            "platform": event.platform,
            "target": event.where.ref or event.where.external_id,
            "message": settled,
            "locale": click.locale,
            "member_id": member.id,
        }
        if event.message_ref:
            reply.update(topic="edit", edit_ref=event.message_ref)
        else:  # a new message, as `Context.reply` sends it
            reply.update(topic="pulse")
        route = await ctx.services.dm_route(ctx.repo, member)
        if route is None:
            log.info("a member has no platform to reach", extra={"key": "pulse"})
            return [reply]
        locale, timezone = ctx.locale_of(member), ctx.timezone_of(member)
        remaining = [(index, q) for index, q in enumerate(questions, start=1) if q.id not in answered]
        dm: dict[str, Any] = {
            "platform": route[0],
            "target": route[1],
            "locale": locale,
            "member_id": member.id,
            "topic": "pulse",
        }
        if not remaining:
            dm["key"] = f"pulse:thanks:{pulse_round.id}:{member.id}"
            dm["message"] = self._once(("thanks", locale, timezone), lambda: thanks(ctx, member, pulse_round))
            return [reply, dm]
        index, following = remaining[0]
        dm["key"] = card_key(pulse_round.id, member.id, following.id)
        dm["message"] = self._once(
            ("card", locale, following.id),
            lambda: question_card(ctx, member, pulse_round, following, index, total),
        )
        return [reply, dm]
