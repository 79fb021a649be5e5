"""Doing things from the dashboard with the same services the chat uses, and telling the viewer the outcome.

A dashboard action runs a feature's own service function (``staff_reply``, ``publish``, ``set_status`` …)
inside a `DashboardContext`: the viewer acts as if they had typed the command, every rule and audit entry
of the feature applies, and whatever the service would have replied in the chat is shown on the page as a
notice instead of being sent. An expected error (`KlantpetError`) rolls the action back and becomes a
polite notice in the viewer's language.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from bot import markup
from bot.context import Context, JobContext
from bot.errors import KlantpetError
from bot.events import Actor, Command, Where
from bot.messages import Message, Text
from bot.signing import Signer
from storage.models import Member
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.app import Services
    from bot.dashboard.auth import Viewer

FLASH_COOKIE = "klantpet_flash"
FLASH_SECONDS = 120


class DashboardContext(Context):
    """A signed-in member acting from the dashboard: replies are collected for the page, never sent."""

    def __init__(self, services: Services, session: AsyncSession, member: Member, locale: str) -> None:
        event = Command(
            platform="dashboard",
            event_id=uuid.uuid4().hex,
            actor=Actor("dashboard", str(member.id), member.name, locale),
            where=Where(external_id=f"member:{member.id}", kind="dm"),
            text="",
        )
        super().__init__(services, session, member=member, channel=None, event=event, locale=locale)

    async def reply(
        self, message: Message | str, *, ephemeral: bool = False, in_thread: str | None = None
    ) -> None:
        self.replies.append(Message.text(message) if isinstance(message, str) else message)

    async def update(self, message_ref: str | None, message: Message | str) -> None:
        await self.reply(message)

    def said(self) -> str:
        """What the service replied, as plain text (its text blocks, one paragraph each)."""
        parts = [
            block.text for message in self.replies for block in message.blocks if isinstance(block, Text)
        ]
        return "\n\n".join(part for part in parts if part)


@dataclass(frozen=True)
class Outcome:
    """The result of a dashboard action: a notice for the viewer; ``ok`` False when nothing changed."""

    ok: bool
    notice: str
    field: str | None = None
    value: Any = None


async def act[T](
    services: Services, viewer: Viewer, work: Callable[[DashboardContext], Awaitable[T]]
) -> Outcome:
    """Run ``work`` as ``viewer`` in one transaction; an expected error rolls it back politely."""
    async with services.database.transaction() as session:
        member = await Repos(session).members.get(viewer.member.id)
        if member is None:
            return Outcome(False, services.catalog.t(viewer.locale, "error.generic"))
        ctx = DashboardContext(services, session, member, viewer.locale)
        try:
            async with session.begin_nested():
                value = await work(ctx)
        except KlantpetError as error:
            return Outcome(False, polite(ctx, error), getattr(error, "field", None))
    services.outbox.wake()
    services.scheduler_changed()
    return Outcome(True, ctx.said(), value=value)


async def perform(
    request: Request, viewer: Viewer, work: Callable[[DashboardContext], Awaitable[object]], to: str
) -> Response:
    """A form's whole answer: run ``work`` as the viewer (`act`), then go to ``to`` with the notice."""
    return done(request, to, await act(request.app.state.services, viewer, work))


def polite(ctx: JobContext, error: KlantpetError) -> str:
    """The error's prompt in the viewer's language (the router's wording for the same error)."""
    locale = ctx.locale if isinstance(ctx, Context) else ctx.settings.default_locale
    try:
        return ctx.t(locale, error.key, **error.params)
    except KeyError:
        return ctx.t(locale, "error.generic")


@asynccontextmanager
async def reading(services: Services) -> AsyncIterator[JobContext]:
    """A job context for a page's reads (one transaction; audit entries written by reads commit with it)."""
    async with services.database.transaction() as session:
        yield services.job_context(session)


# --- Notices that survive the redirect after a POST ------------------------------------------------------
def _flash_signer(services: Services) -> Signer:
    return Signer(services.secret_key, "dashboard-flash")


def done(request: Request, to: str, outcome: Outcome | None = None, *, notice: str | None = None) -> Response:
    """Redirect after a form (POST → 303 → GET) carrying the outcome's notice in a short-lived cookie."""
    services = request.app.state.services
    response = RedirectResponse(to, status_code=303)
    text = notice if notice is not None else (outcome.notice if outcome else "")
    if text:
        kind = "ok" if outcome is None or outcome.ok else "error"
        value = _flash_signer(services).sign({"text": text[:1500], "kind": kind}, FLASH_SECONDS)
        secure = request.app.state.dashboard_auth.secure
        response.set_cookie(
            FLASH_COOKIE,
            value,
            max_age=FLASH_SECONDS,
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/admin",
        )
    return response


def take_notice(request: Request) -> dict[str, Any] | None:
    """The notice left by the previous action, if any (the caller deletes the cookie)."""
    token = request.cookies.get(FLASH_COOKIE)
    if not token:
        return None
    value = _flash_signer(request.app.state.services).unsign(token)
    if not isinstance(value, dict):
        return None
    return {"html": Markup(markup.to_html(str(value.get("text", "")))), "kind": str(value.get("kind", "ok"))}  # noqa: S704
