"""Clicks handled many at once: a burst of pulse answers costs one transaction and a few statements in all,
not a dozen statements and a commit each.

A platform acknowledges a click and hands it to its `ClickBatcher`. While one batch is being handled the
next clicks gather, so the batch grows with the load and an idle bot handles a lone click at once. A
feature offers the many-at-once form of an action with ``@router.batch(name)`` (the pulse answer does,
`handlers.pulses.answering_many`); its handler takes what it can and leaves the rest.

Everything that is not plain goes the usual way, one event at a time through `EventRouter.handle`, after
the batch committed: a click whose token, person or route is unknown, one from a channel or with a value of
its own, a second copy of an event, and whatever the feature's batch handler leaves (a closed round, a second
answer, ...). That path gives the polite replies; this one only ever does what it would have done. If the
batch fails as a whole (a lost connection, a deadlock with another process), nothing of it is kept and
every click of it goes the usual way.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.context import JobContext, reply_key
from bot.events import ButtonClick
from storage.models import Member
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)
BATCH_LIMIT = 16
"""Clicks handled in one transaction at most."""


@dataclass(frozen=True)
class BatchClick:
    """A click a batch handler may take: who (active, with the route's role), in which language, and the
    payload its token stands for."""

    event: ButtonClick
    member: Member
    locale: str
    action: str
    value: dict[str, Any]

    @property
    def reply_key(self) -> str:
        """The outbox key of the first answer to the click (the one `Context.reply` or `update` would give)."""
        return reply_key(self.event, 1)


async def handle_clicks(services: Services, events: Sequence[ButtonClick]) -> list[ButtonClick]:
    """Handle together what can be; returns the rest, in order, to be handled one by one."""
    routes = services.router.router
    if not routes.batches or not events:
        return list(events)
    taken: set[str] = set()
    platform = events[0].platform
    candidates: list[BatchClick] = []
    fresh: set[str] = set()
    try:
        async with services.database.transaction() as session:
            repos = Repos(session)
            candidates = await _candidates(services, repos, events)
            fresh = await repos.events.first_times(
                platform, [click.event.event_id for click in candidates], services.clock.now()
            )
            by_action: dict[str, list[BatchClick]] = defaultdict(list)
            for click in candidates:
                if click.event.event_id in fresh:
                    by_action[click.action].append(click)
            ctx = JobContext(services, session)
            for action, clicks in by_action.items():
                for index in await routes.batches[action](ctx, clicks):
                    taken.add(clicks[index].event.event_id)
            await repos.events.forget(platform, fresh - taken)
    except Exception:
        log.exception("handling clicks together failed; they are handled one by one")
        return list(events)
    handled = taken | {click.event.event_id for click in candidates if click.event.event_id not in fresh}
    done = [event for event in events if event.event_id in handled]  # a copy of a taken click is done too
    if done:
        services.router.inbound.labels(platform, ButtonClick.__name__).inc(len(done))
    if len(done) > len(taken):
        services.router.duplicates.labels(platform).inc(len(done) - len(taken))
    if taken:
        services.outbox.wake()
        services.scheduler_changed()
    return [event for event in events if event.event_id not in handled]


async def _candidates(services: Services, repos: Repos, events: Sequence[ButtonClick]) -> list[BatchClick]:
    """The clicks a batch handler may see: one per event id, in a direct message, from an active member with
    the route's role, whose token stands for an action with a batch form."""
    routes = services.router.router
    plain = [event for event in events if event.where.kind == "dm" and not event.value_override]
    tokens = await repos.tokens.resolve_many(event.token for event in plain)
    members = await repos.members.by_identities(
        events[0].platform, {event.actor.external_id for event in plain if event.token in tokens}
    )
    candidates: list[BatchClick] = []
    seen: set[str] = set()
    for event in plain:
        resolved = tokens.get(event.token)
        member = members.get(event.actor.external_id)
        if resolved is None or member is None or not member.active or event.event_id in seen:
            continue
        action, payload = resolved
        route = routes.actions.get(action)
        if action not in routes.batches or route is None or not member.has_role(route.role):
            continue
        seen.add(event.event_id)
        locale = services.catalog.locale(member.locale or event.actor.locale)
        candidates.append(BatchClick(event, member, locale, action, payload))
    return candidates


class ClickBatcher:
    """Where a platform's acknowledged clicks wait for the next batch.

    ``run`` starts a tracked task (the platform's, so shutdown waits for it) and returns it; ``one_by_one`` is
    the usual handling of an event, for what a batch leaves. A person whose earlier click is still being
    handled one by one has their next clicks handled one by one too, so their taps never overtake each other.
    """

    def __init__(
        self,
        services: Services,
        run: Callable[[Coroutine[Any, Any, Any], str], asyncio.Task[Any]],
        one_by_one: Callable[[ButtonClick], Coroutine[Any, Any, Any]],
    ) -> None:
        self.services = services
        self.run = run
        self.one_by_one = one_by_one
        self.waiting: list[ButtonClick] = []
        self.draining: asyncio.Task[Any] | None = None
        self.behind: Counter[str] = Counter()  # person -> their clicks being handled one by one

    def add(self, event: ButtonClick) -> None:
        self.waiting.append(event)
        if self.draining is None or self.draining.done():
            self.draining = self.run(self._drain(), "clicks")

    async def _drain(self) -> None:
        while self.waiting:
            events, self.waiting = self.waiting[:BATCH_LIMIT], self.waiting[BATCH_LIMIT:]
            alone = [event for event in events if self.behind[event.actor.external_id]]
            together = [event for event in events if not self.behind[event.actor.external_id]]
            rest = {id(event) for event in [*alone, *await handle_clicks(self.services, together)]}
            for event in events:
                if id(event) in rest:
                    self._alone(event)

    def _alone(self, event: ButtonClick) -> None:
        person = event.actor.external_id
        self.behind[person] += 1
        self.run(self.one_by_one(event), "action").add_done_callback(lambda _: self._done(person))

    def _done(self, person: str) -> None:
        self.behind[person] -= 1
        if self.behind[person] <= 0:
            del self.behind[person]
