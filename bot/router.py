"""Routes normalized events to handlers: command grammar, buttons, forms, thread replies, reactions.

Every event is de-duplicated by its platform event id, runs in one transaction with its replies, and
passes the route's role check. Expected errors (`bot.errors`) become polite replies in the member's
language here, in one place; the handler's own changes are rolled back when it raises one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import CollectorRegistry, Counter

from bot import commands
from bot.context import Context
from bot.errors import InvalidInput, KlantpetError, NotAllowed, NotLinked
from bot.events import (
    ButtonClick,
    Command,
    FormSubmit,
    Inbound,
    MeetingEvent,
    MemberJoined,
    Reaction,
    Reply,
)
from bot.messages import Message
from bot.scheduler import ScheduleHandler
from storage.models import Channel, Delivery, Member, Role
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Awaitable[None]])
B = TypeVar("B", bound=Callable[..., Awaitable[set[int]]])


@dataclass(frozen=True)
class Click:
    action: str
    value: dict[str, Any]
    message_ref: str | None


@dataclass(frozen=True)
class Submission:
    action: str
    value: dict[str, Any]
    fields: dict[str, str]
    message_ref: str | None


@dataclass(frozen=True)
class ThreadEvent:
    """A reply or reaction under one of the bot's own messages."""

    topic: str
    delivery_key: str
    text: str = ""
    emoji: str = ""
    added: bool = True


@dataclass(frozen=True)
class Route:
    handler: Callable[..., Awaitable[None]]
    role: Role = Role.employee
    help_key: str | None = None
    bare: bool = False
    """May be typed in a channel without addressing the bot (``pet`` in a meeting channel)."""


@dataclass
class Router:
    """A registry of routes; each handler module has one, the app includes them all."""

    commands: dict[tuple[str, ...], Route] = field(default_factory=dict)
    actions: dict[str, Route] = field(default_factory=dict)
    replies: dict[str, Route] = field(default_factory=dict)
    reactions: dict[str, Route] = field(default_factory=dict)
    texts: list[Route] = field(default_factory=list)
    joins: list[Route] = field(default_factory=list)
    meetings: list[Route] = field(default_factory=list)
    schedules: dict[str, ScheduleHandler] = field(default_factory=dict)
    batches: dict[str, Callable[..., Awaitable[set[int]]]] = field(default_factory=dict)
    """Actions that may also be handled many at once (`bot.batches`), besides their route in `actions`."""

    def command(
        self, path: str, *, role: Role = Role.employee, help_key: str | None = None, bare: bool = False
    ) -> Callable[[F], F]:
        """Register ``path`` (e.g. ``"stories import"``) in the shared grammar; ``bare``: see `Route`."""

        def register(handler: F) -> F:
            self.commands[tuple(path.split())] = Route(handler, role, help_key, bare)
            return handler

        return register

    def action(self, name: str, *, role: Role = Role.employee) -> Callable[[F], F]:
        """A button, a choice option or a form submit named ``name``."""

        def register(handler: F) -> F:
            self.actions[name] = Route(handler, role)
            return handler

        return register

    button = action
    form = action

    def batch(self, name: str) -> Callable[[B], B]:
        """The many-at-once form of action ``name`` (see `bot.batches`); its one-at-a-time route stays."""

        def register(handler: B) -> B:
            self.batches[name] = handler
            return handler

        return register

    def reply(self, topic: str, *, role: Role = Role.employee) -> Callable[[F], F]:
        def register(handler: F) -> F:
            self.replies[topic] = Route(handler, role)
            return handler

        return register

    def reaction(self, topic: str) -> Callable[[F], F]:
        def register(handler: F) -> F:
            self.reactions[topic] = Route(handler)
            return handler

        return register

    def text(self) -> Callable[[F], F]:
        """Plain direct-message text that is not a command (e.g. recognised feedback)."""

        def register(handler: F) -> F:
            self.texts.append(Route(handler))
            return handler

        return register

    def joined(self) -> Callable[[F], F]:
        def register(handler: F) -> F:
            self.joins.append(Route(handler))
            return handler

        return register

    def meeting(self) -> Callable[[F], F]:
        def register(handler: F) -> F:
            self.meetings.append(Route(handler))
            return handler

        return register

    def schedule(self, kind: str) -> Callable[[ScheduleHandler], ScheduleHandler]:
        def register(handler: ScheduleHandler) -> ScheduleHandler:
            self.schedules[kind] = handler
            return handler

        return register

    def include(self, other: Router) -> None:
        tables: list[tuple[dict[Any, Any], dict[Any, Any]]] = [
            (self.commands, other.commands),
            (self.actions, other.actions),
            (self.replies, other.replies),
            (self.reactions, other.reactions),
            (self.schedules, other.schedules),
            (self.batches, other.batches),
        ]
        for mine, theirs in tables:
            clash = set(mine) & set(theirs)
            if clash:
                raise ValueError(f"routes registered twice: {sorted(map(str, clash))}")
            mine.update(theirs)
        self.texts.extend(other.texts)
        self.joins.extend(other.joins)
        self.meetings.extend(other.meetings)


