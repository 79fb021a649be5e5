"""Refusals inside /admin as pages in the viewer's language, never bare JSON.

A missing session sends the browser to sign in; a wrong role, a failed CSRF check, an unknown page, a method
the page doesn't take and a form that doesn't validate each get a short page that says what happened and that
nothing changed. Outside /admin FastAPI's own handlers answer as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from bot.dashboard.auth import CsrfRefused, DashboardAuth, Forbidden, SignInRequired, Viewer

if TYPE_CHECKING:
    from bot.app import Services

PROBLEMS = {400: "invalid", 403: "forbidden", 404: "not_found", 405: "method", 422: "invalid"}
"""HTTP status → ``dashboard.problem.<kind>``; any other status is ``generic``."""


def _inside(request: Request) -> bool:
    return request.url.path == "/admin" or request.url.path.startswith("/admin/")


async def _viewer(auth: DashboardAuth, request: Request) -> Viewer | None:
    """The signed-in viewer, if any: a refusal is shown in their language and with their navigation."""
    try:
        return await auth.viewer(request)
    except SignInRequired:
        return None


def install(app: FastAPI, services: Services, auth: DashboardAuth) -> None:
    from bot.dashboard.routes import page

    async def problem(request: Request, status: int, kind: str) -> Response:
        viewer = await _viewer(auth, request)
        changed_nothing = request.method not in ("GET", "HEAD")
        return page(
            request, viewer, "problem.html", status=status, kind=kind, changed_nothing=changed_nothing
        )

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _: SignInRequired) -> Response:
        return RedirectResponse("/admin/login", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, error: Forbidden) -> Response:
        viewer = await auth.viewer(request)
        role = services.catalog.t(viewer.locale, f"roles.{error.role.value}")
        return page(request, viewer, "refused.html", status=403, role=role)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _: CsrfRefused) -> Response:
        return await problem(request, 403, "csrf")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> Response:
        if not _inside(request):
            return await http_exception_handler(request, error)
        return await problem(request, error.status_code, PROBLEMS.get(error.status_code, "generic"))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        if not _inside(request):
            return await request_validation_exception_handler(request, error)
        return await problem(request, 422, "invalid")
