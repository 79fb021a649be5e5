"""The feedback inbox: triage, answer (through the relay when anonymous), themes and "you said, we did".

The list shows no texts. Opening an item shows its text and thread and writes a ``feedback.read`` audit
entry naming the reader. Giver identities of anonymous items and relay blobs are never read here: the
answering, status and publishing services of the feedback feature do the relaying, as in the chat.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bot.context import JobContext
from bot.dashboard.acting import DashboardContext, act, done, perform, reading
from bot.dashboard.auth import Manager, ManagerAction
from bot.dashboard.routes import page
from bot.errors import InvalidInput, NotFound
from handlers.feedback_anonymity import audit_item
from handlers.feedback_common import seal
from handlers.feedback_inbox import set_owner, set_status, staff_reply
from handlers.feedback_settings import local_date, read_settings, working_days_between
from handlers.feedback_themes import add_to_theme
from handlers.feedback_updates import publish
from storage.models import Role
from storage.models.feedback import FeedbackItem, FeedbackMode, FeedbackStatus

ORDER = 60
NAV = [("dashboard.nav.feedback", "/admin/feedback", Role.cx_manager)]
UPDATES_DAYS = 90


def _ages(ctx: JobContext, item: FeedbackItem) -> tuple[int, int | None]:
    """Days since it came in, and working days its giver has waited for an answer (None: not waiting)."""
    today = local_date(ctx, ctx.now())
    age = (today - local_date(ctx, item.created_at)).days
    waiting = working_days_between(local_date(ctx, item.waiting_since), today) if item.waiting_since else None
    return age, waiting


async def _item(ctx: JobContext, item_id: int) -> FeedbackItem:
    item = await ctx.repo.feedback.item(item_id)
    if item is None:
        raise NotFound("feedback.error.not_found", id=item_id)
    return item


def register(routes: APIRouter) -> None:
    @routes.get("/feedback", response_class=HTMLResponse)
    async def inbox(request: Request, viewer: Manager, view: str = "open") -> Response:
        services = request.app.state.services
        async with reading(services) as ctx:
            now = ctx.now()
            statuses = [s.value for s in FeedbackStatus] if view == "all" else None
            items = await (
                ctx.repo.feedback.inbox(statuses, limit=500)
                if statuses
                else ctx.repo.feedback.inbox(limit=500)
            )
            members = {member.id: member for member in await ctx.repo.members.active()}
            rows = [(item, *_ages(ctx, item)) for item in items]
            themes = await ctx.repo.feedback.themes()
            sizes = await ctx.repo.feedback.theme_sizes()
            updates = await ctx.repo.feedback.updates_between(
                now - timedelta(days=UPDATES_DAYS), now + timedelta(seconds=1)
            )
            by_status = await ctx.repo.feedback.counts_by_status()
            by_category = await ctx.repo.feedback.counts_by_category(now - timedelta(days=30))
            settings = await read_settings(ctx)
        return page(
            request,
            viewer,
            "feedback.html",
            rows=rows,
            members=members,
            themes=themes,
            theme_titles={theme.id: theme.title for theme in themes},
            sizes=sizes,
            updates=list(reversed(updates)),
            by_status=by_status,
            by_category=by_category,
            statuses=[s.value for s in FeedbackStatus],
            view="all" if view == "all" else "open",
            sla_days=settings.sla_days,
            updates_days=UPDATES_DAYS,
        )

    @routes.get("/feedback/{item_id}", response_class=HTMLResponse)
    async def item_page(request: Request, item_id: int, viewer: Manager) -> Response:
        services = request.app.state.services
        async with reading(services) as ctx:
            item = await ctx.repo.feedback.item(item_id)
            if item is None:
                raise HTTPException(status_code=404)
            sealer = seal(ctx)
            members = {member.id: member for member in await ctx.repo.members.active()}
            named = item.kind is FeedbackMode.named
            giver = members.get(item.giver_member_id or 0) if named else None
            thread = [
                (message, members.get(message.author_member_id or 0), sealer.open(message.text_sealed))
                for message in await ctx.repo.feedback.thread(item.id)
            ]
            text = sealer.open(item.text_sealed)
            reason = sealer.open(item.reason_sealed) if item.reason_sealed else None
            age, waiting = _ages(ctx, item)
            themes = await ctx.repo.feedback.themes()
            await audit_item(ctx, viewer.member, "feedback.read", [item], via="dashboard")
        return page(
            request,
            viewer,
            "feedback_item.html",
            item=item,
            text=text,
            reason=reason,
            giver=giver,
            thread=thread,
            age=age,
            waiting=waiting,
            themes=themes,
            people=sorted(members.values(), key=lambda member: member.name.lower()),
            owner=members.get(item.owner_member_id or 0),
            statuses=[s.value for s in FeedbackStatus if s is not FeedbackStatus.new],
            can_reply=item.kind is not FeedbackMode.anonymous_no_replies,
        )

    @routes.post("/feedback/{item_id}/reply")
    async def reply(
        request: Request,
        item_id: int,
        viewer: ManagerAction,
        text: Annotated[str, Form(max_length=8000)] = "",
    ) -> Response:
        async def work(ctx: DashboardContext) -> None:
            await staff_reply(ctx, await _item(ctx, item_id), text)

        return await perform(request, viewer, work, f"/admin/feedback/{item_id}")

    @routes.post("/feedback/{item_id}/status")
    async def status(
        request: Request,
        item_id: int,
        viewer: ManagerAction,
        status: Annotated[str, Form()],
        reason: Annotated[str, Form(max_length=8000)] = "",
    ) -> Response:
        if status not in FeedbackStatus.__members__:
            raise HTTPException(status_code=422, detail="unknown status")

        async def work(ctx: DashboardContext) -> None:
            await set_status(ctx, await _item(ctx, item_id), FeedbackStatus(status), reason or None)

        return await perform(request, viewer, work, f"/admin/feedback/{item_id}")

    @routes.post("/feedback/{item_id}/owner")
    async def owner(
        request: Request, item_id: int, viewer: ManagerAction, owner: Annotated[int, Form()]
    ) -> Response:
        async def work(ctx: DashboardContext) -> None:
            await set_owner(ctx, await _item(ctx, item_id), owner)

        return await perform(request, viewer, work, f"/admin/feedback/{item_id}")

    @routes.post("/feedback/{item_id}/theme")
    async def theme(
        request: Request, item_id: int, viewer: ManagerAction, theme: Annotated[int, Form()]
    ) -> Response:
        async def work(ctx: DashboardContext) -> None:
            await add_to_theme(ctx, theme, [await _item(ctx, item_id)])

        return await perform(request, viewer, work, f"/admin/feedback/{item_id}")

    @routes.get("/feedback/themes/{theme_id}", response_class=HTMLResponse)
    async def theme_page(request: Request, theme_id: int, viewer: Manager) -> Response:
        async with reading(request.app.state.services) as ctx:
            found = await ctx.repo.feedback.theme(theme_id)
            if found is None:
                raise HTTPException(status_code=404)
            items = await ctx.repo.feedback.inbox(
                [s.value for s in FeedbackStatus], theme_id=theme_id, limit=1000
            )
            rows = [(item, *_ages(ctx, item)) for item in items]
            settings = await read_settings(ctx)
            channels = await ctx.repo.channels.all()
        return page(
            request,
            viewer,
            "feedback_theme.html",
            theme=found,
            rows=rows,
            channels=channels,
            default_channel=settings.channel_id,
        )

    @routes.post("/feedback/themes")
    async def new_theme(
        request: Request, viewer: ManagerAction, title: Annotated[str, Form(max_length=1000)] = ""
    ) -> Response:
        async def work(ctx: DashboardContext) -> int:
            cleaned = " ".join(title.split())
            if not cleaned or len(cleaned) > 200:
                raise InvalidInput("feedback.error.theme_title")
            created = await ctx.repo.feedback.add_theme(cleaned, ctx.member.id, ctx.now())
            await ctx.audit(ctx.member, "feedback.theme", f"feedback_theme:{created.id}")
            await ctx.reply(ctx.t("feedback.theme.created", id=created.id, title=cleaned))
            return created.id

        outcome = await act(request.app.state.services, viewer, work)
        return done(
            request,
            f"/admin/feedback/themes/{outcome.value}" if outcome.ok else "/admin/feedback#themes",
            outcome,
        )

    @routes.post("/feedback/themes/{theme_id}/update")
    async def theme_update(
        request: Request,
        theme_id: int,
        viewer: ManagerAction,
        status: Annotated[str, Form()],
        text: Annotated[str, Form(max_length=8000)] = "",
        channel: Annotated[str, Form()] = "",
    ) -> Response:
        if status not in (FeedbackStatus.planned.value, FeedbackStatus.done.value):
            raise HTTPException(status_code=422, detail="planned or done")

        async def work(ctx: DashboardContext) -> None:
            found = await ctx.repo.feedback.theme(theme_id)
            if found is None:
                raise NotFound("error.not_found")
            target = await ctx.repo.channels.get(int(channel)) if channel.isdigit() else None
            await publish(ctx, found, FeedbackStatus(status), text, target)

        return await perform(request, viewer, work, f"/admin/feedback/themes/{theme_id}")
