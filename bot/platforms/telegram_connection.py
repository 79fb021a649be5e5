"""Connecting to Telegram at start: check the token, publish the command menu, register the webhook (or
start polling) — and keep trying in the background while Telegram cannot be reached.

A wrong token stops the start at once, with a clear error: that is a mistake to fix, not to wait out. A
Telegram outage (network errors, time-outs, 5xx) must not keep the rest of Klantpet (Slack, Teams, the web
chat, the dashboard) from starting, so the connection is retried in the background with growing pauses;
until it succeeds, sends wait in the outbox (a transient failure) and the webhook answers 503, so Telegram
delivers again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import TYPE_CHECKING

from telegram import BotCommand
from telegram import error as tg

from bot import markup
from storage.models import Role
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.platforms.telegram import TelegramPlatform

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
RETRY_DELAYS = (2.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)
"""Seconds between attempts to reach Telegram after a failed start; the last one repeats."""
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


class Connection:
    def __init__(self, platform: TelegramPlatform, webhook_path: str) -> None:
        self.platform = platform
        self.services = platform.services
        self.webhook_path = webhook_path
        self.retry_delays: tuple[float, ...] = RETRY_DELAYS
        self.connected = False
        self._retrying: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect now; when Telegram is unreachable, log it and keep trying in the background."""
        async with self.services.database.transaction() as session:
            lifetime = self.platform.forms.lifetime
            await Repos(session).telegram.forget_stale_forms(self.services.clock.now() - lifetime)
        try:
            await self._connect()
        except tg.InvalidToken:
            raise  # a wrong TELEGRAM_BOT_TOKEN: stop here, clearly
        except tg.TelegramError as error:
            log.warning(
                "Telegram cannot be reached; Klantpet starts without it and keeps trying",
                extra={"error": type(error).__name__},
            )
            self._retrying = asyncio.create_task(self._connect_later(), name="telegram-connect")

    async def _connect_later(self) -> None:
        attempt = 0
        while not self.connected:
            await asyncio.sleep(self.retry_delays[min(attempt, len(self.retry_delays) - 1)])
            attempt += 1
            try:
                await self._connect()
            except tg.InvalidToken:
                log.error("Telegram refuses the bot token (TELEGRAM_BOT_TOKEN); no longer trying")
                return
            except tg.TelegramError as error:
                log.info(
                    "Telegram still unreachable", extra={"error": type(error).__name__, "attempt": attempt}
                )
        log.info("Telegram reached", extra={"attempts": attempt})

    async def _connect(self) -> None:
        application = self.platform.application
        await application.initialize()  # getMe: the token is checked here
        await self._publish_commands()
        bot = application.bot
        settings = self.services.settings
        if self.platform.polling:
            await bot.delete_webhook()
            updater = application.updater
            assert updater is not None
            await updater.start_polling(allowed_updates=ALLOWED_UPDATES)
            await application.start()
        elif settings.public_url:
            await bot.set_webhook(
                f"{settings.public_url}{self.webhook_path}",
                secret_token=self.platform.secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            log.warning("KLANTPET_PUBLIC_URL is not set: register the Telegram webhook yourself")
        self.connected = True

    async def stop(self) -> None:
        if self._retrying is not None:
            self._retrying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retrying
        application = self.platform.application
        updater = application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        self.connected = False

    # --- The command menu -------------------------------------------------------------------------------
    def bot_commands(self, locale: str) -> list[BotCommand]:
        """The command menu: every command of the shared grammar an employee may use, in ``locale``."""
        catalog = self.services.catalog
        found: dict[str, BotCommand] = {}
        for path, route in sorted(self.services.routes.commands.items()):
            if route.role is not Role.employee or not route.help_key or path[0] in found:
                continue
            # command words are English; other languages show their first alias (/hulp, /taal)
            key = f"commands.aliases.{path[0]}"
            aliases = catalog.choices(locale, key) if locale != "en" and catalog.has(locale, key) else []
            name = next((alias for alias in aliases if _COMMAND_NAME.fullmatch(alias)), path[0])
            description = markup.to_plain(self.platform.t(locale, route.help_key)).replace("`", "").strip()
            if _COMMAND_NAME.fullmatch(name) and description:
                found[path[0]] = BotCommand(name, description[:256])
        return list(found.values())

    async def _publish_commands(self) -> None:
        bot = self.platform.application.bot
        try:
            for locale in ("nl", "en"):
                await bot.set_my_commands(self.bot_commands(locale), language_code=locale)
            await bot.set_my_commands(self.bot_commands(self.services.settings.default_locale))
        except tg.NetworkError:
            raise  # Telegram is unreachable: the start is retried as a whole
        except tg.TelegramError as error:
            log.warning("could not publish the Telegram command menu", extra={"error": str(error)})
