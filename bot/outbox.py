"""Durable outbound messages: enqueue in the caller's transaction, deliver from a dispatcher.

Nothing is sent straight from a handler. `Outbox.enqueue` writes a `Delivery` row (with a unique
idempotency key) in the same transaction as the handler's own change. The dispatcher claims due rows for a
lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), sends them through the platform with per-target and
per-app rate limits, honours ``Retry-After``, retries transient failures with exponential backoff and jitter,
and records the platform's message id. A crash loses nothing: a claim whose lease ran out is taken again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import os
import random
import socket
import time
from collections import Counter as Tally
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.messages import Message
from bot.platforms.base import Outgoing, PermanentSendError, Platform, RetryAfter, SendError
from bot.ratelimit import RateLimiter
from storage.db import Database
from storage.models import Delivery
from storage.repositories import Repos
from storage.repositories.deliveries import DeliveryRepository

log = logging.getLogger(__name__)

BACKOFF_BASE = 2.0
BACKOFF_CAP = 15 * 60.0
LOOKAHEAD = 2.0
"""Seconds of sending a process claims ahead per platform: enough to keep the pace, short enough that an
answer to a person never waits long behind a broadcast."""
MIN_WINDOW = 8
CLAIM_INTERVAL = 0.05
RECORD_INTERVAL = 0.05
IDLE_POLL = 1.0
URGENT, BULK = 0, 1


def backoff_seconds(attempt: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: between 50 % and 100 % of min(cap, base * 2^attempt)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** max(0, attempt))
    jitter: float = (rng or random).random()
    return ceiling * (0.5 + 0.5 * jitter)


def _priority(key: str, given: int | None) -> int:
    if given is not None:
        return given
    return URGENT if key.startswith("in:") else BULK


@dataclass(frozen=True)
class _Outcome:
    delivery_id: int
    kind: str  # sent | retry | failed
    message_ref: str | None = None
    not_before: datetime | None = None
    error: str = ""
    count_attempt: bool = True


class OutboxMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sent = Counter("klantpet_deliveries_sent", "Deliveries sent", ["platform"], registry=registry)
        self.retried = Counter(
            "klantpet_deliveries_retried", "Deliveries retried", ["platform", "reason"], registry=registry
        )
        self.failed = Counter(
            "klantpet_deliveries_failed", "Deliveries given up", ["platform"], registry=registry
        )
        self.backlog = Gauge("klantpet_outbox_backlog", "Deliveries waiting", registry=registry)


class Outbox:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        platforms: Mapping[str, Platform],
        clock: Clock,
        metrics: OutboxMetrics,
    ) -> None:
        self.database = database
        self.settings = settings
        self.platforms = platforms
        self.clock = clock
        self.metrics = metrics
        self.limiter = RateLimiter()
        self.claimer = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._in_flight: dict[int, str] = {}  # delivery id -> platform, claimed by this process
        self._chains: dict[tuple[str, str], asyncio.Task[None]] = {}  # the last send chain per target
        self._waiting: dict[tuple[str, str], datetime] = {}  # targets held back by a retry, until when
        self._outcomes: list[_Outcome] = []  # sent, to be recorded
        self._semaphore = asyncio.Semaphore(settings.outbox_concurrency)

    # --- Writing ---------------------------------------------------------------------------------
    async def enqueue(
        self,
        session: AsyncSession,
        *,
        key: str,
        topic: str,
        platform: str,
        target: str,
        message: Message,
        locale: str,
        member_id: int | None = None,
        channel_id: int | None = None,
        not_before: datetime | None = None,
        thread_ref: str | None = None,
        edit_ref: str | None = None,
        ephemeral: bool = False,
        priority: int | None = None,
    ) -> bool:
        """Add a delivery to the caller's transaction; False when ``key`` was enqueued before.

        ``priority``: `URGENT` for the answer to something a person just did, `BULK` for the rest; by default
        urgent when the key says it answers an inbound event (``in:…``).
        """
        return (
            await self.enqueue_many(
                session,
                [
                    dict(
                        key=key,
                        topic=topic,
                        platform=platform,
                        target=target,
                        message=message,
                        locale=locale,
                        member_id=member_id,
                        channel_id=channel_id,
                        not_before=not_before,
                        thread_ref=thread_ref,
                        edit_ref=edit_ref,
                        ephemeral=ephemeral,
                        priority=priority,
                    )
                ],
            )
            == 1
        )

    async def enqueue_many(self, session: AsyncSession, items: list[dict[str, Any]]) -> int:
        """Bulk form of `enqueue` (a broadcast); returns how many were new."""
        repos = Repos(session)
        now = self.clock.now()
        actions: list[tuple[str, dict[str, Any]]] = []
        rows = []
        seen_messages: dict[int, dict[str, Any]] = {}
        for item in items:
            message: Message = item["message"]
            if id(message) not in seen_messages:
                actions.extend(message.interactive())
                seen_messages[id(message)] = message.to_json()
            rows.append(
                {
                    "idempotency_key": item["key"],
                    "topic": item["topic"],
                    "platform": item["platform"],
                    "target": item["target"],
                    "member_id": item.get("member_id"),
                    "channel_id": item.get("channel_id"),
                    "message": seen_messages[id(message)],
                    "locale": item["locale"],
                    "ephemeral": bool(item.get("ephemeral")),
                    "thread_ref": item.get("thread_ref"),
                    "edit_ref": item.get("edit_ref"),
                    "status": "pending",
                    "priority": _priority(item["key"], item.get("priority")),
                    "attempts": 0,
                    "not_before": item.get("not_before") or now,
                    "created_at": now,
                }
            )
        await repos.tokens.register(actions)
        return await repos.deliveries.enqueue(rows)

    def wake(self) -> None:
        """Something new may be due: look now rather than at the next poll."""
        self._wake.set()

    # --- Dispatching -------------------------------------------------------------------------------
    #
    # Two ways in, one path. `deliver_due()` claims one batch, sends it and records every outcome before it
    # returns (tests, the CLI). `run()` is the production loop: it keeps claiming while earlier sends are still
    # in flight, but never more per platform than that platform can send in about `LOOKAHEAD` seconds, so an
    # answer to a person (priority 0) waits at most a moment behind a broadcast of ten thousand DMs.
    # Messages to one target always leave in order, also across claims: each target has a chain of sends.

    async def deliver_due(self) -> int:
        """Claim and send one batch of due deliveries; returns how many were claimed.

        Messages to one target go out in order, one after the other; different targets in parallel. While
        the batch is in flight its leases are renewed, and every outcome is written only if this dispatcher
        still holds the claim, so a late or stale dispatcher can never overwrite another's result.
        """
        batch = await self._claim({name: self.settings.outbox_batch_size for name in self.platforms})
        if not batch:
            return 0
        renewer = asyncio.create_task(self._renew_leases_while_sending())
        try:
            await asyncio.gather(*self._start(batch))
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            await self._flush_outcomes()
        return len(batch)

    @property
    def idle(self) -> bool:
        """Nothing claimed by this process is still being sent or waiting to be recorded."""
        return not self._in_flight and not self._outcomes

    def window(self, platform: str) -> int:
        """How many deliveries of ``platform`` this process may hold claimed at once."""
        throughput = max(0.1, float(self.platforms[platform].throughput))
        return max(MIN_WINDOW, min(self.settings.outbox_batch_size, math.ceil(throughput * LOOKAHEAD)))

    async def _claim(self, room: Mapping[str, int]) -> list[Outgoing]:
        now = self.clock.now()
        batch: list[Outgoing] = []
        async with self.database.transaction() as session:
            deliveries = Repos(session).deliveries
            for platform, limit in room.items():
                if limit <= 0:
                    continue
                claimed = await deliveries.claim_due(now, limit, self.claimer, self.lease, [platform])
                batch.extend(self._outgoing(row) for row in claimed if row.id not in self._in_flight)
        for item in batch:
            self._in_flight[item.delivery_id] = item.platform
        return batch

    def _start(self, batch: list[Outgoing]) -> list[asyncio.Task[None]]:
        """Chain each target's messages behind whatever is still being sent to that target."""
        groups: dict[tuple[str, str], list[Outgoing]] = {}
        for item in batch:
            groups.setdefault((item.platform, item.target), []).append(item)
        tasks = []
        for target, items in groups.items():
            task = asyncio.create_task(self._send_after(self._chains.get(target), target, items))
            self._chains[target] = task
            task.add_done_callback(functools.partial(self._unchain, target))
            tasks.append(task)
        return tasks

    def _unchain(self, target: tuple[str, str], done: asyncio.Task[None]) -> None:
        if self._chains.get(target) is done:
            del self._chains[target]
        if not done.cancelled() and done.exception() is not None:
            log.error("a send chain crashed", exc_info=done.exception())
        self._room.set()

    async def _send_after(
        self, previous: asyncio.Task[None] | None, target: tuple[str, str], items: list[Outgoing]
    ) -> None:
        if previous is not None:
            with contextlib.suppress(BaseException):
                await asyncio.shield(previous)
        waiting_until = self._waiting.get(target)
        if waiting_until is not None and waiting_until > self.clock.now():
            self._outcomes.extend(self._wait_behind(items, waiting_until))
            return
        self._waiting.pop(target, None)
        for position, item in enumerate(items):
            outcome = await self._send(item)
            self._outcomes.append(outcome)
            if outcome.kind == "retry":
                assert outcome.not_before is not None
                self._waiting[target] = outcome.not_before
                self._outcomes.extend(self._wait_behind(items[position + 1 :], outcome.not_before))
                return

    @staticmethod
    def _wait_behind(items: list[Outgoing], not_before: datetime) -> list[_Outcome]:
        """Later messages to a target that must wait keep their place behind the earlier one."""
        return [
            _Outcome(
                later.delivery_id,
                "retry",
                not_before=not_before,
                error="waiting for an earlier message",
                count_attempt=False,
            )
            for later in items
        ]

    async def drain(self, max_rounds: int = 1000) -> int:
        """Deliver until nothing is due now (tests and the CLI); returns how many were claimed."""
        total = 0
        for _ in range(max_rounds):
            claimed = await self.deliver_due()
            if claimed == 0:
                break
            total += claimed
        return total

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.outbox_lease_seconds)

    async def renew_leases(self) -> None:
        """Extend the claims of everything this dispatcher is still sending."""
        if self._in_flight:
            async with self.database.transaction() as session:
                await Repos(session).deliveries.renew(
                    sorted(self._in_flight), self.claimer, self.clock.now() + self.lease
                )

    async def _renew_leases_while_sending(self) -> None:
        while True:
            await asyncio.sleep(self.settings.outbox_lease_seconds / 3)
            try:
                await self.renew_leases()
            except Exception:
                log.warning("could not renew delivery leases", exc_info=True)

    def _outgoing(self, row: Delivery) -> Outgoing:
        return Outgoing(
            delivery_id=row.id,
            key=row.idempotency_key,
            platform=row.platform,
            target=row.target,
            message=Message.from_json(row.message),
            locale=row.locale,
            ephemeral=row.ephemeral,
            member_id=row.member_id,
            thread_ref=row.thread_ref,
            edit_ref=row.edit_ref,
            attempts=row.attempts,
            claimed_until=row.claimed_until,
        )

    async def _send(self, item: Outgoing) -> _Outcome:
        platform = self.platforms[item.platform]
        limits = platform.limits(item.target)
        await self.limiter.wait(limits)
        async with self._semaphore:
            try:
                with self.limiter.departing(limits):
                    reference = await platform.send(item)
            except RetryAfter as limited:
                # The scope names the bucket the platform throttled; one we do not know (a reply redirected
                # to another chat, say) holds back the target itself, never nothing.
                paused = [x for x in limits if x.key == limited.scope] or (
                    limits if limited.scope is None else limits[:1]
                )
                for limit in paused:
                    self.limiter.pause(limit.key, limited.seconds)
                self.metrics.retried.labels(item.platform, "rate_limited").inc()
                outcome = _Outcome(
                    item.delivery_id,
                    "retry",
                    not_before=self.clock.now() + timedelta(seconds=limited.seconds),
                    error=str(limited),
                    count_attempt=False,
                )
            except PermanentSendError as error:
                outcome = self._give_up(item, error)
            except (SendError, TimeoutError, OSError) as error:
                if item.attempts + 1 >= self.settings.outbox_max_attempts:
                    outcome = self._give_up(item, error)
                else:
                    self.metrics.retried.labels(item.platform, "transient").inc()
                    delay = backoff_seconds(item.attempts)
                    outcome = _Outcome(
                        item.delivery_id,
                        "retry",
                        not_before=self.clock.now() + timedelta(seconds=delay),
                        error=f"{type(error).__name__}: {error}",
                    )
            except Exception as error:  # a renderer bug must not stop the dispatcher
                log.exception(
                    "sender crashed", extra={"delivery_id": item.delivery_id, "platform": item.platform}
                )
                outcome = self._give_up(item, error)
            else:
                self.metrics.sent.labels(item.platform).inc()
                outcome = _Outcome(item.delivery_id, "sent", message_ref=reference)
            return outcome

    def _give_up(self, item: Outgoing, error: BaseException) -> _Outcome:
        self.metrics.failed.labels(item.platform).inc()
        log.warning(
            "delivery given up",
            extra={"delivery_id": item.delivery_id, "platform": item.platform, "error": type(error).__name__},
        )
        return _Outcome(item.delivery_id, "failed", error=f"{type(error).__name__}: {error}")

    async def _flush_outcomes(self) -> None:
        """Record every outcome gathered so far (in one transaction)."""
        pending, self._outcomes = self._outcomes, []
        if pending:
            await self._record(pending)

    async def _record_while_sending(self) -> None:
        """Record outcomes in small batches while later sends are still going out."""
        while True:
            await asyncio.sleep(RECORD_INTERVAL)
            await self._flush_outcomes()

    async def _record(self, outcomes: list[_Outcome]) -> None:
        try:
            for attempt in range(5):
                try:
                    async with self.database.transaction() as session:
                        await self._write(Repos(session).deliveries, outcomes)
                    return
                except Exception:  # the database blinked: keep the outcomes and try again shortly
                    log.warning("could not record delivery outcomes; retrying", exc_info=True)
                    await asyncio.sleep(min(5.0, 0.5 * 2**attempt))
            log.error("delivery outcomes not recorded; their leases will expire and they are retried")
        finally:
            # Recorded or not, this process is done with them: unrecorded ones are claimed again once
            # their lease ends (the in-flight window of duplicates), never held here forever.
            for outcome in outcomes:
                self._in_flight.pop(outcome.delivery_id, None)
            self._room.set()

    async def _write(self, deliveries: DeliveryRepository, outcomes: list[_Outcome]) -> None:
        sent, retries, failed = [], [], []
        for outcome in outcomes:
            if outcome.kind == "sent":
                sent.append((outcome.delivery_id, outcome.message_ref))
            elif outcome.kind == "retry":
                assert outcome.not_before is not None
                retries.append(
                    (outcome.delivery_id, outcome.not_before, outcome.error, outcome.count_attempt)
                )
            else:
                failed.append((outcome.delivery_id, outcome.error))
        await deliveries.record_outcomes(self.clock.now(), self.claimer, sent, retries, failed)

    # --- Lifecycle ---------------------------------------------------------------------------------
    async def run(self) -> None:
        """The dispatcher loop: keep every platform's window full; sleep until woken, room, or due work."""
        recorder = asyncio.create_task(self._record_while_sending(), name="outbox-recorder")
        renewer = asyncio.create_task(self._renew_leases_while_sending(), name="outbox-renewer")
        try:
            while not self._stopping:
                self._room.clear()
                try:
                    claimed = self._start(await self._claim(self._free_room()))
                except Exception:
                    log.warning("outbox round failed; retrying", exc_info=True)
                    claimed = []
                    await asyncio.sleep(1.0)
                if self._stopping:
                    break
                if claimed and any(room > 0 for room in self._free_room().values()):
                    await asyncio.sleep(CLAIM_INTERVAL)  # more may be due: claim again after a breath
                    continue
                self._wake.clear()
                await self._sleep(await self._idle_wait() if not self._in_flight else IDLE_POLL)
                self.limiter.forget_idle()
            await self._finish_in_flight()
        finally:
            recorder.cancel()
            renewer.cancel()
            for task in (recorder, renewer):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._flush_outcomes()

    def _free_room(self) -> dict[str, int]:
        held = Tally(self._in_flight.values())
        return {name: self.window(name) - held[name] for name in self.platforms}

    async def _sleep(self, timeout: float) -> None:
        """Until something new is enqueued, a send finishes (room), or ``timeout``."""
        waits = [asyncio.create_task(self._wake.wait()), asyncio.create_task(self._room.wait())]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        if self._room.is_set() and not self._wake.is_set():
            await asyncio.sleep(
                CLAIM_INTERVAL
            )  # let a few more finish: claim in small batches, not one by one

    async def _finish_in_flight(self) -> None:
        """On stop: let the sends already started finish (they were claimed; they will not be claimed again)."""
        chains = list(self._chains.values())
        if chains:
            await asyncio.wait(chains)

    async def _idle_wait(self) -> float:
        try:
            async with self.database.transaction() as session:
                next_due = await Repos(session).deliveries.next_due_at(list(self.platforms), self.clock.now())
        except Exception:
            return 1.0
        if next_due is None:
            return 1.0
        return max(0.01, min(1.0, (next_due - self.clock.now()).total_seconds()))

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="outbox")

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, let in-flight sends finish (up to ``timeout``), release what is left."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            started = time.monotonic()
            done, _ = await asyncio.wait({self._task}, timeout=timeout)
            if not done:
                for chain in list(self._chains.values()):
                    chain.cancel()
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            log.info("outbox stopped", extra={"seconds": round(time.monotonic() - started, 2)})
        if self._in_flight:
            with contextlib.suppress(Exception):
                async with self.database.transaction() as session:
                    await Repos(session).deliveries.release(sorted(self._in_flight), self.claimer)
            self._in_flight.clear()

    async def backlog(self) -> int:
        async with self.database.transaction() as session:
            count = await Repos(session).deliveries.backlog(self.clock.now())
        self.metrics.backlog.set(count)
        return count