@dataclass
class Outcome:
    """What happened to an inbound event (platforms use it to answer synchronously where needed)."""

    duplicate: bool = False
    replies: list[Message] = field(default_factory=list)
    error: KlantpetError | None = None
    member_id: int | None = None


class EventRouter:
    def __init__(self, services: Services, router: Router, registry: CollectorRegistry) -> None:
        self.services = services
        self.router = router
        self.aliases = self._aliases()
        self.inbound = Counter(
            "klantpet_inbound_events", "Inbound events", ["platform", "type"], registry=registry
        )
        self.duplicates = Counter(
            "klantpet_inbound_duplicates", "Inbound events seen before", ["platform"], registry=registry
        )

    def _aliases(self) -> dict[str, tuple[str, ...]]:
        """Every alias word (both languages) with the command words it may stand for."""
        aliases: dict[str, tuple[str, ...]] = {}
        catalog = self.services.catalog
        for locale in catalog.entries:
            for key, value in catalog.entries[locale].items():
                if key.startswith("commands.aliases."):
                    command = key.removeprefix("commands.aliases.")
                    for word in value if isinstance(value, list) else [value]:
                        known = aliases.get(str(word).lower(), ())
                        if command not in known:
                            aliases[str(word).lower()] = (*known, command)
        return aliases

    def parse(self, text: str) -> commands.ParsedCommand | None:
        return commands.parse(text, self.router.commands.keys(), self.aliases)

    def is_bare(self, text: str) -> bool:
        """True when ``text`` is exactly a bare command (no arguments), e.g. ``pet`` typed in a channel."""
        parsed = self.parse(text)
        route = self.router.commands.get(parsed.path) if parsed else None
        return bool(route and route.bare and parsed and not parsed.rest)

    async def handle(self, event: Inbound, *, enroll: bool = True) -> Outcome:
        """Handle one inbound event exactly once. ``enroll``: unknown platform users become members."""
        self.inbound.labels(event.platform, type(event).__name__).inc()
        outcome = Outcome()
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            if not await repos.events.first_time(event.platform, event.event_id, self.services.clock.now()):
                self.duplicates.labels(event.platform).inc()
                outcome.duplicate = True
                return outcome
            member = await self._member(repos, event, enroll)
            if member is None:
                await self._refuse_unlinked(session, event)
                outcome.error = NotLinked()
                return outcome
            outcome.member_id = member.id
            channel = await self._channel(repos, event)
            locale = self.services.catalog.locale(member.locale or event.actor.locale)
            ctx = Context(self.services, session, member=member, channel=channel, event=event, locale=locale)
            try:
                async with session.begin_nested():
                    await self._dispatch(ctx, event)
            except KlantpetError as error:
                outcome.error = error
                ctx.replies.clear()
                await ctx.reply(self._polite(ctx, error), ephemeral=True)
            outcome.replies = list(ctx.replies)
        self.services.outbox.wake()
        self.services.scheduler_changed()
        return outcome

    def _polite(self, ctx: Context, error: KlantpetError) -> Message:
        params = {key: value for key, value in error.params.items()}
        try:
            text = ctx.t(error.key, **params)
        except KeyError:
            log.error("no prompt for error key", extra={"key": error.key})
            text = ctx.t("error.generic")
        return Message.text(text, key=error.key)

    async def _member(self, repos: Repos, event: Inbound, enroll: bool) -> Member | None:
        member = await repos.members.by_identity(event.platform, event.actor.external_id)
        if member is None and enroll:
            member = await repos.members.create(
                event.actor.name or event.actor.external_id,
                locale=self.services.catalog.locale(event.actor.locale) if event.actor.locale else None,
                timezone=event.actor.timezone,
                identities=[(event.platform, event.actor.external_id)],
                now=self.services.clock.now(),
            )
        if member is not None and not member.active:
            return None
        return member

    async def _channel(self, repos: Repos, event: Inbound) -> Channel | None:
        if event.where.kind == "dm":
            return None
        return await repos.channels.ensure(
            event.platform,
            event.where.external_id,
            event.where.name or event.where.external_id,
            kind=event.where.kind,
        )

    async def _refuse_unlinked(self, session: Any, event: Inbound) -> None:
        """One polite sentence in a private chat; in a group, channel or meeting chat nothing is said, so a
        stranger's command never makes the bot tell the room who it does not know."""
        if event.where.kind != "dm":
            return
        locale = self.services.catalog.locale(event.actor.locale)
        text = self.services.catalog.t(
            locale, "error.not_linked", organisation=self.services.settings.organisation
        )
        await self.services.outbox.enqueue(
            session,
            key=f"in:{event.platform}:{event.event_id}:refusal",
            topic="refusal",
            platform=event.platform,
            target=event.where.ref or event.where.external_id,
            message=Message.text(text, key="error.not_linked"),
            locale=locale,
        )

    async def _dispatch(self, ctx: Context, event: Inbound) -> None:
        match event:
            case Command():
                await self._command(ctx, event)
            case ButtonClick():
                resolved = await ctx.repo.tokens.resolve(event.token)
                if resolved is None:
                    raise InvalidInput("error.expired_action")
                action, payload = resolved
                if event.value_override:
                    payload = {**payload, **event.value_override}
                route = self._route(ctx, self.router.actions.get(action))
                await route.handler(ctx, Click(action, payload, event.message_ref))
            case FormSubmit():
                resolved = await ctx.repo.tokens.resolve(event.token)
                if resolved is None:
                    raise InvalidInput("error.expired_action")
                action, payload = resolved
                route = self._route(ctx, self.router.actions.get(action))
                await route.handler(ctx, Submission(action, payload, dict(event.fields), event.message_ref))
            case Reply() | Reaction():
                await self._thread(ctx, event)
            case MemberJoined():
                for route in self.router.joins:
                    await route.handler(ctx, event)
            case MeetingEvent():
                for route in self.router.meetings:
                    await route.handler(ctx, event)
            case _:
                log.warning("unhandled event type", extra={"type": type(event).__name__})

    def _route(self, ctx: Context, route: Route | None) -> Route:
        if route is None:
            raise InvalidInput("error.expired_action")
        if not ctx.member.has_role(route.role):
            raise NotAllowed("error.not_allowed", role=ctx.t(f"roles.{route.role.value}"))
        return route

    async def _command(self, ctx: Context, event: Command) -> None:
        parsed = self.parse(event.text)
        if parsed is None:
            if not event.explicit and self.router.texts:
                for route in self.router.texts:
                    await route.handler(ctx, event.text)
                return
            parsed = commands.ParsedCommand(path=("help",), rest=event.text, options={"unknown": "1"})
        route = self._route(ctx, self.router.commands.get(parsed.path))
        await route.handler(ctx, parsed)

    @staticmethod
    def _may_respond(ctx: Context, delivery: Delivery) -> bool:
        """A reply or reaction counts only where the message was: its channel, or its recipient's DM."""
        if delivery.channel_id is not None:
            return ctx.channel is not None and ctx.channel.id == delivery.channel_id
        if delivery.member_id is None:  # a DM that names nobody (the feedback relay): its handler checks who
            return ctx.event.where.kind == "dm"
        return delivery.member_id == ctx.member.id

    async def _thread(self, ctx: Context, event: Reply | Reaction) -> None:
        reference = event.thread_ref if isinstance(event, Reply) else event.message_ref
        delivery = await ctx.repo.deliveries.by_platform_message(event.platform, reference)
        if delivery is None:
            if isinstance(event, Reply) and event.where.kind == "dm":
                await self._command(
                    ctx,
                    Command(
                        platform=event.platform,
                        event_id=event.event_id,
                        actor=event.actor,
                        where=event.where,
                        text=event.text,
                        explicit=False,
                    ),
                )
            return
        if not self._may_respond(ctx, delivery):
            return
        routes = self.router.replies if isinstance(event, Reply) else self.router.reactions
        route = routes.get(delivery.topic)
        if route is None:
            return
        thread = ThreadEvent(
            topic=delivery.topic,
            delivery_key=delivery.idempotency_key,
            text=event.text if isinstance(event, Reply) else "",
            emoji=event.emoji if isinstance(event, Reaction) else "",
            added=event.added if isinstance(event, Reaction) else True,
        )
        await self._route(ctx, route).handler(ctx, thread)
