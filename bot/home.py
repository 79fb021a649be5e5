"""A member's home: what waits for them, composed from every feature (the Slack App Home tab, …).

Features extend it without knowing any platform. A handler module (``handlers/<feature>.py``, or
``handlers/<package>/home.py`` for a feature that is a package) may define::

    async def home_sections(ctx: JobContext, member: Member) -> list[HomeSection]:
        rounds = await ctx.repo.pulses.open_rounds_of(member.id)
        if not rounds:
            return []
        return [HomeSection("pulses", 20, Message(blocks=(Text(text=ctx.t(locale, "home.pulses_title")), ...)))]

Sections are neutral messages (buttons, choices and forms in them work like anywhere else), shown in
``order``. A section with the ``key`` of a core section replaces it: the core shows ``greeting`` (0),
``rituals`` (40, the member's meetings with the ritual), ``recent`` (50, the latest messages to the member,
with their buttons) and ``actions`` (90, quick actions: buttons that run a command as if it were typed
(`command_button`), and for CX managers and admins the commands they may use).
A provider that fails is logged and left out; the home still shows.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from zoneinfo import ZoneInfo

from bot import recurrence
from bot.context import JobContext
from bot.i18n import LOCALES
from bot.messages import Block, Button, Buttons, ButtonStyle, Choice, Context, Form, Message, Text
from storage.models import Member, Role

log = logging.getLogger(__name__)
RECENT = 5
RITUAL_HORIZON = timedelta(days=14)
SKIPPED_TOPICS = ("edit", "refusal")
RUN_COMMAND = "home.command"
"""The action of a quick-action button: run the command in its payload (``handlers/home_actions.py``)."""
MANAGER_ACTIONS: tuple[tuple[str, str, ButtonStyle], ...] = (
    ("stories add", "home.quick.story", "primary"),
    ("pulse new", "home.quick.pulse", "default"),
    ("inbox", "home.quick.inbox", "default"),
    ("campaigns", "home.quick.campaigns", "default"),
    ("results", "home.quick.results", "default"),
)
"""The CX manager's quick actions: (command, label key, style); each shown when the member may run it."""


@dataclass(frozen=True)
class HomeSection:
    key: str
    order: int
    message: Message


HomeProvider = Callable[[JobContext, Member], Awaitable[list[HomeSection]]]


def command_button(label: str, command: str, style: ButtonStyle = "default") -> Button:
    """A button that runs ``command`` (words of the shared grammar, e.g. ``stories add``) as if typed."""
    return Button(label=label, action=RUN_COMMAND, payload={"command": command}, style=style)


@cache
def providers() -> tuple[HomeProvider, ...]:
    """Every handler module's ``home_sections`` function (a package's in its ``home`` module)."""
    import handlers

    found: list[HomeProvider] = []
    for module_info in sorted(pkgutil.iter_modules(handlers.__path__), key=lambda info: info.name):
        name = f"handlers.{module_info.name}"
        if module_info.ispkg:
            if importlib.util.find_spec(f"{name}.home") is None:
                continue
            name += ".home"
        provider = getattr(importlib.import_module(name), "home_sections", None)
        if provider is not None:
            found.append(provider)
    return tuple(found)


async def compose(ctx: JobContext, member: Member) -> list[Message]:
    """The member's home as an ordered list of sections."""
    sections = {section.key: section for section in await core_sections(ctx, member)}
    for provider in providers():
        try:
            async with ctx.session.begin_nested():
                extra = await provider(ctx, member)
        except Exception:
            log.exception("home section provider failed", extra={"provider": provider.__module__})
            continue
        sections.update((section.key, section) for section in extra)
    return [section.message for section in sorted(sections.values(), key=lambda s: (s.order, s.key))]


async def core_sections(ctx: JobContext, member: Member) -> list[HomeSection]:
    locale = ctx.locale_of(member)
    sections = [
        _greeting(ctx, member, locale),
        await _recent(ctx, member, locale),
        _actions(ctx, member, locale),
    ]
    rituals = await _rituals(ctx, member, locale)
    if rituals is not None:
        sections.append(rituals)
    return sections


