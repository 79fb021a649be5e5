"""The messages a member sees: question cards, the answered and closed states, reminders, thanks.

No card, confirmation or edit ever contains the value a member chose: every delivery after an answer looks
the same whatever the answer was.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.context import JobContext
from bot.messages import Button, Buttons, Choice, Field_, Form, Message, Option, Text
from bot.messages import Context as Footer
from handlers.pulses.library import Question, enps_anchors, likert_labels
from storage.models import Member
from storage.models.pulses import PulseRound

ANSWER = "pulse.answer"
COMMENT = "pulse.comment"
SKIP = "pulse.skip"
COMMENT_LIMIT = 1000


def card_key(round_id: int, member_id: int, question_id: str, suffix: str = "") -> str:
    """The outbox key of a question card (closing finds the cards still open by this prefix)."""
    return f"pulse:q:{round_id}:{member_id}:{question_id}" + (f":{suffix}" if suffix else "")


def moment_text(ctx: JobContext, locale: str, moment: datetime, timezone: str) -> str:
    """``30 nov 17:00`` in the reader's own language and time zone."""
    local = moment.astimezone(ZoneInfo(timezone))
    month = ctx.services.catalog.choices(locale, "pulse.calendar.months")[local.month - 1]
    return ctx.t(locale, "pulse.calendar.moment", day=local.day, month=month, time=f"{local:%H:%M}")


def _question_blocks(
    ctx: JobContext, locale: str, pulse_round: PulseRound, question: Question, number: int, total: int
) -> list[Text | Footer | Choice | Form | Buttons]:
    text = question.render(locale, ctx.settings.organisation)
    progress = Footer(text=ctx.t(locale, "pulse.card.progress", number=number, total=total))
    payload = {"round": pulse_round.id, "question": question.id}
    if question.kind == "open":
        form = Form(
            action=COMMENT,
            title=text,
            fields=(
                Field_(
                    name="answer",
                    label=ctx.t(locale, "pulse.card.open_label"),
                    style="textarea",
                    max_length=COMMENT_LIMIT,
                    placeholder=ctx.t(locale, "pulse.card.open_placeholder"),
                ),
            ),
            submit_label=ctx.t(locale, "pulse.card.open_submit"),
            payload=payload,
        )
        skip = Buttons(
            buttons=(Button(label=ctx.t(locale, "pulse.card.skip"), action=SKIP, payload=payload),)
        )
        note = Footer(
            text=ctx.t(locale, "pulse.card.open_note", comment_threshold=pulse_round.comment_threshold)
        )
        return [progress, form, skip, note]
    if question.kind == "enps":
        low, high = enps_anchors(locale)
    else:
        labels = likert_labels(locale)
        low, high = labels[0], labels[-1]
    choice = Choice(
        style="scale",
        action=ANSWER,
        options=tuple(
            Option(label=str(value), payload={**payload, "value": value}) for value in question.values
        ),
        low_label=low,
        high_label=high,
    )
    note = Footer(text=ctx.t(locale, "pulse.card.anonymity", threshold=pulse_round.threshold))
    return [progress, Text(text=f"**{text}**"), choice, note]


def question_card(
    ctx: JobContext,
    member: Member,
    pulse_round: PulseRound,
    question: Question,
    number: int,
    total: int,
    *,
    intro: str | None = None,
) -> Message:
    locale = ctx.locale_of(member)
    blocks: list[Text | Footer | Choice | Form | Buttons] = []
    if intro is not None:
        blocks.append(Text(text=intro))
    blocks += _question_blocks(ctx, locale, pulse_round, question, number, total)
    return Message(blocks=tuple(blocks), key="pulse.card.question")


def intro(ctx: JobContext, member: Member, pulse_round: PulseRound, total: int, kind: str = "invite") -> str:
    """The opening line of a first card: ``invite`` or ``reminder``."""
    locale = ctx.locale_of(member)
    return ctx.t(
        locale,
        f"pulse.card.{kind}",
        name=member.name.split()[0],
        count=total,
        closes=moment_text(ctx, locale, pulse_round.closes_at, ctx.timezone_of(member)),
    )


def first_card(
    ctx: JobContext, member: Member, pulse_round: PulseRound, questions: list[Question], kind: str = "invite"
) -> Message:
    """The card with the round's first question and an invitation (or reminder) above it."""
    total = len(questions)
    return question_card(
        ctx, member, pulse_round, questions[0], 1, total, intro=intro(ctx, member, pulse_round, total, kind)
    )


def settled_card(
    ctx: JobContext, locale: str, question: Question, number: int, total: int, state: str
) -> Message:
    """A card after the fact: ``answered`` or ``closed`` (the same for every answer)."""
    return Message(
        blocks=(
            Footer(text=ctx.t(locale, "pulse.card.progress", number=number, total=total)),
            Text(text=question.render(locale, ctx.settings.organisation)),
            Footer(text=ctx.t(locale, f"pulse.card.{state}")),
        ),
        key=f"pulse.card.{state}",
    )


def thanks(ctx: JobContext, member: Member, pulse_round: PulseRound) -> Message:
    locale = ctx.locale_of(member)
    closes = moment_text(ctx, locale, pulse_round.closes_at, ctx.timezone_of(member))
    return Message.text(ctx.t(locale, "pulse.thanks", closes=closes), key="pulse.thanks")
