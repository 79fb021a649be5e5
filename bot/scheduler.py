"""The database holds every schedule; APScheduler is only the clock, in every instance.

When the clock fires, `Scheduler.run_due` claims due schedules (``FOR UPDATE SKIP LOCKED`` on PostgreSQL),
runs their handler in the same transaction and advances the next fire time, so each due item runs once
across instances. Fire times missed while the bot was down are caught up once within the grace period,
older ones are skipped and logged. Handlers enqueue work with idempotency keys derived from the schedule
and the fire time, so even a re-run never sends twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.ext.asyncio import AsyncSession

from bot import recurrence
from bot.clock import Clock
from bot.config import Settings
from storage.db import Database
from storage.models import Schedule
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.context import JobContext

log = logging.getLogger(__name__)

ScheduleHandler = Callable[["JobContext", Schedule, datetime], Awaitable[None]]


class Scheduler:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        clock: Clock,
        handlers: dict[str, ScheduleHandler],
        make_context: Callable[[AsyncSession], JobContext],
        registry: CollectorRegistry,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.handlers = handlers
        self.make_context = make_context
        self.grace = timedelta(hours=settings.scheduler_grace_hours)
        self._clock: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self._dirty = False
        self.fired = Counter("klantpet_schedules_fired", "Schedules fired", ["kind"], registry=registry)
        self.skipped = Counter(
            "klantpet_schedules_skipped", "Fire times skipped", ["kind"], registry=registry
        )
        self.last_run: datetime | None = None

    # --- Writing schedules (called by handlers, inside their transaction) ---------------------------
    async def put(
        self,
        session: AsyncSession,
        *,
        kind: str,
        ref: str,
        timezone: str,
        starts_at: datetime,
        rrule: str | None = None,
        ends_at: datetime | None = None,
        payload: dict[str, Any] | None = None,
        enabled: bool = True,
    ) -> Schedule:
        """Create or replace the schedule (kind, ref); its next fire time is computed from now."""
        if kind not in self.handlers:
            raise ValueError(f"no handler for schedule kind {kind!r}")
        now = self.clock.now()
        after = max(now, starts_at) - timedelta(microseconds=1)
        next_fire = recurrence.next_after(rrule, timezone, starts_at, after, ends_at)
        schedule = await Repos(session).schedules.put(
            kind=kind,
            ref=ref,
            timezone=timezone,
            starts_at=starts_at,
            ends_at=ends_at,
            rrule=rrule,
            payload=payload,
            enabled=enabled,
            next_fire_at=next_fire,
            now=now,
        )
        self._dirty = True
        return schedule

    def changed(self) -> None:
        """Call after committing: if a schedule changed in this process, re-arm the clock now (other instances
        pick the change up at their next resync)."""
        if not self._dirty:
            return
        self._dirty = False
        if self._clock is not None and self._clock.running:
            self._clock.add_job(self.refresh, id="refresh-now", replace_existing=True)

    # --- Firing ----------------------------------------------------------------------------------------
    async def run_due(self, now: datetime | None = None) -> int:
        """Fire every due schedule once; returns how many fired."""
        fired = 0
        async with self._lock:
            while True:
                moment = now or self.clock.now()
                batch_fired, claimed = await self._run_batch(moment)
                fired += batch_fired
                if claimed == 0:
                    break
            self.last_run = self.clock.now()
        return fired

    async def _run_batch(self, now: datetime) -> tuple[int, int]:
        fired = 0
        async with self.database.transaction() as session:
            due = await Repos(session).schedules.claim_due(now, limit=50)
            for schedule in due:
                fired += await self._fire(session, schedule, now)
        return fired, len(due)

    async def _fire(self, session: AsyncSession, schedule: Schedule, now: datetime) -> int:
        """Run one due schedule once and plan its next fire time; a failing handler is retried with backoff
        while its fire time is within the grace period, and never blocks the other schedules."""
        assert schedule.next_fire_at is not None
        schedule_id, kind = schedule.id, schedule.kind
        original = schedule.retry_of or schedule.next_fire_at
        try:
            due_times = [original, *self._missed(schedule, original, now)]
        except Exception as error:  # an unusable rule: stop it rather than fail every round
            schedule.enabled, schedule.last_error = False, f"{type(error).__name__}: {error}"[:500]
            return 0
        latest = due_times[-1]
        to_fire = latest if now - latest <= self.grace else None
        skipped = len(due_times) - (1 if to_fire else 0)
        if skipped:
            self.skipped.labels(kind).inc(skipped)
            log.warning(
                "missed fire times skipped",
                extra={"schedule_id": schedule_id, "kind": kind, "skipped": skipped},
            )
        fired = 0
        if to_fire is not None:
            handler = self.handlers.get(kind)
            if handler is None:
                schedule.last_error = f"no handler for {kind}"
            else:
                try:
                    async with session.begin_nested():
                        await handler(self.make_context(session), schedule, to_fire)
                except Exception as error:
                    log.exception("schedule handler failed", extra={"schedule_id": schedule_id, "kind": kind})
                    await session.refresh(schedule)
                    if self._retry_later(schedule, to_fire, now, f"{type(error).__name__}: {error}"):
                        return 0
                else:
                    schedule.last_error = None
                    schedule.fire_count += 1
                    schedule.last_fired_at = to_fire
                    fired = 1
                    self.fired.labels(kind).inc()
        schedule.retry_of, schedule.retries = None, 0
        schedule.next_fire_at = recurrence.next_after(
            schedule.rrule, schedule.timezone, schedule.starts_at, max(latest, now), schedule.ends_at
        )
        if schedule.next_fire_at is None and schedule.rrule is None:
            schedule.enabled = False
        schedule.updated_at = self.clock.now()
        return fired

    def _retry_later(self, schedule: Schedule, fire_time: datetime, now: datetime, error: str) -> bool:
        """Plan a retry of ``fire_time`` (1, 2, 4 … 30 minutes) if it still falls within the grace period."""
        schedule.last_error = error[:500]
        retry_at = now + timedelta(seconds=min(1800, 60 * 2**schedule.retries))
        if retry_at - fire_time > self.grace:
            return False
        schedule.retry_of, schedule.retries = fire_time, schedule.retries + 1
        schedule.next_fire_at = retry_at
        schedule.updated_at = self.clock.now()
        return True

    def _missed(self, schedule: Schedule, since: datetime, now: datetime) -> list[datetime]:
        end = min(now, schedule.ends_at) if schedule.ends_at else now
        return recurrence.occurrences(
            schedule.rrule, schedule.timezone, schedule.starts_at, since, end, limit=10_000
        )

    # --- The clock ---------------------------------------------------------------------------------------
    async def refresh(self) -> None:
        """Fire what is due, then point the clock at the earliest next fire time."""
        if self._clock is None:
            return
        try:
            await self.run_due()
            async with self.database.transaction() as session:
                earliest = await Repos(session).schedules.earliest()
        except Exception:
            log.warning("scheduler refresh failed; retrying at the next resync", exc_info=True)
            return
        if earliest is not None:
            self._clock.add_job(
                self.refresh,
                DateTrigger(run_date=earliest),
                id="next-fire",
                replace_existing=True,
                misfire_grace_time=None,
            )
        else:
            with contextlib.suppress(Exception):
                self._clock.remove_job("next-fire")

    def start(self) -> None:
        self._clock = AsyncIOScheduler(timezone="UTC")
        self._clock.add_job(
            self.refresh,
            IntervalTrigger(seconds=self.settings.scheduler_resync_seconds),
            id="resync",
            max_instances=1,
            coalesce=True,
        )
        self._clock.start()
        self._clock.add_job(self.refresh, id="refresh-now", replace_existing=True)

    @property
    def running(self) -> bool:
        return self._clock is not None and self._clock.running

    async def stop(self) -> None:
        if self._clock is not None and self._clock.running:
            self._clock.shutdown(wait=False)
        async with self._lock:  # let a firing batch finish its transaction
            pass
