"""Pulses: the eNPS trend (a Chart.js line chart with a data table), each round's results, response rates.

Results are read only through `handlers.pulses.read_results`, which applies the anonymity rules (k, the
differencing check, the comment threshold) and writes the audit entry; the trend through `enps_trend`,
which shows an eNPS only where the whole round met k. Nothing here counts or filters on its own.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bot.context import JobContext
from bot.dashboard.acting import reading
from bot.dashboard.auth import Manager, Viewer
from bot.dashboard.display import local
from bot.dashboard.routes import page
from bot.errors import Conflict, NotFound
from handlers.pulses import RoundResults, TrendPoint, enps_trend, read_results
from storage.models import Role
from storage.models.pulses import PulseRound

ORDER = 50
NAV = [("dashboard.nav.pulses", "/admin/pulses", Role.cx_manager)]


def trend_chart(points: list[TrendPoint], locale: str, zone: str) -> dict[str, Any]:
    """The chart's data as JSON-ready lists (None where a round's eNPS is hidden)."""
    return {
        "labels": [
            f"{point.name} ({local(point.closes_at, zone, locale, with_time=False)})" for point in points
        ],
        "enps": [point.enps for point in points],
        "rate": [point.response_rate for point in points],
    }


def question_labels(results: RoundResults) -> dict[str, str]:
    """Short column labels as the chat writes them: eNPS, then S1, S2 … for the statements."""
    labels: dict[str, str] = {}
    for question in results.questions:
        labels[question.question_id] = (
            "eNPS" if question.kind == "enps" else f"S{len(labels) + 1 - ('eNPS' in labels.values())}"
        )
    return labels


async def _rounds(ctx: JobContext) -> list[tuple[PulseRound, int | None]]:
    """Recent rounds with their response so far (open) or final head count (closed); never values."""
    found = []
    for pulse_round in await ctx.repo.pulses.rounds(limit=30):
        responded: int | None = None
        if pulse_round.status == "open":
            responded = await ctx.repo.pulses.responded_count(pulse_round.id)
        elif pulse_round.status == "closed":
            responded = (await ctx.repo.pulses.group_stats(pulse_round.id)).get(0, (0, 0))[1]
        found.append((pulse_round, responded))
    return found


async def _page(request: Request, viewer: Viewer, round_id: int | None) -> Response:
    services = request.app.state.services
    zone = viewer.member.timezone or services.settings.default_timezone
    results: RoundResults | None = None
    selected: PulseRound | None = None
    async with reading(services) as ctx:
        trend = await enps_trend(ctx)
        rounds = await _rounds(ctx)
        if round_id is None:
            latest = await ctx.repo.pulses.latest_closed()
            round_id = latest.id if latest else None
        if round_id is not None:
            selected = await ctx.repo.pulses.get(round_id)
            if selected is None:
                raise HTTPException(status_code=404)
            try:
                results = await read_results(ctx, viewer.member, round_id, viewer.locale)
            except (Conflict, NotFound):
                results = None
    chart = trend_chart(trend, viewer.locale, zone)
    return page(
        request,
        viewer,
        "pulses.html",
        trend=trend,
        chart=chart,
        rounds=rounds,
        selected=selected,
        results=results,
        enps_question=next((q for q in results.questions if q.kind == "enps"), None) if results else None,
        labels=question_labels(results) if results else {},
    )


def register(routes: APIRouter) -> None:
    @routes.get("/pulses", response_class=HTMLResponse)
    async def pulses(request: Request, viewer: Manager) -> Response:
        return await _page(request, viewer, None)

    @routes.get("/pulses/{round_id}", response_class=HTMLResponse)
    async def pulse_round(request: Request, round_id: int, viewer: Manager) -> Response:
        return await _page(request, viewer, round_id)
