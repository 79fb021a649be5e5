"""Privacy and data rights: what is kept about you, exports, erasure and retention of platform leftovers.

- `mydata` (`mijngegevens`): a member sees what Klantpet keeps about them, counted per kind, and how to ask
  for a copy or for erasure.
- `export_member(ctx, member, progress)` (`handlers.privacy_export`) and `erase_member(ctx, member, actor)`
  (`handlers.privacy_erase`): the services behind ``klantpet privacy export|erase``.
- `apply_retention`: the daily ``privacy.retention`` job's part for the platforms' own tables (Telegram
  invitations and forms in progress); features hold their own hooks (feedback, pulses).

See ``docs/privacy.md``.
"""

from __future__ import annotations

from datetime import timedelta

from bot.commands import ParsedCommand
from bot.context import Context, JobContext
from bot.messages import Message, Text
from bot.router import Router
from handlers.privacy_erase import erase_member, erased_name, was_erased
from handlers.privacy_export import export_member, section_counts, to_json

router = Router()
FORM_LIFETIME = timedelta(days=1)
"""A Telegram form left untouched this long is abandoned (the platform drops it too)."""

__all__ = [
    "apply_retention",
    "erase_member",
    "erased_name",
    "export_member",
    "router",
    "to_json",
    "was_erased",
]


@router.command("mydata", help_key="privacy.help.mydata")
async def my_data(ctx: Context, command: ParsedCommand) -> None:
    counts = section_counts(await export_member(ctx, ctx.member))
    lines = [
        ctx.t("privacy.mydata.line", label=ctx.t(f"privacy.section.{kind}"), count=count)
        for kind, count in counts.items()
        if count
    ] or [ctx.t("privacy.mydata.nothing")]
    await ctx.reply(
        Message(
            blocks=(
                Text(text=ctx.t("privacy.mydata.title") + "\n" + "\n".join(lines)),
                Text(text=ctx.t("privacy.mydata.anonymous")),
                Text(text=ctx.t("privacy.mydata.rights")),
            ),
            key="privacy.mydata.title",
        ),
        ephemeral=True,
    )


async def apply_retention(ctx: JobContext) -> dict[str, int]:
    now = ctx.now()
    days = timedelta(days=1)
    return {
        "telegram_invites": await ctx.repo.telegram.forget_invites_before(
            now - ctx.settings.retention_telegram_invites_days * days
        ),
        "telegram_forms": await ctx.repo.telegram.forget_stale_forms(now - FORM_LIFETIME),
    }
