"""Dashboard routes: sign-in, language, overview; every other page plugs in.

A page module is ``bot/dashboard/pages_<name>.py`` with ``NAV`` (main navigation) or ``FOOTER_NAV`` entries
``(key, path, role)`` and ``def register(routes: APIRouter) -> None``; every page depends on
`auth.Manager`/`Admin`/… for its role check. Refusals become pages in the viewer's language (`refusals`).
"""

from __future__ import annotations

import importlib
import pkgutil
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.routing import Match

from bot.dashboard import display, oidc, refusals
from bot.dashboard.acting import FLASH_COOKIE, reading, take_notice
from bot.dashboard.auth import CsrfRefused, CsrfViewer, DashboardAuth, Manager, Viewer, same_token
from bot.dashboard.overview import this_week
from storage.models import Role
from storage.repositories import Repos

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
display.install(templates.env)
LOGIN_CSRF = "klantpet_login_csrf"
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    # Everything is served from here (vendored Chart.js and htmx, no inline scripts): nothing else may run.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
NAV: list[tuple[str, str, Role]] = [("dashboard.nav.overview", "/admin", Role.cx_manager)]
FOOTER_NAV: list[tuple[str, str, Role]] = []


def page(
    request: Request, viewer: Viewer | None, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """Render a dashboard page in the viewer's language and time zone with the navigation they may see."""
    services = request.app.state.services
    locale = viewer.locale if viewer else services.settings.default_locale
    zone = (viewer.member.timezone if viewer else None) or services.settings.default_timezone

    def t(key: str, **params: Any) -> str:
        return str(
            services.catalog.t(locale, key, **{"organisation": services.settings.organisation, **params})
        )

    allowed = [
        (t(key), path) for key, path, role in NAV + FOOTER_NAV if viewer and viewer.member.has_role(role)
    ]
    response = templates.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "locale": locale,
            "viewer": viewer,
            "nav": allowed,
            "path": request.url.path,
            "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            "notice": take_notice(request),
            "oidc": services.settings.oidc_provider,
            **display.helpers(locale, zone),
            **context,
        },
        status_code=status,
        headers=SECURITY_HEADERS,
    )
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/admin")
    return response


def _feature_pages(routes: APIRouter) -> None:
    modules = [
        importlib.import_module(f"bot.dashboard.{info.name}")
        for info in pkgutil.iter_modules([str(HERE)])
        if info.name.startswith("pages_")
    ]
    # ``ORDER`` places a page in the navigation (the order a CX manager works in), then the module name.
    for module in sorted(modules, key=lambda found: (getattr(found, "ORDER", 100), found.__name__)):
        NAV.extend(entry for entry in getattr(module, "NAV", []) if entry not in NAV)
        FOOTER_NAV.extend(entry for entry in getattr(module, "FOOTER_NAV", []) if entry not in FOOTER_NAV)
        module.register(routes)


def _back(request: Request, wanted: str) -> str:
    """Where the language switch returns to: the page it was used on, or the nearest page above it that can
    be opened again (a form's result, such as a campaign preview, has no address of its own)."""
    found = urlsplit(wanted)
    path, query = found.path, found.query
    if found.scheme or found.netloc or not (path == "/admin" or path.startswith("/admin/")):
        return "/admin"
    while path.startswith("/admin"):
        scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            return path + (f"?{query}" if query else "")
        path, query = path.rsplit("/", 1)[0], ""
    return "/admin"


def mount(app: FastAPI, services: Any) -> None:
    auth = DashboardAuth(services)
    app.state.dashboard_auth = auth
    app.mount("/admin/static", StaticFiles(directory=HERE / "static"), name="dashboard-static")
    routes = APIRouter(prefix="/admin")
    refusals.install(app, services, auth)

    @routes.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, failed: int = 0) -> Response:
        token = secrets.token_urlsafe(24)
        response = page(request, None, "login.html", failed=bool(failed), login_csrf=token)
        response.set_cookie(
            LOGIN_CSRF, token, httponly=True, samesite="strict", secure=auth.secure, path="/admin"
        )
        return response

    @routes.post("/login")
    async def login_password(
        request: Request,
        login: Annotated[str, Form(max_length=200)],
        password: Annotated[str, Form(max_length=500)],
        csrf_token: Annotated[str, Form(max_length=100)],
    ) -> Response:
        expected = request.cookies.get(LOGIN_CSRF)
        if not expected or not same_token(csrf_token, expected):
            raise CsrfRefused
        member_id = await auth.check_password(login, password)
        if member_id is None:
            return RedirectResponse("/admin/login?failed=1", status_code=303)
        response = RedirectResponse("/admin", status_code=303)
        await auth.open(response, member_id)
        response.delete_cookie(LOGIN_CSRF, path="/admin")
        return response

    @routes.get("/login/link")
    async def login_link(request: Request, token: str) -> Response:
        member_id = await auth.use_link(token)
        if member_id is None:
            return page(request, None, "login.html", status=403, link_expired=True, login_csrf="")
        response = RedirectResponse("/admin", status_code=303)
        await auth.open(response, member_id)
        return response

    @routes.post("/logout")
    async def logout(request: Request, viewer: CsrfViewer) -> Response:
        response = RedirectResponse("/admin/login", status_code=303)
        await auth.close(request, response)
        return response

    @routes.post("/language")
    async def language(
        request: Request,
        viewer: CsrfViewer,
        locale: Annotated[str, Form()],
        back: Annotated[str, Form(max_length=2000)] = "/admin",
    ) -> Response:
        if locale not in ("nl", "en"):
            raise HTTPException(status_code=422)
        async with services.database.transaction() as session:
            member = await Repos(session).members.get(viewer.member.id)
            if member is not None:
                member.locale = locale
        return RedirectResponse(_back(request, back), status_code=303)

    @routes.get("", response_class=HTMLResponse)
    async def overview(request: Request, viewer: Manager) -> Response:
        now = services.clock.now()
        async with reading(services) as ctx:
            figures = await this_week(ctx, viewer.locale)
            week = await ctx.repo.deliveries.sent_by_topic_since(now - timedelta(days=7))
            members = await ctx.repo.members.count()
            backlog = await ctx.repo.deliveries.backlog(now)
        return page(
            request, viewer, "overview.html", figures=figures, week=week, members=members, backlog=backlog
        )

    oidc.install(app, routes, services, auth)
    _feature_pages(routes)
    app.include_router(routes)
