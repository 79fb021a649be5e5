"""Telegram: a full platform on python-telegram-bot 22 (an `Application` without its own updater,
fed from ``POST /telegram/webhook`` in our web app; polling for machines without a public URL). This module
sends and serves the webhook; `bot.platforms.telegram_inbound` turns updates into events.

Meets the bar every adapter meets:
- authenticates every inbound request: the ``X-Telegram-Bot-Api-Secret-Token`` header is compared in
  constant time with ``TELEGRAM_WEBHOOK_SECRET`` (polling pulls from Telegram and needs none); and since
  anyone can message a bot, only members linked through an admin's single-use invitation may use it;
- de-duplicates by ``update_id`` (the shared processed-events table, so across processes too);
- acknowledges at once: an update is one short transaction, replies leave through the outbox, button
  presses are answered (``answerCallbackQuery``) before anything else; a failure answers 500 so Telegram
  delivers the update again;
- renders every block of the neutral model (`bot.platforms.telegram_render`): HTML, inline keyboards with
  short server-side tokens, forms as a step-by-step conversation (`bot.platforms.telegram_forms`), long
  texts split at paragraphs, edits through ``editMessageText``;
- respects Telegram's limits (1 message/s per chat, 20/min per group, 30/s in all) and its ``retry_after``;
  a delivery queued for a group that became a supergroup follows it to the new id;
- starts even when Telegram is down (retrying in the background, `bot.platforms.telegram_connection`)
  and unloads cleanly: polling stops and the HTTP client closes (the webhook stays for other instances);
- is tested through PTB's real client against a local fake of the Bot API (tests/fakes/telegram_api.py);
- has strict typing.
"""

from __future__ import annotations

import hmac
import logging
import re
import warnings
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request, Response
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
    Update,
)
from telegram import error as tg
from telegram.constants import ParseMode
from telegram.ext import Application, TypeHandler

from bot.messages import Image, Video
from bot.platforms.base import Outgoing, PermanentSendError, RetryAfter, TransientSendError
from bot.platforms.telegram_connection import Connection
from bot.platforms.telegram_forms import StepByStepForms
from bot.platforms.telegram_inbound import UPDATE_FAILURES, TelegramInbound, message_ref
from bot.platforms.telegram_invites import Invitations
from bot.platforms.telegram_render import Part, render
from bot.ratelimit import Limit, leaving, per_second
from storage.models import Identity
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
APP_RATE = 30.0  # messages per second in all (Telegram's FAQ: "no more than 30 messages per second")
GROUP_PER_MINUTE = 20
GROUP_BURST = 5
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_UPDATE_BYTES = 1_000_000
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def build(services: Services) -> TelegramPlatform:
    return TelegramPlatform(services)


def api_urls(api_url: str | None) -> tuple[str, str]:
    """PTB's ``base_url`` and ``base_file_url`` for a Bot API server root (default: Telegram's own)."""
    root = (api_url or "https://api.telegram.org").rstrip("/").removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


def _chat_id(target: str) -> int | str:
    return int(target) if target.lstrip("-").isdigit() else target


