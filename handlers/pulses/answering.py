"""Answering a pulse: one tap per scale question, a small form (or a skip) for the optional open one, one
answer each.

What a member chose goes into a counter (or, sealed, the comment buffer) and nowhere else: the card update,
the next card and the thanks are the same for every answer, a skip included, and nothing here logs or audits
a value.
"""

from __future__ import annotations

from typing import Any

from bot.commands import ParsedCommand
from bot.context import Context
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.events import MemberJoined
from handlers.pulses.cards import (
    ANSWER,
    COMMENT,
    COMMENT_LIMIT,
    SKIP,
    card_key,
    intro,
    question_card,
    settled_card,
    thanks,
)
from handlers.pulses.delivery import send_first_card
from handlers.pulses.library import Question, round_questions
from handlers.pulses.routes import router
from handlers.pulses.sealing import sealer
from storage.models.pulses import PulseInvitation, PulseRound


async def _question(ctx: Context, value: dict[str, Any]) -> tuple[PulseRound, list[Question], Question]:
    try:
        round_id, question_id = int(value["round"]), str(value["question"])
    except (KeyError, TypeError, ValueError):
        raise InvalidInput("error.expired_action") from None
    pulse_round = await ctx.repo.pulses.get(round_id)
    if pulse_round is None:
        raise NotFound("pulse.error.no_such_round", given=round_id)
    questions = await round_questions(ctx.repo.pulses, pulse_round.question_ids)
    question = next((q for q in questions if q.id == question_id), None)
    if question is None:
        raise InvalidInput("error.expired_action")
    return pulse_round, questions, question


async def _accepting(
    ctx: Context,
    pulse_round: PulseRound,
    questions: list[Question],
    question: Question,
    message_ref: str | None,
) -> PulseInvitation | None:
    """The member's invitation, or None (after telling them) when the round no longer takes answers."""
    if pulse_round.status == "open":
        invitation = await ctx.repo.pulses.invitation(pulse_round.id, ctx.member.id)
        if invitation is None:
            raise NotAllowed("pulse.not_invited")
        return invitation
    number = questions.index(question) + 1
    await ctx.update(message_ref, settled_card(ctx, ctx.locale, question, number, len(questions), "closed"))
    await ctx.reply(ctx.message("pulse.closed"), ephemeral=True)
    return None


async def _after_answer(
    ctx: Context,
    pulse_round: PulseRound,
    questions: list[Question],
    question: Question,
    message_ref: str | None,
) -> None:
    number = questions.index(question) + 1
    await ctx.update(message_ref, settled_card(ctx, ctx.locale, question, number, len(questions), "answered"))
    answered = await ctx.repo.pulses.answered(pulse_round.id, ctx.member.id)
    remaining = [(index, q) for index, q in enumerate(questions, start=1) if q.id not in answered]
    if not remaining:
        await ctx.dm(
            ctx.member,
            thanks(ctx, ctx.member, pulse_round),
            key=f"pulse:thanks:{pulse_round.id}:{ctx.member.id}",
        )
        return
    index, following = remaining[0]
    await ctx.dm(
        ctx.member,
        question_card(ctx, ctx.member, pulse_round, following, index, len(questions)),
        key=card_key(pulse_round.id, ctx.member.id, following.id),
        topic="pulse",
    )


@router.action(ANSWER)
async def answer(ctx: Context, click: Any) -> None:
    pulse_round, questions, question = await _question(ctx, click.value)
    try:
        value = int(click.value["value"])
    except (KeyError, TypeError, ValueError):
        raise InvalidInput("error.expired_action") from None
    if value not in question.values:
        raise InvalidInput("error.expired_action")
    invitation = await _accepting(ctx, pulse_round, questions, question, click.message_ref)
    if invitation is None:
        return
    group = invitation.department_id if invitation.department_id in pulse_round.groups else None
    if not await ctx.repo.pulses.record_answer(pulse_round.id, ctx.member.id, question.id, value, group):
        raise Conflict("pulse.already_answered")
    await _after_answer(ctx, pulse_round, questions, question, click.message_ref)


