"""The member's feedback on their Home: what they gave with their name, its status and its thread.

Anonymous feedback belongs to nobody (no member id is stored with it), so it never shows here; the Home
says so. Every member can give feedback from here.
"""

from __future__ import annotations

from bot.context import JobContext
from bot.home import HomeSection, command_button
from bot.messages import Block, Buttons, Message, Text
from bot.messages import Context as Footer
from handlers.feedback_common import open_button, seal, snippet, status_label
from storage.models import Member

ORDER = 30
SHOWN = 5


async def home_sections(ctx: JobContext, member: Member) -> list[HomeSection]:
    locale = ctx.locale_of(member)
    items = await ctx.repo.feedback.of_giver(member.id, limit=SHOWN)
    blocks: list[Block] = []
    if items:
        sealer = seal(ctx)
        lines = [
            ctx.t(
                locale,
                "home.feedback_line",
                id=item.id,
                status_label=status_label(ctx, locale, item.status),
                replies=len(await ctx.repo.feedback.thread(item.id)),
                snippet=snippet(sealer.open(item.text_sealed), 70),
            )
            for item in items
        ]
        blocks.append(Text(text=ctx.t(locale, "home.feedback_title") + "\n" + "\n".join(lines)))
        buttons = [open_button(ctx, locale, item) for item in items]
    else:
        blocks.append(Text(text=ctx.t(locale, "home.feedback_title")))
        blocks.append(Footer(text=ctx.t(locale, "home.feedback_none")))
        buttons = []
    buttons.append(command_button(ctx.t(locale, "home.feedback_give"), "feedback"))
    blocks.append(Buttons(buttons=tuple(buttons)))
    blocks.append(Footer(text=ctx.t(locale, "home.feedback_anonymous")))
    return [HomeSection("feedback", ORDER, Message(blocks=tuple(blocks), key="home.feedback_title"))]
