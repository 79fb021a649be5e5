"""The silo-conflict register: list and filter, status changes, the silo map, and ritual measures.

The weekly jobs that keep it alive (reminders, escalation, the digest) are in `handlers.ritual_weekly`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.commands import ParsedCommand
from bot.context import Context, JobContext
from bot.errors import InvalidInput, NotAllowed, NotFound
from bot.messages import Button, Buttons, Message, Text
from bot.messages import Context as Footer
from bot.router import Click, Router
from handlers import ritual_schedule as timing
from storage.models import Role
from storage.models.ritual import SiloConflict, SiloStatus
from storage.repositories.ritual import UNRESOLVED, RitualMeasures, SiloMatrix

router = Router()
RECURRING_WEEKS = 8
RECURRING_THRESHOLD = 3
_TICK = timedelta(microseconds=1)  # occurrences() takes (after, until]; the periods are [start, end)


def status_of(ctx: Context, word: str) -> SiloStatus:
    """A status from its name in either language (``opgelost`` = ``resolved``)."""
    wanted = word.strip().lower()
    for status in SiloStatus:
        words = {status.value}
        for locale in ("nl", "en"):
            words |= {
                w.lower() for w in ctx.services.catalog.choices(locale, f"ritual.status_words.{status.value}")
            }
        if wanted in words:
            return status
    raise InvalidInput("ritual.error.unknown_status", given=word[:40])


def weeks_open(conflict: SiloConflict, now: datetime) -> int:
    end = conflict.resolved_at or now
    return max(0, (end - conflict.created_at).days // 7)


def conflict_line(
    ctx: JobContext, locale: str, conflict: SiloConflict, now: datetime, recurring: set[str]
) -> str:
    return ctx.t(
        locale,
        "ritual.silo_line",
        id=conflict.id,
        pair=conflict.pair,
        status=ctx.t(locale, f"ritual.status.{conflict.status}"),
        weeks=weeks_open(conflict, now),
        owner=conflict.owner.name if conflict.owner else "—",
        recurring=conflict.pair in recurring,
    )


async def recurring_labels(ctx: JobContext, now: datetime) -> set[str]:
    pairs = await ctx.repo.ritual.recurring_pairs(now, RECURRING_WEEKS, RECURRING_THRESHOLD)
    return {pair.label for pair in pairs}


# --- Commands -------------------------------------------------------------------------------------------
@router.command("silos", help_key="ritual.help.silos")
async def list_silos(ctx: Context, command: ParsedCommand) -> None:
    """``silos [open|besproken|opgelost|geëscaleerd|alle] [--afdeling X] [--mine]``."""
    statuses: list[str] | None = UNRESOLVED
    if command.args:
        word = command.args[0].lower()
        statuses = None if word in ("all", "alle", "alles") else [status_of(ctx, word).value]
    department_id = None
    department_name = command.options.get("department") or command.options.get("afdeling")
    if department_name:
        found = [d for d in await ctx.repo.members.departments() if d.name.lower() == department_name.lower()]
        if not found:
            raise NotFound("ritual.error.unknown_department_name", name=department_name[:80])
        department_id = found[0].id
    mine = "mine" in command.options or "mijn" in command.options
    conflicts = await ctx.repo.ritual.conflicts(
        statuses=statuses, department_id=department_id, owner_id=ctx.member.id if mine else None
    )
    if not conflicts:
        await ctx.reply(ctx.message("ritual.silos_none"), ephemeral=True)
        return
    now = ctx.now()
    recurring = await recurring_labels(ctx, now)
    lines = [conflict_line(ctx, ctx.locale, conflict, now, recurring) for conflict in conflicts]
    footer = (
        ctx.t("ritual.silos_recurring", pairs=", ".join(sorted(recurring)))
        if recurring
        else ctx.t("ritual.silos_hint")
    )
    await ctx.reply(
        Message(
            blocks=(
                Text(text=ctx.t("ritual.silos_title", count=len(conflicts)) + "\n" + "\n".join(lines)),
                Footer(text=footer),
            ),
            key="ritual.silos_title",
        ),
        ephemeral=True,
    )


@router.command("silo", help_key="ritual.help.silo")
async def silo(ctx: Context, command: ParsedCommand) -> None:
    """``silo <id>`` shows one conflict; ``silo <id> status <status>`` changes it (owner or CX manager)."""
    reference = command.args[0].lstrip("#") if command.args else ""
    conflict = await ctx.repo.ritual.conflict(int(reference)) if reference.isdigit() else None
    if conflict is None:
        raise NotFound("ritual.error.unknown_silo", reference=reference or "—")
    if len(command.args) == 1:
        await ctx.reply(_details(ctx, conflict), ephemeral=True)
        return
    if len(command.args) != 3 or command.args[1].lower() != "status":
        raise InvalidInput("ritual.error.silo_usage")
    await change_status(ctx, conflict, status_of(ctx, command.args[2]))


@router.button("ritual.silo_status")
async def status_button(ctx: Context, click: Click) -> None:
    conflict = await ctx.repo.ritual.conflict(int(click.value.get("silo", 0)))
    if conflict is None:
        raise InvalidInput("error.expired_action")
    await change_status(ctx, conflict, SiloStatus(str(click.value.get("status"))))


async def change_status(ctx: Context, conflict: SiloConflict, status: SiloStatus) -> None:
    if conflict.owner_member_id != ctx.member.id and not ctx.member.has_role(Role.cx_manager):
        raise NotAllowed("ritual.error.not_owner", id=conflict.id)
    before = conflict.status
    now = ctx.now()
    conflict.status = status.value
    conflict.updated_at = now
    conflict.resolved_at = now if status is SiloStatus.resolved else None
    if status is SiloStatus.escalated and conflict.escalated_at is None:
        conflict.escalated_at = now
    await ctx.audit(ctx.member, "silo.status", f"silo:{conflict.id}", before=before, after=status.value)
    await ctx.reply(
        ctx.message(
            "ritual.status_changed",
            id=conflict.id,
            pair=conflict.pair,
            status=ctx.t(f"ritual.status.{status.value}"),
        )
    )


def _details(ctx: Context, conflict: SiloConflict) -> Message:
    text = ctx.t(
        "ritual.silo_details",
        id=conflict.id,
        pair=conflict.pair,
        status=ctx.t(f"ritual.status.{conflict.status}"),
        weeks=weeks_open(conflict, ctx.now()),
        owner=conflict.owner.name if conflict.owner else "—",
        goals=conflict.goals,
        impact=conflict.customer_impact,
        next_step=conflict.next_step,
    )
    return Message(
        blocks=(Text(text=text), status_buttons(ctx, ctx.locale, conflict)), key="ritual.silo_details"
    )


def status_buttons(ctx: JobContext, locale: str, conflict: SiloConflict) -> Buttons:
    return Buttons(
        buttons=tuple(
            Button(
                label=ctx.t(
                    locale,
                    "ritual.button_status",
                    id=conflict.id,
                    status=ctx.t(locale, f"ritual.status.{status.value}"),
                ),
                action="ritual.silo_status",
                payload={"silo": conflict.id, "status": status.value},
            )
            for status in (SiloStatus.discussed, SiloStatus.resolved)
            if conflict.status != status.value
        )
    )


@router.command("silos map", help_key="ritual.help.silos_map")
async def silo_map(ctx: Context, command: ParsedCommand) -> None:
    matrix = await ctx.repo.ritual.matrix()
    if not matrix.departments:
        await ctx.reply(ctx.message("ritual.silos_none"), ephemeral=True)
        return
    await ctx.reply(
        Message.text(
            ctx.t("ritual.map_title", total=matrix.total) + "\n" + map_table(matrix), key="ritual.map_title"
        ),
        ephemeral=True,
    )


def abbreviation(name: str, taken: set[str]) -> str:
    base = "".join(word[0] for word in name.split()).upper() if " " in name else name[:3].upper()
    found, suffix = base[:3], 2
    while found in taken:
        found, suffix = f"{base[:2]}{suffix}", suffix + 1
    taken.add(found)
    return found


def map_table(matrix: SiloMatrix) -> str:
    """A compact monospace table (one `code` line per row) and the legend of abbreviations."""
    taken: set[str] = set()
    short = [abbreviation(name, taken) for name in matrix.departments]
    pad = "\u2007"  # a figure space keeps the columns aligned where spaces collapse
    header = pad * 4 + "".join(name.rjust(4, pad) for name in short)
    rows = [header] + [
        short[i].ljust(4, pad) + "".join((str(count) if count else "·").rjust(4, pad) for count in row)
        for i, row in enumerate(matrix.counts)
    ]
    legend = ", ".join(f"{abbr} = {name}" for abbr, name in zip(short, matrix.departments, strict=True))
    return "\n".join(f"`{row}`" for row in rows) + "\n" + legend


# --- Measures -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RitualStats:
    """Measures for a period: ``scheduled`` occurrences of ritual meetings next to what the repository counts."""

    since: datetime
    until: datetime
    scheduled: int
    measures: RitualMeasures


async def ritual_stats(ctx: JobContext, since: datetime, until: datetime) -> RitualStats:
    """Rituals scheduled and held, debriefs, conflicts and time to resolution in [since, until) (the dashboard's too).

    "Scheduled" counts the occurrences of every meeting, removed ones included, while its ritual was on (from
    the recorded on/off switches), so switching a ritual off or removing a meeting does not rewrite the past.
    Occurrences are expanded with the meeting's present rule."""
    until = min(until, ctx.now())
    scheduled = 0
    for meeting in await ctx.repo.ritual.meetings(include_removed=True):
        for start, end in await ctx.repo.ritual.ritual_periods(meeting):
            low, high = max(since, start), min(until, end)
            if low < high:
                scheduled += len(timing.occurrences(meeting, low - _TICK, high - _TICK))
    return RitualStats(since, until, scheduled, await ctx.repo.ritual.measures(since, until))


@router.command("ritual stats", role=Role.cx_manager, help_key="ritual.help.stats")
async def stats(ctx: Context, command: ParsedCommand) -> None:
    weeks_text = (
        command.options.get("weeks")
        or command.options.get("weken")
        or (command.args[0] if command.args else "8")
    )
    if not weeks_text.isdigit() or not 1 <= int(weeks_text) <= 104:
        raise InvalidInput("ritual.error.weeks", given=weeks_text[:20])
    now = ctx.now()
    found = await ritual_stats(ctx, now - timedelta(weeks=int(weeks_text)), now)
    m = found.measures
    await ctx.reply(
        ctx.message(
            "ritual.stats",
            weeks=int(weeks_text),
            scheduled=found.scheduled,
            held=m.held,
            ad_hoc=m.held_ad_hoc,
            debriefs_sent=m.debriefs_sent,
            debriefs_completed=m.debriefs_completed,
            reported=m.conflicts_reported,
            resolved=m.conflicts_resolved,
            open=m.open_now,
            median="—" if m.resolution_days_median is None else m.resolution_days_median,
        ),
        ephemeral=True,
    )
