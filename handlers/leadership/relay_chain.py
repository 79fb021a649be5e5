"""Reading the CX relay: the chain so far (``CEO → CFO → COO``) and who may still receive the baton."""

from __future__ import annotations

from collections.abc import Sequence

from bot.context import JobContext
from handlers.leadership.common import leaders, who
from storage.models import Member
from storage.models.leadership import Relay, RelayLeg


async def people(ctx: JobContext, legs: Sequence[RelayLeg]) -> dict[int, Member]:
    """Everyone who held or passed the baton in ``legs``, by member id."""
    found: dict[int, Member] = {}
    for member_id in {leg.holder_member_id for leg in legs} | {
        leg.passed_by_member_id for leg in legs if leg.passed_by_member_id
    }:
        member = await ctx.repo.members.get(member_id)
        if member is not None:
            found[member_id] = member
    return found


def chain(legs: Sequence[RelayLeg], names: dict[int, Member]) -> str:
    return " → ".join(who(names.get(leg.holder_member_id)) for leg in legs)


async def chain_text(ctx: JobContext, relay: Relay) -> str:
    """``Lars Hendriks (CEO) → Karin Peters (CFO)``: who has run (or now runs) a leg, in order."""
    legs = list(await ctx.repo.leadership.legs(relay.id))
    return chain(legs, await people(ctx, legs))


async def eligible_peers(ctx: JobContext, giver: Member, relay: Relay | None) -> list[Member]:
    """Leaders who may receive the baton from ``giver``: not themselves, not anyone who ran a leg."""
    ran = {leg.holder_member_id for leg in await ctx.repo.leadership.legs(relay.id)} if relay else set()
    return [member for member in await leaders(ctx) if member.id != giver.id and member.id not in ran]