class TelegramPlatform:
    name = "telegram"

    def __init__(self, services: Services) -> None:
        settings = services.settings
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.services = services
        self.polling = settings.telegram_mode == "polling"
        secret = settings.telegram_webhook_secret
        self.secret = secret.get_secret_value() if secret else None
        if self.secret is not None and not _SECRET.fullmatch(self.secret):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET: use 1 to 256 characters A-Z, a-z, 0-9, _ or -")
        base_url, base_file_url = api_urls(settings.telegram_api_url)
        builder = (
            Application.builder()
            .token(settings.telegram_bot_token.get_secret_value())
            .base_url(base_url)
            .base_file_url(base_file_url)
            .connection_pool_size(max(8, min(64, settings.outbox_concurrency)))
            .pool_timeout(10.0)
        )
        if not self.polling:
            builder = builder.updater(None)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.inbound = TelegramInbound(self)
        self.application.add_handler(TypeHandler(Update, self.inbound.on_update))
        self.forms = StepByStepForms(self)
        self.invitations = Invitations(self)
        self.connection = Connection(self, WEBHOOK_PATH)

    @property
    def username(self) -> str:
        """The bot's @username (known once started)."""
        return str(self.application.bot.username)

    # --- Outbound ---------------------------------------------------------------------------------
    @property
    def throughput(self) -> float:
        return APP_RATE

    def limits(self, target: str) -> list[Limit]:
        limits = [
            Limit(f"telegram:chat:{target}", rate=1.0),
            per_second("telegram:app", APP_RATE),
        ]
        if target.startswith("-"):  # groups and supergroups have negative ids
            # 20 a minute per group: a burst of 5, then 15 more spread over the minute, so no minute has 21
            limits.append(
                Limit(
                    f"telegram:group:{target}", rate=(GROUP_PER_MINUTE - GROUP_BURST) / 60, burst=GROUP_BURST
                )
            )
        return limits

    def dm_target(self, identity: Identity) -> str:
        return identity.dm_ref or identity.external_id

    def t(self, locale: str, key: str, **params: Any) -> str:
        catalog = self.services.catalog
        return catalog.t(locale, key, **{"organisation": self.services.settings.organisation, **params})

    async def send(self, outgoing: Outgoing) -> str | None:
        if not self.connected:
            raise TransientSendError("Telegram has not been reached since the start")
        target = await self._private_target(outgoing)
        parts = render(outgoing.message, lambda key: self.t(outgoing.locale, key))
        media = any(isinstance(block, Image | Video) for block in outgoing.message.blocks)
        try:
            try:
                if outgoing.edit_ref:
                    return await self._edit(outgoing, target, parts, media)
                return await self._send_parts(outgoing, target, parts, media)
            except tg.ChatMigrated as moved:  # queued for a group that became a supergroup: follow it, once
                await self.inbound.migrated(target, moved.new_chat_id)
                target = str(moved.new_chat_id)
                return await self._send_parts(outgoing, target, parts, media)
        except tg.RetryAfter as limited:
            with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta in 23
                warnings.simplefilter("ignore")
                wait = limited.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise RetryAfter(
                seconds, scope=self.limits(target)[-1 if target.startswith("-") else 0].key
            ) from None
        except tg.ChatMigrated as moved:
            raise PermanentSendError(f"the group became supergroup {moved.new_chat_id}") from None
        except (tg.Forbidden, tg.InvalidToken) as refused:
            raise PermanentSendError(f"Telegram refused: {refused.message}") from None
        except tg.BadRequest as bad:
            raise PermanentSendError(f"Telegram rejected the message: {bad.message}") from None
        except tg.TelegramError as failure:  # NetworkError, TimedOut, 5xx
            raise TransientSendError(f"{type(failure).__name__}: {failure.message}") from None

    async def _private_target(self, outgoing: Outgoing) -> str:
        """Telegram has no "only you can see this" in groups: such replies go to the member's private chat."""
        if not (outgoing.ephemeral and outgoing.target.startswith("-") and outgoing.member_id):
            return outgoing.target
        async with self.services.database.transaction() as session:
            identity = await Repos(session).members.identity(outgoing.member_id, "telegram")
        return self.dm_target(identity) if identity else outgoing.target

    async def _send_parts(
        self, outgoing: Outgoing, target: str, parts: list[Part], media: bool, first: int = 0
    ) -> str | None:
        """Send ``parts[first:]``; parts of a long message already sent before a retry are skipped."""
        done: dict[int, str] = {}
        if len(parts) > 1:
            async with self.services.database.transaction() as session:
                done = await Repos(session).telegram.sent_parts(outgoing.delivery_id)
        reference: str | None = None
        sent_now = 0
        for index in range(first, len(parts)):
            if index in done:
                reference = done[index]
                continue
            if sent_now:  # the outbox paid for the first message; every further part takes its own slot
                await self.services.outbox.limiter.acquire(self.limits(target))
            else:
                await leaving()
            reply_to = outgoing.thread_ref if index == first and not sent_now else None
            sent = await self.application.bot.send_message(
                chat_id=_chat_id(target),
                text=parts[index].html,
                parse_mode=ParseMode.HTML,
                reply_markup=_keyboard(parts[index]),
                reply_parameters=_reply_to(reply_to),
                link_preview_options=LinkPreviewOptions(is_disabled=not media),
            )
            sent_now += 1
            reference = message_ref(sent.chat_id, sent.message_id)
            if len(parts) > 1:
                async with self.services.database.transaction() as session:
                    await Repos(session).telegram.record_part(outgoing.delivery_id, index, reference)
        return reference

    async def _edit(self, outgoing: Outgoing, target: str, parts: list[Part], media: bool) -> str | None:
        assert outgoing.edit_ref is not None
        chat, _, message_id = outgoing.edit_ref.rpartition(":")
        if not message_id.isdigit():
            raise PermanentSendError("not a Telegram message reference")
        first = parts[0] if len(parts) == 1 else Part(parts[0].html)
        await leaving()
        try:
            await self.application.bot.edit_message_text(
                text=first.html,
                chat_id=_chat_id(chat),
                message_id=int(message_id),
                parse_mode=ParseMode.HTML,
                reply_markup=_keyboard(first),
                link_preview_options=LinkPreviewOptions(is_disabled=not media),
            )
        except tg.BadRequest as bad:
            text = bad.message.lower()
            if "not modified" in text:
                return outgoing.edit_ref
            if "not found" in text or "can't be edited" in text:  # gone or too old: say it anew
                return await self._send_parts(outgoing, chat, parts, media)
            raise
        if len(parts) > 1:
            await self._send_parts(outgoing, chat, parts, media, first=1)
        return outgoing.edit_ref

    # --- Lifecycle and HTTP -------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.connection.connected

    async def start(self) -> None:
        await self.connection.start()

    async def stop(self) -> None:
        await self.connection.stop()

    def mount(self, app: FastAPI) -> None:
        if not self.polling:
            app.include_router(self._routes())

    def _routes(self) -> APIRouter:
        routes = APIRouter()

        @routes.post(WEBHOOK_PATH, include_in_schema=False)
        async def webhook(request: Request) -> Response:
            given = request.headers.get(SECRET_HEADER, "")
            if self.secret is None or not hmac.compare_digest(given.encode(), self.secret.encode()):
                return Response(status_code=403)
            length = request.headers.get("content-length") or "0"
            if not length.isdigit():
                return Response(status_code=400)
            if int(length) > MAX_UPDATE_BYTES:
                return Response(status_code=413)
            if not self.connected:  # Telegram delivers the update again later
                return Response(status_code=503)
            try:
                update = Update.de_json(await request.json(), self.application.bot)
            except (ValueError, TypeError, KeyError):
                return Response(status_code=400)
            failures: list[BaseException] = []
            marker = UPDATE_FAILURES.set(failures)
            try:
                await self.application.process_update(update)
            finally:
                UPDATE_FAILURES.reset(marker)
            if failures:
                log.error("Telegram update failed; Telegram will deliver it again", exc_info=failures[0])
                return Response(status_code=500)
            return Response(status_code=200)

        return routes


def _keyboard(part: Part) -> InlineKeyboardMarkup | None:
    if not part.keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in part.keyboard]
    )


def _reply_to(reference: str | None) -> ReplyParameters | None:
    message_id = reference.rpartition(":")[2] if reference else ""
    return (
        ReplyParameters(int(message_id), allow_sending_without_reply=True) if message_id.isdigit() else None
    )
