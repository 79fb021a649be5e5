"""Meetings and the silo map: rituals held, the department × department heatmap and the conflict register."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bot.dashboard.acting import DashboardContext, act, perform, reading
from bot.dashboard.auth import Manager, ManagerAction
from bot.dashboard.display import light_markdown
from bot.dashboard.routes import page
from bot.errors import NotFound
from handlers import ritual_schedule as timing
from handlers.ritual_register import change_status, recurring_labels, ritual_stats, weeks_open
from storage.models import Meeting, Role
from storage.models.ritual import RitualRun, SiloStatus

ORDER = 40
NAV = [("dashboard.nav.meetings", "/admin/meetings", Role.cx_manager)]
PERIODS = (8, 26, 52, 0)
"""Weeks the silo map and the measures look back; 0 is everything."""


@dataclass(frozen=True)
class MeetingRow:
    meeting: Meeting
    next_at: datetime | None
    runs: list[tuple[RitualRun, str]]


def register(routes: APIRouter) -> None:
    @routes.get("/meetings", response_class=HTMLResponse)
    async def meetings(request: Request, viewer: Manager, weeks: int = 8, status: str = "open") -> Response:
        weeks = weeks if weeks in PERIODS else 8
        services = request.app.state.services
        async with reading(services) as ctx:
            now = ctx.now()
            since = now - timedelta(weeks=weeks) if weeks else None
            stats = await ritual_stats(ctx, since or datetime(2000, 1, 1, tzinfo=now.tzinfo), now)
            matrix = await ctx.repo.ritual.matrix(since, all_departments=True)
            pairs = (await ctx.repo.ritual.pair_counts(since))[:8]
            recurring = await recurring_labels(ctx, now)
            statuses = [s.value for s in SiloStatus if s.unresolved] if status == "open" else None
            conflicts = await ctx.repo.ritual.conflicts(statuses=statuses, limit=500)
            names = {member.id: member.name for member in await ctx.repo.members.active()}
            rows = []
            for meeting in await ctx.repo.ritual.meetings():
                runs = await ctx.repo.ritual.recent_runs(meeting.id, limit=5)
                rows.append(
                    MeetingRow(
                        meeting,
                        timing.next_occurrence(meeting, now),
                        [(run, names.get(run.cap_member_id or 0, "—")) for run in runs],
                    )
                )
        highest = max((max(row, default=0) for row in matrix.counts), default=0)
        return page(
            request,
            viewer,
            "meetings.html",
            stats=stats,
            matrix=matrix,
            highest=highest,
            pairs=pairs,
            recurring=recurring,
            conflicts=conflicts,
            weeks_open=lambda conflict: weeks_open(conflict, now),
            rows=rows,
            weeks=weeks,
            periods=PERIODS,
            status_filter=status if status == "all" else "open",
            silo_statuses=[s.value for s in SiloStatus],
        )

    @routes.post("/meetings/conflicts/{conflict_id}/status")
    async def conflict_status(
        request: Request, conflict_id: int, viewer: ManagerAction, status: Annotated[str, Form()]
    ) -> Response:
        if status not in SiloStatus.__members__:
            raise HTTPException(status_code=422, detail="unknown status")

        async def work(ctx: DashboardContext) -> None:
            conflict = await ctx.repo.ritual.conflict(conflict_id)
            if conflict is None:
                raise NotFound("error.not_found")
            await change_status(ctx, conflict, SiloStatus(status))

        if request.headers.get("hx-request") != "true":
            return await perform(request, viewer, work, f"/admin/meetings#conflict-{conflict_id}")
        # htmx: answer with just this conflict, its new status and the outcome, in place on the page.
        services = request.app.state.services
        outcome = await act(services, viewer, work)
        async with reading(services) as ctx:
            conflict = await ctx.repo.ritual.conflict(conflict_id)
            if conflict is None:
                raise HTTPException(status_code=404)
            now = ctx.now()
            recurring = await recurring_labels(ctx, now)
        return page(
            request,
            viewer,
            "meetings_conflict.html",
            conflict=conflict,
            recurring=recurring,
            weeks_open=lambda found: weeks_open(found, now),
            silo_statuses=[s.value for s in SiloStatus],
            inline_notice={"html": light_markdown(outcome.notice), "kind": "ok" if outcome.ok else "error"},
        )
