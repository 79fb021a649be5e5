"""What the feedback modules share: limits, sealing, who may see an item, and reaching a giver or staff."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.context import JobContext
from bot.errors import InvalidInput, NotFound
from bot.messages import Button, Buttons, Message, Text
from handlers.feedback_sealing import Sealer, sealer
from handlers.feedback_settings import ensure_schedules
from storage.models import Member, Role
from storage.models.feedback import FeedbackCategory, FeedbackItem, FeedbackMode

MAX_TEXT = 4000
ANONYMOUS_NOTICE_DELAY = (5 * 60, 85 * 60)
"""Seconds a notification about an anonymous item's thread waits (then the relay's next five-minute mark,
so 5–90 minutes in all), so its timing names nobody."""
REOPEN_DAYS = 30
"""A giver may reopen a closed item by answering within this many days."""
QUIET_TOPIC = "feedback.quiet"
"""Outbox rows about an anonymous giver or item: they keep only the day, and are deleted once sent."""
RELAY_TOPIC = "feedback.relay"
"""Relay messages to givers: once sent, only what routes a thread reply is kept (see `forget_sent`)."""
_random = secrets.SystemRandom()


def seal(ctx: JobContext) -> Sealer:
    return sealer(ctx.services.relay_key)


def clean_text(text: str, field: str | None = None) -> str:
    """Feedback or a reply as given; refuses empty and oversized text with the reason."""
    text = text.strip()
    if not text:
        raise InvalidInput("feedback.error.empty", field=field)
    if len(text) > MAX_TEXT:
        raise InvalidInput("feedback.error.too_long", field=field, limit=MAX_TEXT, length=len(text))
    return text


def day_of(ctx: JobContext, moment: datetime | None = None) -> datetime:
    """The start of the (organisation's) day ``moment`` falls on: the only time kept for anonymous rows."""
    zone = ZoneInfo(ctx.settings.default_timezone)
    local = (moment or ctx.now()).astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))


def stamp(ctx: JobContext, item: FeedbackItem) -> datetime:
    """The time to record on an item's row or thread: exact when named, the day when anonymous."""
    return day_of(ctx) if item.kind.anonymous_kind else ctx.now()


def mark_answered(item: FeedbackItem, at: datetime) -> None:
    """The giver heard back: the first answer is kept, the SLA clock stops."""
    item.answered_at = item.answered_at or at
    item.waiting_since = None
    item.sla_stage = 0


