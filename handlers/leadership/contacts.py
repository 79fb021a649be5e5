"""Leaders log their own customer contacts in one line; CX managers see the counts per leader per month."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.commands import ParsedCommand
from bot.context import Context, JobContext
from bot.errors import InvalidInput
from bot.i18n import LOCALES
from bot.messages import Buttons, Message, Text
from bot.recurrence import to_utc
from bot.router import Router
from handlers.leadership.common import first_name, leaders, require_leader, who, write_button
from storage.models import Role
from storage.repositories.leadership import month_key

router = Router()
KINDS = ("dialogue", "call", "visit")
MAX_NOTE = 500
DEFAULT_MONTHS = 3
MAX_MONTHS = 12


def contact_kind(ctx: JobContext, word: str) -> str | None:
    """The kind a word names, in either language (``gebeld`` and ``call`` are both a call)."""
    word = word.lower().strip(":,.")
    for kind in KINDS:
        for locale in LOCALES:
            if word in (
                choice.lower()
                for choice in ctx.services.catalog.choices(locale, f"leadership.contact.words.{kind}")
            ):
                return kind
    return None


def month_starts(now: datetime, timezone: str, count: int) -> list[datetime]:
    """The UTC starts of the last ``count`` calendar months in ``timezone`` (oldest first), plus the next."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    year, month = local.year, local.month
    starts = []
    for back in range(count - 1, -2, -1):
        index = year * 12 + (month - 1) - back
        starts.append(to_utc(datetime(index // 12, index % 12 + 1, 1), zone))
    return starts


@router.command("contact", role=Role.leader, help_key="leadership.help.contact")
async def log_contact(ctx: Context, command: ParsedCommand) -> None:
    """``contact call Spoke with a customer about late deliveries``."""
    require_leader(ctx)
    word, _, note = command.rest.strip().partition(" ")
    kind = contact_kind(ctx, word) if word else None
    note = note.strip()
    if kind is None or not note:
        raise InvalidInput("leadership.contact.usage")
    if len(note) > MAX_NOTE:
        raise InvalidInput("error.field_too_long", limit=MAX_NOTE)
    now = ctx.now()
    contact = await ctx.repo.leadership.log_contact(ctx.member.id, kind, note, now)
    zone = ctx.timezone_of(ctx.member)
    this_month = month_starts(now, zone, 1)
    count = await ctx.repo.leadership.count_contacts(ctx.member.id, this_month[0], this_month[1])
    month = ctx.services.catalog.choices(ctx.locale, "leadership.months")[
        now.astimezone(ZoneInfo(zone)).month - 1
    ]
    lines = [
        ctx.t(
            "leadership.contact.logged",
            kind=ctx.t(f"leadership.contact.kinds.{kind}"),
            count=count,
            month=month,
            name=first_name(ctx.member),
        )
    ]
    leg = await ctx.repo.leadership.open_leg_of(ctx.member.id)
    lines.append(
        ctx.t(
            "leadership.contact.relay_nudge" if leg and leg.shared_at is None else "leadership.contact.nudge"
        )
    )
    await ctx.reply(
        Message(
            blocks=(
                Text(text="\n\n".join(lines)),
                Buttons(buttons=(write_button(ctx, ctx.locale, contact.id),)),
            ),
            key="leadership.contact.logged",
        ),
        ephemeral=True,
    )


@router.command("contacts", role=Role.cx_manager, help_key="leadership.help.contacts")
async def contact_counts(ctx: Context, command: ParsedCommand) -> None:
    """Customer contacts per leader for the last three months (``contacts 6`` for six)."""
    wanted = command.args[0] if command.args else str(DEFAULT_MONTHS)
    if not wanted.isdigit() or not 1 <= int(wanted) <= MAX_MONTHS:
        raise InvalidInput("leadership.contact.months", limit=MAX_MONTHS)
    zone = ctx.timezone_of(ctx.member)
    starts = month_starts(ctx.now(), zone, int(wanted))
    counts = await ctx.repo.leadership.monthly_contacts(starts[0], starts[-1], zone)
    names = ctx.services.catalog.choices(ctx.locale, "leadership.months")
    months = [(month_key(start, zone), start.astimezone(ZoneInfo(zone)).month) for start in starts[:-1]]
    everyone = await leaders(ctx)
    if not everyone:
        await ctx.reply(ctx.message("leadership.contact.no_leaders"), ephemeral=True)
        return
    lines = [ctx.t("leadership.contact.overview", months=len(months))]
    for leader in everyone:
        per_month = counts.get(leader.id, {})
        cells = " · ".join(f"{names[month - 1]} {per_month.get(key, 0)}" for key, month in months)
        lines.append(f"- **{who(leader)}**: {cells}")
    await ctx.reply(Message.text("\n".join(lines), key="leadership.contact.overview"), ephemeral=True)
