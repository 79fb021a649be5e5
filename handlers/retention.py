"""Retention: a daily job deletes what is kept no longer than the settings allow.

Core data is handled here; a feature module may define ``async def apply_retention(ctx: JobContext) -> dict[str, int]``
for its own tables (pulse participation, closed feedback, raw comments). Periods are in `bot.config.Settings`
(``KLANTPET_RETENTION_*``) and documented in the privacy notice.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from datetime import datetime, timedelta

from bot.context import JobContext
from bot.router import Router
from storage.models import Schedule

router = Router()
log = logging.getLogger(__name__)
KIND = "privacy.retention"


async def on_start(ctx: JobContext) -> None:
    if await ctx.repo.schedules.by_ref(KIND, "daily") is None:
        await ctx.services.scheduler.put(
            ctx.session,
            kind=KIND,
            ref="daily",
            timezone=ctx.settings.default_timezone,
            starts_at=ctx.now(),
            rrule="FREQ=DAILY;BYHOUR=3;BYMINUTE=30;BYSECOND=0",
        )


async def apply_core_retention(ctx: JobContext, now: datetime) -> dict[str, int]:
    settings = ctx.settings
    days = timedelta(days=1)
    return {
        "processed_events": await ctx.repo.events.forget_before(
            now - settings.retention_processed_events_days * days
        ),
        "deliveries": await ctx.repo.deliveries.forget_finished_before(
            now - settings.retention_sent_deliveries_days * days
        ),
        "web_messages": await ctx.repo.web.forget_before(now - settings.retention_web_messages_days * days),
        "audit_log": await ctx.repo.audit.forget_before(now - settings.retention_audit_days * days),
        "dashboard_sessions": await ctx.repo.dashboard.forget_sessions_before(now - timedelta(hours=12)),
        "login_failures": await ctx.repo.dashboard.forget_failures_before(now - days),
    }


@router.schedule(KIND)
async def run_retention(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    import handlers

    removed = await apply_core_retention(ctx, ctx.now())
    for module_info in sorted(pkgutil.iter_modules(handlers.__path__), key=lambda info: info.name):
        apply = getattr(importlib.import_module(f"handlers.{module_info.name}"), "apply_retention", None)
        if apply is not None:
            removed.update(await apply(ctx))
    log.info("retention applied", extra={"removed": removed})
    await ctx.audit(None, "privacy.retention", None, removed=removed)
