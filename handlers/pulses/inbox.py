"""Open answers of closed rounds flow into the feedback inbox as anonymous items without replies.

`send_open_answers_to_inbox` is registered in `handlers.pulses.closing.after_close`, so it runs once, in the
closing transaction of every round: the answers of questions that met the comment threshold go to the
feedback feature's public `add_anonymous_item`, which queues them for its relay (they appear in the inbox at
the relay's next run, shuffled among other arrivals). Below the threshold nothing is kept, so nothing flows.
The pulse feature never writes into feedback tables itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.context import JobContext
from handlers.feedback import add_anonymous_item
from handlers.pulses import anonymity
from handlers.pulses.closing import after_close
from handlers.pulses.library import all_questions
from storage.models.pulses import PulseRound

INBOX_CATEGORY = "other"
INBOX_SOURCE = "pulse"


@dataclass(frozen=True)
class OpenAnswer:
    ref: str
    """``pulse:<round>:<question>:<position>`` — stable, for importing each answer once."""
    round_id: int
    question_id: str
    question: str
    """The question in the organisation's default language."""
    text: str


async def open_answers_for_inbox(ctx: JobContext, round_id: int) -> list[OpenAnswer]:
    """The open answers of a closed round that met the comment threshold; [] otherwise.

    Items carry no member, no department and no time finer than the round: they cannot be answered, and
    should be shown as anonymous pulse answers.
    """
    pulse_round = await ctx.repo.pulses.get(round_id)
    if pulse_round is None or pulse_round.status != "closed":
        return []
    comments = await ctx.repo.pulses.comments(round_id)
    k = anonymity.threshold(ctx.settings.anonymity_threshold, pulse_round.threshold)
    if len(comments) < anonymity.comment_threshold(
        k, ctx.settings.comment_threshold, pulse_round.comment_threshold
    ):
        return []
    library = await all_questions(ctx.repo.pulses)
    locale = ctx.settings.default_locale
    answers = []
    positions: dict[str, int] = {}
    for question_id, text in comments:
        position = positions.get(question_id, 0)
        positions[question_id] = position + 1
        question = library.get(question_id)
        answers.append(
            OpenAnswer(
                ref=f"pulse:{round_id}:{question_id}:{position}",
                round_id=round_id,
                question_id=question_id,
                question=question.render(locale, ctx.settings.organisation) if question else question_id,
                text=text,
            )
        )
    return answers


async def send_open_answers_to_inbox(ctx: JobContext, pulse_round: PulseRound) -> None:
    """Put the round's kept open answers in the feedback inbox (the `after_close` hook)."""
    for answer in await open_answers_for_inbox(ctx, pulse_round.id):
        await add_anonymous_item(ctx, answer.text, INBOX_CATEGORY, source=INBOX_SOURCE)


if send_open_answers_to_inbox not in after_close:
    after_close.append(send_open_answers_to_inbox)
