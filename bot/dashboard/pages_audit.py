"""The audit log (admin): who did or read what, filtered by actor, action and day, a page at a time.

Times and day filters are on the viewer's wall clock; actions have readable names
(``dashboard.audit.actions.<action with underscores>``), with the code itself as the fallback.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from bot.dashboard.acting import reading
from bot.dashboard.auth import Admin, Viewer
from bot.dashboard.routes import page
from storage.models import Role

ORDER = 210
FOOTER_NAV = [("dashboard.nav.audit", "/admin/audit", Role.admin)]
PAGE_SIZE = 50
SYSTEM = "system"


@dataclass(frozen=True)
class AuditFilters:
    """The filters as the viewer gave them; a malformed value is dropped and named in ``problems``."""

    actor: str = ""
    action: str = ""
    since: str = ""
    until: str = ""
    page: int = 1

    def query(self, **changes: Any) -> str:
        """The page's address with these filters (and ``changes``), for paging links."""
        values = {**asdict(self), **changes}
        return urlencode(
            {key: value for key, value in values.items() if value and (key, value) != ("page", 1)}
        )


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _start_of(day: date, zone: str) -> datetime:
    """Midnight at the start of ``day`` on the viewer's wall clock, in UTC."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def action_label(request: Request, viewer: Viewer, action: str) -> str:
    catalog = request.app.state.services.catalog
    key = f"dashboard.audit.actions.{action.replace('.', '_')}"
    return str(catalog.t(viewer.locale, key)) if catalog.has(viewer.locale, key) else action


def register(routes: APIRouter) -> None:
    @routes.get("/audit", response_class=HTMLResponse)
    async def audit(
        request: Request,
        viewer: Admin,
        actor: str = "",
        action: str = "",
        since: str = "",
        until: str = "",
        page_number: Annotated[int, Query(alias="page")] = 1,
    ) -> Response:
        services = request.app.state.services
        zone = viewer.member.timezone or services.settings.default_timezone
        first, last = _day(since), _day(until)
        problems = [
            name for name, text, day in (("since", since, first), ("until", until, last)) if text and not day
        ]
        actor_id = int(actor) if actor.isdigit() else None
        filters = AuditFilters(
            actor=actor if actor_id is not None or actor == SYSTEM else "",
            action=action[:100],
            since=first.isoformat() if first else "",
            until=last.isoformat() if last else "",
            page=max(1, min(page_number, 10_000)),
        )
        async with reading(services) as ctx:
            found = await ctx.repo.audit.search(
                actor_member_id=actor_id,
                system=filters.actor == SYSTEM,
                action=filters.action or None,
                since=_start_of(first, zone) if first else None,
                until=_start_of(last + timedelta(days=1), zone) if last else None,
                limit=PAGE_SIZE + 1,
                offset=(filters.page - 1) * PAGE_SIZE,
            )
            actions = await ctx.repo.audit.actions()
            actor_ids = await ctx.repo.audit.actors()
            names = await ctx.repo.members.names(
                {*actor_ids, *(entry.actor_member_id for entry in found if entry.actor_member_id)}
            )
        return page(
            request,
            viewer,
            "audit.html",
            entries=found[:PAGE_SIZE],
            more=len(found) > PAGE_SIZE,
            filters=filters,
            problems=problems,
            actions=sorted(
                ((action_label(request, viewer, a), a) for a in actions), key=lambda pair: pair[0].lower()
            ),
            label=lambda code: action_label(request, viewer, code),
            actors=sorted(
                ((names.get(i, f"#{i}"), str(i)) for i in actor_ids), key=lambda pair: pair[0].lower()
            ),
            actor_name=lambda member_id: names.get(member_id, f"#{member_id}"),
        )
