"""Themes: several items become one thing to act on (``thema …``); "you said, we did" updates about them
are in `handlers.feedback_updates`."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands import ParsedCommand
from bot.context import Context
from bot.errors import InvalidInput, NotAllowed, NotFound
from bot.messages import Button, Buttons, Message, Text
from bot.router import Router
from handlers.feedback_anonymity import audit_item
from handlers.feedback_common import (
    command_word,
    is_manager,
    is_staff,
    parse_item_ref,
    seal,
    snippet,
    status_label,
)
from handlers.feedback_settings import read_settings
from handlers.feedback_updates import UPDATE_STATUSES, publish, theme_for
from storage.models import Role
from storage.models.feedback import FeedbackItem, FeedbackStatus, FeedbackTheme

router = Router()
THEME_VERBS = ("new", "add", "planned", "done", "owner")


def _verb(ctx: Context, word: str) -> str | None:
    return command_word(ctx, "feedback.theme_verbs", THEME_VERBS, word)


def _manager(ctx: Context) -> None:
    if not is_manager(ctx.member):
        raise NotAllowed("error.not_allowed", role=ctx.t(f"roles.{Role.cx_manager.value}"))


@router.command("theme", help_key="feedback.help.theme")
async def theme_command(ctx: Context, command: ParsedCommand) -> None:
    args = command.args
    if not args:
        await _list(ctx)
        return
    parts = command.rest.split(None, 2)
    if _verb(ctx, args[0]) == "new":
        _manager(ctx)
        title = command.rest.split(None, 1)[1].strip() if len(command.rest.split(None, 1)) > 1 else ""
        if not title or len(title) > 200:
            raise InvalidInput("feedback.error.theme_title")
        theme = await ctx.repo.feedback.add_theme(title, ctx.member.id, ctx.now())
        await ctx.audit(ctx.member, "feedback.theme", f"feedback_theme:{theme.id}")
        await ctx.reply(ctx.message("feedback.theme.created", id=theme.id, title=title))
        return
    theme_id = parse_item_ref(args[0])
    if theme_id is None:
        raise InvalidInput("feedback.error.theme_usage")
    theme = await theme_for(ctx, theme_id)
    action = _verb(ctx, args[1]) if len(args) > 1 else None
    rest = parts[2] if len(parts) > 2 else ""
    if action is None:
        await ctx.audit(ctx.member, "feedback.theme.read", f"feedback_theme:{theme.id}")
        await ctx.reply(await theme_message(ctx, theme), ephemeral=True)
    elif action == "add":
        ids = [parse_item_ref(word) for word in rest.replace(",", " ").split()]
        if not ids or None in ids:
            raise InvalidInput("feedback.error.theme_usage")
        items = []
        for item_id in ids:
            item = await ctx.repo.feedback.item(int(item_id or 0))
            if item is None:
                raise NotFound("feedback.error.not_found", id=item_id)
            items.append(item)
        await add_to_theme(ctx, theme.id, items)
    elif action == "owner":
        await _set_owner(ctx, theme, rest)
    else:
        settings = await read_settings(ctx)
        channel = await ctx.repo.channels.get(settings.channel_id) if settings.channel_id else None
        await publish(ctx, theme, FeedbackStatus(action), rest, channel)


async def _set_owner(ctx: Context, theme: FeedbackTheme, reference: str) -> None:
    """Hand a theme to someone (CX managers only): audited, and the new owner is told what it means."""
    _manager(ctx)
    owner = await ctx.repo.members.find(reference) if reference else None
    if owner is None or not owner.active:
        raise NotFound("error.member_not_found", reference=reference or "—")
    theme.owner_member_id = owner.id
    theme.updated_at = ctx.now()
    await ctx.audit(ctx.member, "feedback.theme.owner", f"feedback_theme:{theme.id}", owner=owner.id)
    if owner.id != ctx.member.id:
        locale = ctx.locale_of(owner)
        notice = ctx.t(
            locale, "feedback.notice.theme_owner", by=ctx.member.name, id=theme.id, title=theme.title
        )
        await ctx.dm(
            owner,
            Message.text(notice, key="feedback.notice.theme_owner"),
            key=f"feedback.theme_owner:{theme.id}:{ctx.event.event_id}",
            topic="feedback",
        )
    await ctx.reply(ctx.message("feedback.theme.owner_set", id=theme.id, name=owner.name))


async def _list(ctx: Context) -> None:
    _manager(ctx)
    themes = await ctx.repo.feedback.themes()
    if not themes:
        await ctx.reply(ctx.message("feedback.theme.none"))
        return
    sizes = await ctx.repo.feedback.theme_sizes()
    lines = [
        ctx.t(
            "feedback.theme.line",
            id=theme.id,
            title=theme.title,
            count=sizes.get(theme.id, 0),
            status_label=status_label(ctx, ctx.locale, theme.status),
        )
        for theme in themes
    ]
    await ctx.reply(
        Message.text(ctx.t("feedback.theme.list") + "\n" + "\n".join(lines), key="feedback.theme.list"),
        ephemeral=True,
    )


async def add_to_theme(ctx: Context, theme_id: int, items: Sequence[FeedbackItem]) -> None:
    """Merge items into a theme (CX managers only)."""
    _manager(ctx)
    theme = await theme_for(ctx, theme_id)
    for item in items:
        item.theme_id = theme.id
    await audit_item(
        ctx,
        ctx.member,
        "feedback.theme_add",
        list(items),
        f"feedback_theme:{theme.id}",
        items=[item.id for item in items],
    )
    await ctx.reply(
        ctx.message(
            "feedback.theme.added",
            id=theme.id,
            title=theme.title,
            items=", ".join(f"#{item.id}" for item in items),
        )
    )


async def theme_message(ctx: Context, theme: FeedbackTheme) -> Message:
    """The theme with its items. A theme owner who is no CX manager reads only the items they may see
    anyway (those they own or gave with their name); the others are counted, not shown."""
    items = await ctx.repo.feedback.inbox(
        [status.value for status in FeedbackStatus], theme_id=theme.id, limit=200
    )
    sealer = seal(ctx)
    readable = [item for item in items if is_staff(ctx.member, item) or item.giver_member_id == ctx.member.id]
    lines = [
        ctx.t(
            "feedback.theme.item_line",
            id=item.id,
            status_label=status_label(ctx, ctx.locale, item.status),
            snippet=snippet(sealer.open(item.text_sealed), 70),
        )
        for item in readable
    ]
    if len(readable) < len(items):
        lines.append(ctx.t("feedback.theme.hidden_items", count=len(items) - len(readable)))
    owner = await ctx.repo.members.get(theme.owner_member_id) if theme.owner_member_id else None
    text = ctx.t(
        "feedback.theme.header",
        id=theme.id,
        title=theme.title,
        count=len(items),
        status_label=status_label(ctx, ctx.locale, theme.status),
        owner=owner.name if owner else None,
    )
    buttons = tuple(
        Button(
            label=ctx.t(f"feedback.button.update.{status.value}"),
            action="feedback.theme.update",
            payload={"theme": theme.id, "status": status.value},
            style="primary",
        )
        for status in UPDATE_STATUSES
    )
    return Message(
        blocks=(Text(text=text + "\n" + "\n".join(lines)), Buttons(buttons=buttons)),
        key="feedback.theme.header",
    )