@router.form(COMMENT)
async def comment(ctx: Context, submission: Any) -> None:
    pulse_round, questions, question = await _question(ctx, submission.value)
    text = " ".join(str(submission.fields.get("answer", "")).split())
    if not text:
        raise InvalidInput("error.field_required", field="answer")
    if len(text) > COMMENT_LIMIT:
        raise InvalidInput("error.field_too_long", field="answer", limit=COMMENT_LIMIT)
    await _keep_open_answer(ctx, pulse_round, questions, question, text, submission.message_ref)


@router.action(SKIP)
async def skip(ctx: Context, click: Any) -> None:
    """The open question is optional: skipping it counts as taking part, and the thanks follow."""
    pulse_round, questions, question = await _question(ctx, click.value)
    if question.kind != "open":
        raise InvalidInput("error.expired_action")
    await _keep_open_answer(ctx, pulse_round, questions, question, None, click.message_ref)


async def _keep_open_answer(
    ctx: Context,
    pulse_round: PulseRound,
    questions: list[Question],
    question: Question,
    text: str | None,
    message_ref: str | None,
) -> None:
    """Buffer an open answer (None: a skip) sealed, so the database cannot tell the two apart or read it."""
    if await _accepting(ctx, pulse_round, questions, question, message_ref) is None:
        return
    sealed = sealer(ctx.services.relay_key).seal(text)
    if not await ctx.repo.pulses.record_comment(pulse_round.id, ctx.member.id, question.id, sealed):
        raise Conflict("pulse.already_answered")
    await _after_answer(ctx, pulse_round, questions, question, message_ref)


@router.command("pulse", help_key="pulse.help.pulse")
async def my_pulse(ctx: Context, command: ParsedCommand) -> None:
    """An employee asks for their open pulse: the next unanswered question arrives in their DM."""
    sent = 0
    for pulse_round in await ctx.repo.pulses.open_rounds_of(ctx.member.id):
        questions = await round_questions(ctx.repo.pulses, pulse_round.question_ids)
        answered = await ctx.repo.pulses.answered(pulse_round.id, ctx.member.id)
        remaining = [(index, q) for index, q in enumerate(questions, start=1) if q.id not in answered]
        if not remaining:
            continue
        index, question = remaining[0]
        sent += await ctx.dm(
            ctx.member,
            question_card(
                ctx,
                ctx.member,
                pulse_round,
                question,
                index,
                len(questions),
                intro=intro(ctx, ctx.member, pulse_round, len(questions)) if index == 1 else None,
            ),
            key=card_key(pulse_round.id, ctx.member.id, question.id, f"again:{ctx.event.event_id}"),
            topic="pulse",
        )
    if not sent:
        await ctx.reply(ctx.message("pulse.none_open"), ephemeral=True)
    elif ctx.channel is not None:
        await ctx.reply(ctx.message("pulse.sent_to_dm"), ephemeral=True)


@router.joined()
async def invite_newcomer(ctx: Context, event: MemberJoined) -> None:
    """Someone who arrives while an everyone- or department-wide round is open is asked too."""
    for pulse_round in await ctx.repo.pulses.rounds(statuses=["open"], limit=50):
        audience = pulse_round.audience
        if audience["kind"] in ("channels", "members"):
            continue
        if audience["kind"] == "departments" and ctx.member.department_id not in audience["ids"]:
            continue
        if not await ctx.repo.pulses.invite(pulse_round.id, [(ctx.member.id, ctx.member.department_id)]):
            continue
        pulse_round.invited_count += 1
        questions = await round_questions(ctx.repo.pulses, pulse_round.question_ids)
        await send_first_card(ctx, pulse_round, ctx.member, questions, ctx.now())
