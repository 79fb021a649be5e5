"""The ASGI app: platform endpoints, web chat, health and metrics; errors become HTTP codes here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.app import Services
from bot.dashboard import mount as mount_dashboard
from bot.errors import InvalidInput, KlantpetError, NotAllowed, NotFound


def create_app(services: Services, *, after_start: Callable[[], None] | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await services.start()
        if after_start is not None:
            after_start()
        try:
            yield
        finally:
            await services.stop()

    app = FastAPI(title="Klantpet", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services

    @app.exception_handler(KlantpetError)
    async def _expected(_: Request, error: KlantpetError) -> JSONResponse:
        status = (
            403
            if isinstance(error, NotAllowed)
            else 404
            if isinstance(error, NotFound)
            else (422 if isinstance(error, InvalidInput) else 409)
        )
        return JSONResponse({"error": error.key}, status_code=status)

    @app.get("/healthz")
    async def health() -> JSONResponse:
        checks: dict[str, Any] = {}
        healthy = True
        try:
            await services.database.ping()
            checks["database"] = "ok"
            checks["outbox_backlog"] = await services.outbox.backlog()
        except Exception as error:
            healthy = False
            checks["database"] = f"unavailable: {type(error).__name__}"
        if services.settings.background:
            checks["scheduler"] = "running" if services.scheduler.running else "stopped"
            healthy = healthy and services.scheduler.running
        checks["platforms"] = sorted(services.platforms)
        checks["status"] = "ok" if healthy else "degraded"
        return JSONResponse(checks, status_code=200 if healthy else 503)

    @app.get("/metrics")
    async def metrics() -> Response:
        await services.outbox.backlog()
        return Response(generate_latest(services.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/")
    async def home() -> Response:
        if "web" in services.platforms:
            return RedirectResponse("/chat")
        return JSONResponse({"name": "Klantpet", "health": "/healthz"})

    for platform in services.platforms.values():
        platform.mount(app)
    mount_dashboard(app, services)
    return app
