"""Who a round asks: everyone, departments, channels (their members) or a fixed list of people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.context import JobContext
from bot.errors import InvalidInput
from storage.models import Member

AudienceKind = Literal["everyone", "departments", "channels", "members"]


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind = "everyone"
    names: tuple[str, ...] = ()
    """Department or channel names (for ``departments`` / ``channels``)."""
    member_ids: tuple[int, ...] = ()
    """For ``members``: exactly these people (a campaign's cohort of new joiners)."""


async def resolve_audience(ctx: JobContext, audience: Audience) -> dict[str, Any]:
    if audience.kind == "everyone":
        return {"kind": "everyone", "ids": [], "names": []}
    if audience.kind == "members":
        if not audience.member_ids:
            raise InvalidInput("pulse.error.audience_empty")
        return {"kind": "members", "ids": sorted(set(audience.member_ids)), "names": []}
    if not audience.names:
        raise InvalidInput("pulse.error.audience_empty")
    ids: list[int] = []
    names: list[str] = []
    if audience.kind == "departments":
        known = {
            department.name.casefold(): department for department in await ctx.repo.members.departments()
        }
        for name in audience.names:
            department = known.get(name.casefold())
            if department is None:
                raise InvalidInput(
                    "pulse.error.unknown_department",
                    given=name,
                    known=", ".join(d.name for d in known.values()),
                )
            ids.append(department.id)
            names.append(department.name)
    else:
        for name in audience.names:
            channel = await ctx.repo.channels.by_name(name)
            if channel is None:
                raise InvalidInput("pulse.error.unknown_channel", given=name)
            ids.append(channel.id)
            names.append(channel.name)
    return {"kind": audience.kind, "ids": ids, "names": names}


async def audience_members(ctx: JobContext, audience: dict[str, Any]) -> list[Member]:
    """The active members a round with this (resolved) audience asks, by member id."""
    if audience["kind"] == "everyone":
        return list(await ctx.repo.members.active())
    if audience["kind"] == "departments":
        return list(await ctx.repo.members.active(audience["ids"]))
    if audience["kind"] == "members":
        chosen = set(audience["ids"])
        return [member for member in await ctx.repo.members.active() if member.id in chosen]
    member_ids: set[int] = set()
    for channel_id in audience["ids"]:
        member_ids.update(await ctx.repo.channels.member_ids(channel_id))
    return [member for member in await ctx.repo.members.active() if member.id in member_ids]
