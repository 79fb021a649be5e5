"""The story library: every story with its status, reach and replies; approve, archive, read in full."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bot.dashboard.acting import DashboardContext, perform, reading
from bot.dashboard.auth import Manager, ManagerAction
from bot.dashboard.routes import page
from bot.errors import NotFound
from bot.platforms.web_render import render
from handlers.story_cards import story_card
from handlers.story_library import set_status
from handlers.story_slots import subscriptions
from storage.models import Role
from storage.models.stories import StoryStatus

ORDER = 30
NAV = [("dashboard.nav.stories", "/admin/stories", Role.cx_manager)]
STATS_WEEKS = 8


def register(routes: APIRouter) -> None:
    @routes.get("/stories", response_class=HTMLResponse)
    async def library(request: Request, viewer: Manager, status: str = "", locale: str = "") -> Response:
        status = status if status in StoryStatus.__members__ else ""
        locale = locale if locale in ("nl", "en") else ""
        services = request.app.state.services
        async with reading(services) as ctx:
            stories = await ctx.repo.stories.listing(status=status or None, locale=locale or None, limit=500)
            counts = await ctx.repo.stories.counts()
            stats = await ctx.repo.stories.stats(since=ctx.now() - timedelta(weeks=STATS_WEEKS), limit=200)
            slots = await subscriptions(ctx)
        engagement: dict[int, dict[str, int]] = {}
        for row in stats:
            found = engagement.setdefault(
                row.story_id, {"posts": 0, "reach": 0, "replies": 0, "reactions": 0}
            )
            for name in found:
                found[name] += getattr(row, name)
        return page(
            request,
            viewer,
            "stories.html",
            stories=stories,
            counts=counts,
            stats=stats,
            engagement=engagement,
            slots=slots,
            status_filter=status,
            locale_filter=locale,
            statuses=[s.value for s in StoryStatus],
            weeks=STATS_WEEKS,
        )

    @routes.get("/stories/{story_id}", response_class=HTMLResponse)
    async def story(request: Request, story_id: int, viewer: Manager) -> Response:
        async with reading(request.app.state.services) as ctx:
            found = await ctx.repo.stories.get(story_id)
            if found is None:
                raise HTTPException(status_code=404)
            preview = render(story_card(ctx, found))
        return page(request, viewer, "story.html", story=found, preview=preview)

    @routes.post("/stories/{story_id}/status")
    async def change_status(
        request: Request, story_id: int, viewer: ManagerAction, status: Annotated[str, Form()]
    ) -> Response:
        if status not in StoryStatus.__members__:
            raise HTTPException(status_code=422, detail="unknown status")

        async def work(ctx: DashboardContext) -> None:
            found = await ctx.repo.stories.get(story_id)
            if found is None:
                raise NotFound("error.not_found")
            changed = await set_status(ctx, found, StoryStatus(status), ctx.member)
            key = "dashboard.stories.status_set" if changed else "dashboard.stories.status_same"
            await ctx.reply(ctx.t(key, title=found.title, status=ctx.t(f"dashboard.stories.status.{status}")))

        return await perform(request, viewer, work, f"/admin/stories/{story_id}")
