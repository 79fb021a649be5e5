"""The composition root: builds every service from `Settings` once and wires them together."""

from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.context import JobContext
from bot.i18n import Catalog
from bot.keys import relay_key, secret_key
from bot.llm import LLM
from bot.outbox import Outbox, OutboxMetrics
from bot.platforms.base import Platform
from bot.router import EventRouter, Router
from bot.scheduler import Scheduler
from storage.db import Database
from storage.models import Member
from storage.repositories import Repos, tokens

if TYPE_CHECKING:
    from bot.platforms.web import WebPlatform

log = logging.getLogger(__name__)
PLATFORM_ORDER = ("slack", "teams", "telegram", "web")


def settle_heap() -> None:
    """Once a long-running process has started: collect what start-up left behind, then have the garbage
    collector skip everything still alive for good (`gc.freeze`). Its full passes then walk only what was
    made since, and stop the event loop for a few milliseconds instead of a hundred or more, which would
    make sends that already left arrive bunched at the platform."""
    gc.collect()
    gc.freeze()


class Services:
    """Everything a handler, platform or route may need, built once per process."""

    def __init__(
        self, settings: Settings, clock: Clock | None = None, database: Database | None = None
    ) -> None:
        from handlers import all_routes

        self.settings = settings
        self.clock = clock or Clock()
        self.database = database or Database(settings.resolved_database_url)
        self.registry = CollectorRegistry()
        self.catalog = Catalog(
            settings.default_locale,
            threshold=settings.anonymity_threshold,
            comment_threshold=settings.comment_threshold,
        )
        # Handlers ask the LLM inside their transaction; on SQLite that holds the one write lock, so one
        # request (no retry) keeps every other writer's wait within the busy timeout.
        self.llm = LLM(settings, retries=0 if self.database.is_sqlite else 1)
        self.secret_key = secret_key(
            settings.secret_key.get_secret_value() if settings.secret_key else None, settings.data_dir
        )
        self.relay_key = relay_key(
            settings.relay_key.get_secret_value() if settings.relay_key else None, settings.data_dir
        )
        tokens.use_key(self.secret_key)
        self.routes: Router = all_routes()
        self.platforms: dict[str, Platform] = {}
        self.outbox = Outbox(
            self.database, settings, self.platforms, self.clock, OutboxMetrics(self.registry)
        )
        self.scheduler = Scheduler(
            self.database, settings, self.clock, self.routes.schedules, self.job_context, self.registry
        )
        self.router = EventRouter(self, self.routes, self.registry)
        self._build_platforms()

    def _build_platforms(self) -> None:
        if self.settings.web_chat_enabled:
            from bot.platforms.web import WebPlatform

            self.platforms["web"] = WebPlatform(self)
        for name in self.settings.real_platforms:
            module = __import__(f"bot.platforms.{name}", fromlist=["build"])
            self.platforms[name] = module.build(self)

    @property
    def web(self) -> WebPlatform | None:
        return self.platforms.get("web")  # type: ignore[return-value]

    def job_context(self, session: AsyncSession) -> JobContext:
        return JobContext(self, session)

    def scheduler_changed(self) -> None:
        self.scheduler.changed()

    async def dm_route(self, repos: Repos, member: Member) -> tuple[str, str] | None:
        """The (platform, target) a direct message to ``member`` goes to."""
        identities = {identity.platform: identity for identity in member.identities}
        order = [member.preferred_platform] if member.preferred_platform else []
        order += [name for name in PLATFORM_ORDER if name not in order]
        for name in order:
            if name in identities and name in self.platforms:
                identity = identities[name]
                return name, identity.dm_ref or self.platforms[name].dm_target(identity)
        return None

    async def start(self) -> None:
        """Start platforms, then (when running in the background) the outbox and the scheduler."""
        for platform in self.platforms.values():
            await platform.start()
        await self._feature_start_hooks()
        if self.settings.background:
            self.outbox.start()
            self.scheduler.start()

    async def _feature_start_hooks(self) -> None:
        """Each feature module may offer ``async def on_start(ctx: JobContext)``: idempotent set-up run at
        every start (e.g. loading shipped data such as the starter stories), one transaction each."""
        import importlib
        import pkgutil

        import handlers

        for module_info in sorted(pkgutil.iter_modules(handlers.__path__), key=lambda info: info.name):
            hook = getattr(importlib.import_module(f"handlers.{module_info.name}"), "on_start", None)
            if hook is not None:
                async with self.database.transaction() as session:
                    await hook(self.job_context(session))

    async def stop(self) -> None:
        """Graceful stop: the clock first, then the outbox (finishing or releasing in-flight work)."""
        await self.scheduler.stop()
        await self.outbox.stop()
        for platform in self.platforms.values():
            try:
                await platform.stop()
            except Exception:
                log.warning("platform did not stop cleanly", extra={"platform": platform.name}, exc_info=True)
        await self.llm.close()
        await self.database.dispose()