def _greeting(ctx: JobContext, member: Member, locale: str) -> HomeSection:
    roles = ", ".join(ctx.t(locale, f"roles.{role.value}") for role in sorted(member.role_names))
    return HomeSection(
        "greeting",
        0,
        Message(
            blocks=(
                Text(text=ctx.t(locale, "home.greeting", name=member.name.split()[0] if member.name else "")),
                Context(
                    text=ctx.t(locale, "home.about", department=member.department_name or "—", roles=roles)
                ),
            ),
            key="home.greeting",
        ),
    )


async def _rituals(ctx: JobContext, member: Member, locale: str) -> HomeSection | None:
    now = ctx.now()
    zone = ZoneInfo(ctx.timezone_of(member))
    lines = []
    for meeting in await ctx.repo.members.meetings(member.id):
        if not meeting.ritual_enabled:
            continue
        upcoming = recurrence.next_after(meeting.rrule, meeting.timezone, meeting.starts_at, now)
        if upcoming is None or upcoming - now > RITUAL_HORIZON:
            continue
        when = upcoming.astimezone(zone).strftime("%d-%m %H:%M")
        lines.append((upcoming, ctx.t(locale, "home.ritual_line", name=meeting.name, when=when)))
    if not lines:
        return None
    text = ctx.t(locale, "home.rituals_title") + "\n" + "\n".join(line for _, line in sorted(lines))
    return HomeSection("rituals", 40, Message(blocks=(Text(text=text),), key="home.rituals_title"))


async def _recent(ctx: JobContext, member: Member, locale: str) -> HomeSection:
    blocks: list[Block] = [Text(text=ctx.t(locale, "home.recent_title"))]
    zone = ZoneInfo(ctx.timezone_of(member))
    deliveries = await ctx.repo.deliveries.recent_for_member(member.id, RECENT, SKIPPED_TOPICS)
    for delivery in deliveries:
        message = Message.from_json(delivery.message)
        summary = message.plain_text.strip()
        if len(summary) > 280:
            summary = summary[:279] + "…"
        when = (delivery.sent_at or delivery.created_at).astimezone(zone).strftime("%d-%m %H:%M")
        blocks.append(Context(text=when))
        if summary:
            blocks.append(Text(text=summary))
        blocks.extend(block for block in message.blocks if isinstance(block, Buttons | Choice | Form))
    if not deliveries:
        blocks.append(Context(text=ctx.t(locale, "home.recent_empty")))
    return HomeSection("recent", 50, Message(blocks=tuple(blocks), key="home.recent_title"))


def _actions(ctx: JobContext, member: Member, locale: str) -> HomeSection:
    other = next(code for code in LOCALES if code != locale)
    blocks: list[Block] = [
        Text(text=ctx.t(locale, "home.actions_title")),
        Buttons(
            buttons=(
                Button(label=ctx.t(locale, "welcome.button_help"), action="core.help", style="primary"),
                Button(
                    label=ctx.t(locale, "help.button_language"),
                    action="core.language",
                    payload={"locale": other},
                ),
            )
        ),
    ]
    quick = [
        command_button(ctx.t(locale, label), command, style)
        for command, label, style in MANAGER_ACTIONS
        if _may_run(ctx, member, command)
    ]
    if quick:
        blocks.append(Text(text=ctx.t(locale, "home.manager_actions")))
        blocks.append(Buttons(buttons=tuple(quick)))
    if member.has_role(Role.cx_manager):
        lines = [
            f"- `{_spoken(ctx, locale, path)}` — {ctx.t(locale, route.help_key)}"
            for path, route in sorted(ctx.services.routes.commands.items())
            if route.help_key and route.role in (Role.cx_manager, Role.admin) and member.has_role(route.role)
        ]
        if lines:
            blocks.append(Text(text=ctx.t(locale, "home.manager_title") + "\n" + "\n".join(lines)))
    return HomeSection("actions", 90, Message(blocks=tuple(blocks), key="home.actions_title"))


def _may_run(ctx: JobContext, member: Member, command: str) -> bool:
    route = ctx.services.routes.commands.get(tuple(command.split()))
    return route is not None and route.role != Role.employee and member.has_role(route.role)


def _spoken(ctx: JobContext, locale: str, path: tuple[str, ...]) -> str:
    """A command path in the member's language (``role grant`` → ``rol geef``)."""
    catalog = ctx.services.catalog
    return " ".join(
        catalog.choices(locale, f"commands.aliases.{word}")[0]
        if catalog.has(locale, f"commands.aliases.{word}")
        else word
        for word in path
    )
