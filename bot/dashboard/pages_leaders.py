"""Leaders: their vlog/blog snippets with replies and reactions, the CX relay chain, customer contacts."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.dashboard.acting import reading
from bot.dashboard.auth import Manager
from bot.dashboard.routes import page
from storage.models import Role
from storage.models.leadership import SnippetStatus

ORDER = 70
NAV = [("dashboard.nav.leaders", "/admin/leaders", Role.cx_manager)]
MONTHS = 6
SHOWN = (SnippetStatus.posted, SnippetStatus.scheduled, SnippetStatus.pending)


def months_back(now: datetime, zone: str, count: int) -> tuple[datetime, list[str]]:
    """The start of the month ``count - 1`` months ago (in ``zone``) and the ``YYYY-MM`` keys up to now."""
    local = now.astimezone(ZoneInfo(zone))
    year, month = local.year, local.month
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    first_year, first_month = (int(part) for part in keys[-1].split("-"))
    start = datetime(first_year, first_month, 1, tzinfo=ZoneInfo(zone))
    return start, list(reversed(keys))


def register(routes: APIRouter) -> None:
    @routes.get("/leaders", response_class=HTMLResponse)
    async def leaders(request: Request, viewer: Manager) -> Response:
        services = request.app.state.services
        zone = viewer.member.timezone or services.settings.default_timezone
        async with reading(services) as ctx:
            now = ctx.now()
            snippets = await ctx.repo.leadership.recent_snippets([s.value for s in SHOWN])
            responses = await ctx.repo.leadership.responses([snippet.id for snippet in snippets])
            relay = await ctx.repo.leadership.latest_relay()
            legs = await ctx.repo.leadership.legs(relay.id) if relay else []
            start, months = months_back(now, zone, MONTHS)
            end = now + timedelta(seconds=1)
            contacts = await ctx.repo.leadership.monthly_contacts(start, end, zone)
            posted = await ctx.repo.leadership.monthly_snippets(start, end, zone)
            people = {member.id: member for member in await ctx.repo.members.active()}
        leaders_ = sorted(
            {member_id for member_id in (*contacts, *posted) if member_id in people}
            | {member.id for member in people.values() if Role.leader in member.role_names},
            key=lambda member_id: people[member_id].name.lower(),
        )
        return page(
            request,
            viewer,
            "leaders.html",
            snippets=snippets,
            responses=responses,
            relay=relay,
            legs=legs,
            holder=next((leg for leg in legs if leg.passed_at is None), None)
            if relay and relay.running
            else None,
            people=people,
            months=months,
            leaders=leaders_,
            contacts=contacts,
            posted=posted,
        )
