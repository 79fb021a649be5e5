"""The web chat's HTTP face: the page, its JSON API, the live stream and sign-in.

Refusals (`ChatRefused`) are answered in the person's language: ``{"detail": <sentence>, "error": <key>}``.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel

from bot.platforms.web import (
    ASSETS,
    COOKIE,
    SESSION_SECONDS,
    ChatRefused,
    ClickBody,
    ReactBody,
    SendBody,
    SubmitBody,
)
from bot.router import Outcome
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.platforms.web import WebPlatform


class LoginBody(BaseModel):
    member_id: int


def _signed_in_member(request: Request) -> int:
    platform: WebPlatform = request.app.state.services.platforms["web"]
    return platform.member_id(request)


MemberId = Annotated[int, Depends(_signed_in_member)]


def mount(app: FastAPI, platform: WebPlatform) -> None:
    """Serve the web chat under ``/chat``."""

    async def refused(request: Request, error: Exception) -> Response:
        assert isinstance(error, ChatRefused)
        token = request.cookies.get(COOKIE)
        locale = await platform.locale_of(platform.sessions.unsign(token) if token else None)
        sentence = platform.services.catalog.t(locale, f"web.error.{error.key}")
        return JSONResponse({"detail": sentence, "error": error.key}, status_code=error.status_code)

    app.add_exception_handler(ChatRefused, refused)
    app.mount("/chat/static", StaticFiles(directory=ASSETS / "static"), name="chat-static")
    app.include_router(_routes(platform))


def _routes(platform: WebPlatform) -> APIRouter:
    services = platform.services
    templates = Environment(loader=FileSystemLoader(ASSETS), autoescape=select_autoescape(["html"]))
    routes = APIRouter(prefix="/chat")

    def signed_in(request: Request) -> object:
        token = request.cookies.get(COOKIE)
        return platform.sessions.unsign(token) if token else None

    @routes.get("", response_class=HTMLResponse)
    async def page(request: Request) -> HTMLResponse:
        member_id = signed_in(request)
        locale: str = services.settings.default_locale
        member_name = None
        if isinstance(member_id, int):
            with contextlib.suppress(ChatRefused):
                _, member = await platform.actor(member_id)
                locale = services.catalog.locale(member.locale)
                member_name = member.name
        catalog = services.catalog
        strings = {
            key.removeprefix("web."): catalog.t(locale, key)
            for key in catalog.entries[locale]
            if key.startswith("web.")
        }
        html = templates.get_template("chat.html").render(
            locale=locale,
            strings=strings,
            strings_json=json.dumps(strings),
            demo=services.settings.demo_mode,
            member_name=member_name,
            organisation=services.settings.organisation,
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    @routes.get("/api/session")
    async def session_info(request: Request) -> dict[str, Any]:
        member_id = signed_in(request)
        people: list[dict[str, Any]] = []
        if services.settings.demo_mode:
            async with services.database.transaction() as session:
                for person in await Repos(session).members.active():
                    people.append(
                        {
                            "id": person.id,
                            "name": person.name,
                            "title": person.title,
                            "department": person.department_name,
                            "roles": sorted(role.value for role in person.role_names),
                        }
                    )
        return {
            "member_id": member_id if isinstance(member_id, int) else None,
            "demo": services.settings.demo_mode,
            "people": people,
        }

    @routes.post("/api/login")
    async def login(body: LoginBody, response: Response) -> dict[str, Any]:
        if not services.settings.demo_mode:
            raise ChatRefused(403, "use_link")
        await platform.actor(body.member_id)
        _set_cookie(platform, response, body.member_id)
        await platform.sign_in(body.member_id)
        return {"member_id": body.member_id}

    @routes.get("/login")
    async def link_login(token: str) -> Response:
        value = platform.links.unsign(token)
        if not isinstance(value, dict) or not await platform.use_link(value):
            raise ChatRefused(403, "link_invalid")
        response = Response(status_code=303, headers={"Location": "/chat"})
        _set_cookie(platform, response, int(value["member"]))
        await platform.sign_in(int(value["member"]))
        return response

    @routes.post("/api/logout")
    async def logout(response: Response) -> dict[str, bool]:
        response.delete_cookie(COOKIE, path="/")
        return {"ok": True}

    @routes.get("/api/conversations")
    async def conversations(member_id: MemberId) -> list[dict[str, str]]:
        return await platform.conversations(member_id)

    @routes.get("/api/messages")
    async def messages(member_id: MemberId, since: str | None = None) -> list[dict[str, Any]]:
        moment = None
        if since:
            try:
                moment = datetime.fromisoformat(since)
            except ValueError:
                raise ChatRefused(422, "bad_since") from None
        return await platform.messages(member_id, moment)

    @routes.post("/api/send")
    async def send(member_id: MemberId, body: SendBody) -> dict[str, Any]:
        return _outcome(await platform.say(member_id, body))

    @routes.post("/api/click")
    async def click(member_id: MemberId, body: ClickBody, conversation: str) -> dict[str, Any]:
        return _outcome(await platform.click(member_id, conversation, body))

    @routes.post("/api/submit")
    async def submit(member_id: MemberId, body: SubmitBody, conversation: str) -> dict[str, Any]:
        return _outcome(await platform.submit(member_id, conversation, body))

    @routes.post("/api/react")
    async def react(member_id: MemberId, body: ReactBody, conversation: str) -> dict[str, Any]:
        return _outcome(await platform.react(member_id, conversation, body))

    @routes.get("/api/stream")
    async def stream(member_id: MemberId) -> StreamingResponse:
        return StreamingResponse(
            platform.stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return routes


def _set_cookie(platform: WebPlatform, response: Response, member_id: int) -> None:
    secure = (platform.services.settings.public_url or "").startswith("https://")
    response.set_cookie(
        COOKIE,
        platform.sessions.sign(member_id, SESSION_SECONDS),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )


def _outcome(outcome: Outcome) -> dict[str, Any]:
    return {
        "duplicate": outcome.duplicate,
        "error": outcome.error.key if outcome.error else None,
        "field": getattr(outcome.error, "field", None),
    }
