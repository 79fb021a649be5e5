"""What the leadership handlers share: who counts as a leader, how people and times are shown, schedules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.context import Context, JobContext
from bot.errors import NotAllowed
from bot.messages import Button
from storage.models import Member, Role


def is_leader(member: Member) -> bool:
    """Holding the leader role itself (an admin is not a leader by being an admin)."""
    return member.active and Role.leader in member.role_names


def require_leader(ctx: Context) -> None:
    """Snippets, contacts and the baton are for leaders only: the router lets admins through every role, so a
    leader route checks the role itself and refuses anyone else (an admin too) politely."""
    if not is_leader(ctx.member):
        raise NotAllowed("leadership.leaders_only")


async def leaders(ctx: JobContext) -> list[Member]:
    return [member for member in await ctx.repo.members.with_role(Role.leader) if is_leader(member)]


async def cx_managers(ctx: JobContext, *, besides: int | None = None) -> list[Member]:
    """The CX managers (or, when there are none, the admins), never ``besides``."""
    found = [
        member
        for member in await ctx.repo.members.with_role(Role.cx_manager)
        if Role.cx_manager in member.role_names and member.id != besides
    ]
    if not found:
        found = [member for member in await ctx.repo.members.with_role(Role.admin) if member.id != besides]
    return found


def who(member: Member | None) -> str:
    """``Lars Hendriks (CEO)``, or just the name when there is no title."""
    if member is None:
        return "?"
    return f"{member.name} ({member.title})" if member.title else member.name


def first_name(member: Member) -> str:
    return member.name.split()[0] if member.name.strip() else member.name


def local_time(ctx: JobContext, locale: str, moment: datetime, timezone: str) -> str:
    """``di 24-11-2026 09:00`` in ``timezone``, with the weekday in ``locale``."""
    local = moment.astimezone(ZoneInfo(timezone))
    weekday = ctx.services.catalog.choices(locale, "leadership.weekdays")[local.weekday()]
    return f"{weekday} {local:%d-%m-%Y %H:%M}"


def local_date(moment: datetime, timezone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(timezone)):%d-%m-%Y}"


def channel_list(names: Sequence[str]) -> str:
    return ", ".join(f"#{name}" for name in names)


async def stop_schedule(ctx: JobContext, kind: str, ref: str) -> None:
    """Switch a schedule off (it stays in the database for the record)."""
    schedule = await ctx.repo.schedules.by_ref(kind, ref)
    if schedule is not None and schedule.enabled:
        schedule.enabled = False
        schedule.updated_at = ctx.now()
        ctx.services.scheduler_changed()


def pass_button(ctx: JobContext, locale: str, key: str = "leadership.relay.button_pass") -> Button:
    """ "Pass the baton" (or, with ``key``, "Start a relay"): opens the form to choose the next leader."""
    return Button(label=ctx.t(locale, key), action="leadership.relay.open_pass", style="primary")


def write_button(ctx: JobContext, locale: str, contact_id: int | None = None) -> Button:
    """ "Write a vlog or blog": opens the snippet form (about a logged contact, when given)."""
    return Button(
        label=ctx.t(locale, "leadership.button_write"),
        action="leadership.snippet.open_form",
        payload={"contact": contact_id} if contact_id is not None else {},
        style="primary",
    )