def snippet(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def anonymous_delay() -> timedelta:
    """A random wait (from the system's secure source: it must not be guessable) before an anonymous notice."""
    return timedelta(seconds=_random.randint(*ANONYMOUS_NOTICE_DELAY))


def shuffled(rows: list[Any]) -> list[Any]:
    """``rows`` in a secure random order, so the order rows are written in tells nothing."""
    _random.shuffle(rows)
    return rows


# --- Who may see and act -------------------------------------------------------------------------------
def is_manager(member: Member) -> bool:
    return member.has_role(Role.cx_manager)


def is_staff(member: Member, item: FeedbackItem) -> bool:
    """CX managers and the item's owner triage and answer it."""
    return is_manager(member) or item.owner_member_id == member.id


async def visible_item(ctx: JobContext, member: Member, item_id: int) -> FeedbackItem:
    """The item if ``member`` may see it (giver, owner, CX manager); otherwise as if it did not exist."""
    item = await ctx.repo.feedback.item(item_id)
    if item is None or not (is_staff(member, item) or item.giver_member_id == member.id):
        raise NotFound("feedback.error.not_found", id=item_id)
    return item


def command_word(ctx: JobContext, prefix: str, names: tuple[str, ...], word: str) -> str | None:
    """Which of ``names`` the typed ``word`` stands for, in any language (lists under ``prefix`` in prompts)."""
    catalog = ctx.services.catalog
    wanted = word.lower()
    for name in names:
        for locale in catalog.entries:
            if wanted in (choice.lower() for choice in catalog.choices(locale, f"{prefix}.{name}")):
                return name
    return None


def parse_item_ref(word: str) -> int | None:
    """``#12`` or ``12`` → 12."""
    word = word.strip().removeprefix("#")
    return int(word) if word.isdigit() and len(word) < 12 else None


# --- Labels ----------------------------------------------------------------------------------------------
def status_label(ctx: JobContext, locale: str, status: str) -> str:
    return ctx.t(locale, f"feedback.status.{status}")


def category_label(ctx: JobContext, locale: str, category: str) -> str:
    return ctx.t(locale, f"feedback.category.{category}")


def mode_label(ctx: JobContext, locale: str, mode: str) -> str:
    return ctx.t(locale, f"feedback.mode.{mode}")


def giver_label(ctx: JobContext, locale: str, item: FeedbackItem, giver: Member | None) -> str:
    if item.kind is FeedbackMode.named and giver is not None:
        return giver.name
    return mode_label(ctx, locale, item.mode)


def valid_category(value: str) -> str:
    if value not in {category.value for category in FeedbackCategory}:
        raise InvalidInput("feedback.error.category", field="category")
    return value


def valid_mode(value: str) -> FeedbackMode:
    try:
        return FeedbackMode(value)
    except ValueError:
        raise InvalidInput("feedback.error.mode", field="mode") from None


# --- Reaching people -------------------------------------------------------------------------------------
async def staff_of(ctx: JobContext, item: FeedbackItem) -> list[Member]:
    """Who hears about an item: its owner, or every CX manager while it has none."""
    if item.owner_member_id is not None:
        owner = await ctx.repo.members.get(item.owner_member_id)
        if owner is not None and owner.active:
            return [owner]
    return list(await ctx.repo.members.with_role(Role.cx_manager))


def item_payload(ctx: JobContext, item: FeedbackItem) -> dict[str, Any]:
    """What a button about ``item`` carries: the number, or a sealed handle when the item is anonymous (the
    stored action tokens then name no anonymous item)."""
    if item.kind.anonymous_kind:
        return {"handle": seal(ctx).handle(item.id)}
    return {"item": item.id}


def item_of_payload(ctx: JobContext, value: dict[str, Any]) -> int:
    """The item number a button or form carries (see `item_payload`)."""
    item_id = value.get("item")
    if isinstance(item_id, int):
        return item_id
    handle = value.get("handle")
    opened = seal(ctx).open_handle(handle) if isinstance(handle, str) else None
    if opened is None:
        raise InvalidInput("error.expired_action")
    return opened


def open_button(ctx: JobContext, locale: str, item: FeedbackItem) -> Button:
    return Button(
        label=ctx.t(locale, "feedback.button.open", id=item.id),
        action="feedback.open",
        payload=item_payload(ctx, item),
    )


async def tell_staff(
    ctx: JobContext,
    item: FeedbackItem,
    key: str,
    params: dict[str, Any],
    *,
    idempotency: str,
    members: list[Member] | None = None,
    exclude: int | None = None,
    delayed: bool = False,
) -> int:
    """DM the item's staff (or ``members``) the prompt ``key`` with an Open button.

    ``idempotency`` starts with the notice's kind (``feedback.new:…``). About an anonymous item the rows are
    keyed by a random token instead (never the item number), keep only the day and are forgotten once sent.
    ``delayed``: about an anonymous giver's action, so it also arrives after a random while.
    """
    anonymous = item.kind.anonymous_kind
    not_before = ctx.now() + anonymous_delay() if delayed and anonymous else None
    if anonymous:
        idempotency = f"{idempotency.split(':', 1)[0]}:{secrets.token_hex(8)}"
    sent = 0
    keys: list[str] = []
    for member in members if members is not None else await staff_of(ctx, item):
        if member.id == exclude:
            continue
        locale = ctx.locale_of(member)
        labels = {
            "category_label": category_label(ctx, locale, item.category),
            "status_label": status_label(ctx, locale, item.status),
            "mode_label": mode_label(ctx, locale, item.mode),
        }
        message = Message(
            blocks=(
                Text(text=ctx.t(locale, key, id=item.id, **labels, **params)),
                Buttons(buttons=(open_button(ctx, locale, item),)),
            ),
            key=key,
        )
        keys.append(f"{idempotency}:{member.id}")
        sent += await ctx.dm(member, message, key=keys[-1], topic="feedback", not_before=not_before)
    if anonymous and keys:
        await ctx.repo.feedback.hush_deliveries(
            day=day_of(ctx), now=ctx.now(), topic=QUIET_TOPIC, spare_topic=RELAY_TOPIC, keys=keys
        )
    return sent


async def create_item(
    ctx: JobContext,
    *,
    text: str,
    category: str,
    mode: FeedbackMode,
    source: str,
    giver: Member | None = None,
    relay_blob: str | None = None,
) -> FeedbackItem:
    """Store a new item (sealed) and tell the CX managers; anonymous ones only ever arrive via the relay."""
    named = mode is FeedbackMode.named
    item = await ctx.repo.feedback.add_item(
        text_sealed=seal(ctx).seal(text),
        category=category,
        mode=mode.value,
        source=source,
        created_at=ctx.now() if named else day_of(ctx),
        giver_member_id=giver.id if named and giver else None,
        relay_blob=relay_blob if mode is FeedbackMode.anonymous else None,
    )
    await ensure_schedules(ctx)
    await tell_staff(
        ctx,
        item,
        "feedback.notice.new",
        {"text": snippet(text, 300), "giver": giver.name if named and giver else None},
        idempotency=f"feedback.new:{item.id}",
        members=list(await ctx.repo.members.with_role(Role.cx_manager)),
        exclude=giver.id if named and giver else None,
    )
    return item
