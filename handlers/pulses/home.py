"""The member's open pulses on their Home: how far they are, when it closes, and a button to go on.

Only participation is read (which questions the member answered, never what they answered), the same the
reminders read.
"""

from __future__ import annotations

from bot.context import JobContext
from bot.home import HomeSection, command_button
from bot.messages import Block, Buttons, Message, Text
from bot.messages import Context as Footer
from handlers.pulses.cards import moment_text
from handlers.pulses.library import all_questions, ordered
from storage.models import Member

ORDER = 20


async def home_sections(ctx: JobContext, member: Member) -> list[HomeSection]:
    rounds = await ctx.repo.pulses.open_rounds_of(member.id)
    if not rounds:
        return []
    locale = ctx.locale_of(member)
    zone = ctx.timezone_of(member)
    library = await all_questions(ctx.repo.pulses)
    lines = []
    waiting = False
    for pulse_round in rounds:
        total = len(ordered(pulse_round.question_ids, library))
        answered = len(await ctx.repo.pulses.answered(pulse_round.id, member.id))
        closes = moment_text(ctx, locale, pulse_round.closes_at, zone)
        done = answered >= total
        waiting = waiting or not done
        lines.append(
            ctx.t(
                locale,
                "home.pulse_done" if done else "home.pulse_line",
                name=pulse_round.name,
                answered=answered,
                total=total,
                closes=closes,
            )
        )
    blocks: list[Block] = [Text(text=ctx.t(locale, "home.pulses_title") + "\n" + "\n".join(lines))]
    if waiting:
        blocks.append(Buttons(buttons=(command_button(ctx.t(locale, "home.pulse_go"), "pulse", "primary"),)))
    blocks.append(Footer(text=ctx.t(locale, "home.pulse_anonymous")))
    return [HomeSection("pulses", ORDER, Message(blocks=tuple(blocks), key="home.pulses_title"))]
