"""People and roles (admin): every active member with their roles; give or take away a role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bot.dashboard.acting import DashboardContext, perform, reading
from bot.dashboard.auth import Admin, CsrfViewer
from bot.dashboard.routes import page
from bot.errors import Conflict, NotFound
from storage.models import Role

ORDER = 200
FOOTER_NAV = [("dashboard.nav.members", "/admin/members", Role.admin)]
ACTIONS = {"grant": "core.role_granted", "revoke": "core.role_revoked"}
"""The form's actions and the chat's sentence for each (the same words as `role grant` / `role revoke`)."""


def register(routes: APIRouter) -> None:
    @routes.get("/members", response_class=HTMLResponse)
    async def members(request: Request, viewer: Admin) -> Response:
        async with reading(request.app.state.services) as ctx:
            people = await ctx.repo.members.active()
        roles = [role.value for role in Role if role is not Role.employee]
        return page(request, viewer, "members.html", people=people, roles=roles)

    @routes.post("/members/{member_id}/roles")
    async def change_role(
        request: Request,
        member_id: int,
        viewer: Admin,
        checked: CsrfViewer,
        role: Annotated[str, Form()],
        action: Annotated[str, Form()],
    ) -> Response:
        if role not in Role.__members__ or role == Role.employee.value or action not in ACTIONS:
            raise HTTPException(status_code=422)
        wanted = Role(role)

        async def work(ctx: DashboardContext) -> None:
            member = await ctx.repo.members.get(member_id)
            if member is None or not member.active:
                raise NotFound("error.member_not_found", reference=f"#{member_id}")
            if action == "grant":
                changed = await ctx.repo.members.grant(member, wanted)
            else:
                admins = await ctx.repo.members.with_role(Role.admin)
                if wanted is Role.admin and [admin.id for admin in admins] == [member.id]:
                    raise Conflict("dashboard.members.last_admin")
                changed = await ctx.repo.members.revoke(member, wanted)
            await ctx.audit(
                ctx.member, f"role.{action}", f"member:{member.id}", role=wanted.value, via="dashboard"
            )
            key = ACTIONS[action] if changed else "core.role_unchanged"
            await ctx.reply(ctx.t(key, name=member.name, role=ctx.t(f"roles.{wanted.value}")))

        return await perform(request, viewer, work, "/admin/members")
