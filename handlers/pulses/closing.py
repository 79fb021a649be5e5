"""Closing a round: settle the cards still open, seal the counts, open the sealed comments and release those
of questions that met the comment threshold (dropping the rest), reduce participation to head counts, then
let other features know (`after_close`: the feedback inbox)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.context import JobContext
from handlers.pulses import anonymity
from handlers.pulses.cards import settled_card
from handlers.pulses.library import Question, round_questions
from handlers.pulses.sealing import InvalidToken, sealer
from handlers.pulses.themes import summarise
from storage.models.pulses import WHOLE_AUDIENCE, PulseRound

log = logging.getLogger(__name__)

AfterClose = Callable[[JobContext, PulseRound], Awaitable[None]]
after_close: list[AfterClose] = []
"""Called in the closing transaction with the sealed round (see `handlers.pulses.inbox`)."""


def hidden_groups(
    pulse_round: PulseRound, questions: list[Question], tallies: dict[tuple[str, int], dict[int, int]], k: int
) -> dict[str, set[int]]:
    """Per scale question, the groups (0 = the whole audience) whose counts may not be kept."""
    hidden: dict[str, set[int]] = {}
    for question in questions:
        if not question.values:
            continue
        whole = anonymity.respondents(tallies.get((question.id, WHOLE_AUDIENCE), {}))
        groups = {
            group: anonymity.respondents(tallies.get((question.id, group), {}))
            for group in pulse_round.groups
        }
        shown = anonymity.shown_groups(whole, groups, k)
        hidden[question.id] = set(pulse_round.groups) - shown
        if whole < k:
            hidden[question.id].add(WHOLE_AUDIENCE)
    return hidden


async def close_round(ctx: JobContext, pulse_round: PulseRound) -> bool:
    """Close an open round (a round that never opened is cancelled); False when nothing changed."""
    if pulse_round.status == "scheduled":
        pulse_round.status = "cancelled"
        return True
    if pulse_round.status != "open":
        return False
    repo = ctx.repo.pulses
    questions = await round_questions(repo, pulse_round.question_ids)
    await _settle_cards(ctx, pulse_round, questions)
    k = anonymity.threshold(ctx.settings.anonymity_threshold, pulse_round.threshold)
    await repo.seal(
        pulse_round.id, hidden_groups(pulse_round, questions, await repo.tallies(pulse_round.id), k)
    )
    comment_threshold = anonymity.comment_threshold(
        k, ctx.settings.comment_threshold, pulse_round.comment_threshold
    )
    answers = await _open_buffer(ctx, pulse_round)
    released = await repo.release_comments(
        pulse_round.id,
        {question_id: texts for question_id, texts in answers.items() if len(texts) >= comment_threshold},
    )
    await repo.summarise_participation(pulse_round)
    pulse_round.status = "closed"
    pulse_round.closed_at = ctx.now()
    if released:
        await summarise(ctx, pulse_round)
    for hook in after_close:
        await hook(ctx, pulse_round)
    return True


async def _open_buffer(ctx: JobContext, pulse_round: PulseRound) -> dict[str, list[str]]:
    """The round's sealed open answers, opened: question id → texts (skips left out)."""
    opener = sealer(ctx.services.relay_key)
    answers: dict[str, list[str]] = {}
    unreadable = 0
    for question_id, sealed in await ctx.repo.pulses.buffered(pulse_round.id):
        try:
            text = opener.open(sealed)
        except InvalidToken:
            unreadable += 1
            continue
        if text is not None:
            answers.setdefault(question_id, []).append(text)
    if unreadable:  # the relay key changed while the round was open: these answers are lost
        log.warning("%d open answers of pulse round %d could not be opened", unreadable, pulse_round.id)
    return answers


async def _settle_cards(ctx: JobContext, pulse_round: PulseRound, questions: list[Question]) -> None:
    """Cards still showing buttons now say the round is closed; cards not sent yet are withdrawn."""
    repo = ctx.repo.pulses
    cards = await repo.cards(pulse_round.id)
    await repo.withdraw(cards)
    sent = [card for card in cards if card.platform_message_id]
    settled = await repo.edited_refs(card.platform_message_id or "" for card in sent)
    numbers = {question.id: (index, question) for index, question in enumerate(questions, start=1)}
    for card in sent:
        assert card.platform_message_id is not None
        question_id = card.idempotency_key.split(":")[4]
        if card.platform_message_id in settled or question_id not in numbers:
            continue
        number, question = numbers[question_id]
        await ctx.services.outbox.enqueue(
            ctx.session,
            key=f"pulse:closed:{card.id}",
            topic="edit",
            platform=card.platform,
            target=card.target,
            message=settled_card(ctx, card.locale, question, number, len(questions), "closed"),
            locale=card.locale,
            member_id=card.member_id,
            edit_ref=card.platform_message_id,
        )
