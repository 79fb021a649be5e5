"""The inbox: CX managers and owners triage, answer and close feedback (``inbox``, ``feedback <id> …``).

Status goes new → acknowledged → planned → done or won't do (with a reason). Every answer and every status
change reaches the giver: directly when named, through the relay when anonymous.
"""

from __future__ import annotations

from bot.commands import ParsedCommand
from bot.context import Context
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.messages import Field_, Form, Message, Text
from bot.router import Click, Router, Submission
from handlers.feedback_anonymity import audit_item
from handlers.feedback_common import (
    MAX_TEXT,
    clean_text,
    command_word,
    is_manager,
    is_staff,
    item_of_payload,
    item_payload,
    mark_answered,
    parse_item_ref,
    seal,
    stamp,
    status_label,
    tell_staff,
    visible_item,
)
from handlers.feedback_relay import to_giver
from handlers.feedback_settings import FeedbackSettings, read_settings, write_settings
from handlers.feedback_themes import add_to_theme
from handlers.feedback_views import inbox_line, item_message
from storage.models import Role
from storage.models.feedback import FeedbackItem, FeedbackMode, FeedbackStatus

router = Router()
VERBS = ("reply", "acknowledged", "planned", "done", "wont_do", "owner", "theme")
SETTINGS_WORDS = ("sla", "channel", "all")


def verb(ctx: Context, word: str) -> str | None:
    """The canonical verb for a word after ``feedback <id>`` (any language), or None."""
    return command_word(ctx, "feedback.verbs", VERBS, word)


@router.command("inbox", help_key="feedback.help.inbox")
async def inbox(ctx: Context, command: ParsedCommand) -> None:
    word = (
        command_word(ctx, "feedback.inbox.words", SETTINGS_WORDS, command.args[0]) if command.args else None
    )
    if word in ("sla", "channel"):
        await _settings(ctx, word, command.args[1:])
        return
    if is_manager(ctx.member):
        statuses = [status.value for status in FeedbackStatus] if word == "all" else None
        items = await (ctx.repo.feedback.inbox(statuses) if statuses else ctx.repo.feedback.inbox())
    else:
        items = await ctx.repo.feedback.owned_or_given(ctx.member.id)
    if not items:
        await ctx.reply(
            ctx.message("feedback.inbox.empty" if is_manager(ctx.member) else "feedback.inbox.empty_own")
        )
        return
    lines = [await inbox_line(ctx, item) for item in items]
    if is_manager(ctx.member) or any(item.giver_member_id != ctx.member.id for item in items):
        await audit_item(
            ctx,
            ctx.member,
            "feedback.inbox.read",
            list(items),
            "feedback",
            items=[item.id for item in items],
            scope=word or "open",
        )
    await ctx.reply(
        Message(
            blocks=(
                Text(text=ctx.t("feedback.inbox.title", count=len(items)) + "\n" + "\n".join(lines)),
                Text(text=ctx.t("feedback.inbox.hint")),
            ),
            key="feedback.inbox.title",
        ),
        ephemeral=True,
    )


async def _settings(ctx: Context, word: str, args: tuple[str, ...]) -> None:
    if not is_manager(ctx.member):
        raise NotAllowed("error.not_allowed", role=ctx.t(f"roles.{Role.cx_manager.value}"))
    current = await read_settings(ctx)
    if word == "sla":
        if not args or not args[0].isdigit() or not 1 <= int(args[0]) <= 30:
            raise InvalidInput("feedback.error.sla_days")
        changed = FeedbackSettings(int(args[0]), current.escalate_days, current.channel_id)
        await write_settings(ctx, changed)
        await ctx.audit(ctx.member, "feedback.settings", "feedback", sla_days=changed.sla_days)
        await ctx.reply(ctx.message("feedback.settings.sla", days=changed.sla_days))
        return
    if not args:
        raise InvalidInput("feedback.error.channel_usage")
    off = args[0].lower() in ctx.services.catalog.choices(ctx.locale, "feedback.inbox.words.off")
    channel = None if off else await ctx.repo.channels.by_name(args[0])
    if channel is None and not off:
        raise NotFound("feedback.error.channel_not_found", name=args[0])
    await write_settings(
        ctx, FeedbackSettings(current.sla_days, current.escalate_days, channel.id if channel else None)
    )
    await ctx.audit(ctx.member, "feedback.settings", "feedback", channel_id=channel.id if channel else None)
    await ctx.reply(ctx.message("feedback.settings.channel", name=channel.name if channel else None))


async def item_command(ctx: Context, item_id: int, args: tuple[str, ...], rest: str) -> None:
    """``feedback <id>`` shows an item; ``feedback <id> <verb> …`` acts on it."""
    item = await visible_item(ctx, ctx.member, item_id)
    if not args:
        await show_item(ctx, item)
        return
    action = verb(ctx, args[0])
    parts = rest.split(None, 2)
    text = parts[2] if len(parts) > 2 else ""
    if action == "reply":
        await staff_reply(ctx, item, text)
    elif action == "owner":
        await _set_owner_by_reference(ctx, item, text)
    elif action == "theme":
        theme_id = parse_item_ref(text.split()[0]) if text.split() else None
        if theme_id is None:
            raise InvalidInput("feedback.error.theme_usage")
        await add_to_theme(ctx, theme_id, [item])
    elif action is not None:
        await set_status(ctx, item, FeedbackStatus(action), text or None)


def _require_staff(ctx: Context, item: FeedbackItem) -> None:
    if not is_staff(ctx.member, item):
        raise NotAllowed("feedback.error.not_staff")


# --- Answering -----------------------------------------------------------------------------------------
async def staff_reply(ctx: Context, item: FeedbackItem, text: str) -> None:
    _require_staff(ctx, item)
    if item.kind is FeedbackMode.anonymous_no_replies:
        raise Conflict("feedback.error.no_replies")
    text = clean_text(text, field="text")
    at = stamp(ctx, item)
    await ctx.repo.feedback.add_message(
        item, author="staff", text_sealed=seal(ctx).seal(text), at=at, member_id=ctx.member.id
    )
    mark_answered(item, at)
    if item.state is FeedbackStatus.new:
        item.status = FeedbackStatus.acknowledged.value
        item.status_changed_at = at
    reached = await to_giver(ctx, item, "feedback.giver.reply", {"replier": ctx.member.name, "text": text})
    await audit_item(ctx, ctx.member, "feedback.reply", [item])
    key = "feedback.replied.relay" if item.kind is FeedbackMode.anonymous else "feedback.replied.named"
    await ctx.reply(
        ctx.message(key if reached else "feedback.replied.unreachable", id=item.id, closed=item.state.closed)
    )


async def set_status(ctx: Context, item: FeedbackItem, status: FeedbackStatus, reason: str | None) -> None:
    _require_staff(ctx, item)
    if status is FeedbackStatus.new:
        raise InvalidInput("feedback.error.status_new")
    if status.value == item.status:
        raise Conflict(
            "feedback.error.same_status", id=item.id, status_label=status_label(ctx, ctx.locale, status.value)
        )
    if status is FeedbackStatus.wont_do:
        reason = clean_text(reason or "", field="reason")
    at = stamp(ctx, item)
    item.status = status.value
    item.status_changed_at = at
    item.closed_at = at if status.closed else None
    item.reason_sealed = seal(ctx).seal(reason) if status is FeedbackStatus.wont_do and reason else None
    mark_answered(item, at)
    reached = await to_giver(
        ctx,
        item,
        "feedback.giver.status",
        {
            "status": status.value,
            "reason": reason if status is FeedbackStatus.wont_do else None,
            "replier": ctx.member.name,
        },
    )
    await audit_item(ctx, ctx.member, "feedback.status", [item], status=status.value)
    await ctx.reply(
        ctx.message(
            "feedback.status_set",
            id=item.id,
            status_label=status_label(ctx, ctx.locale, status.value),
            reached=reached,
            relay=item.kind is FeedbackMode.anonymous,
        )
    )


async def _set_owner_by_reference(ctx: Context, item: FeedbackItem, reference: str) -> None:
    reference = reference.strip()
    me = reference.lower() in ctx.services.catalog.choices(ctx.locale, "feedback.inbox.words.me")
    owner = ctx.member if me else await ctx.repo.members.find(reference) if reference else None
    if owner is None:
        raise NotFound("error.member_not_found", reference=reference or "—")
    await set_owner(ctx, item, owner.id)


async def set_owner(ctx: Context, item: FeedbackItem, owner_id: int) -> None:
    if not is_manager(ctx.member):
        raise NotAllowed("error.not_allowed", role=ctx.t(f"roles.{Role.cx_manager.value}"))
    owner = await ctx.repo.members.get(owner_id)
    if owner is None or not owner.active:
        raise NotFound("error.member_not_found", reference=str(owner_id))
    item.owner_member_id = owner.id
    await audit_item(ctx, ctx.member, "feedback.owner", [item], owner=owner.id)
    if owner.id != ctx.member.id:
        await tell_staff(
            ctx,
            item,
            "feedback.notice.owner",
            {"by": ctx.member.name},
            idempotency=f"feedback.owner:{item.id}:{ctx.event.event_id}",
            members=[owner],
        )
    await ctx.reply(ctx.message("feedback.owner_set", id=item.id, name=owner.name))


# --- Buttons and forms ---------------------------------------------------------------------------------
async def show_item(ctx: Context, item: FeedbackItem) -> None:
    """Show an item to someone who may see it; a read by staff (not the giver) is audited."""
    if is_staff(ctx.member, item) and item.giver_member_id != ctx.member.id:
        await audit_item(ctx, ctx.member, "feedback.read", [item])
    await ctx.reply(await item_message(ctx, item), ephemeral=True)


@router.action("feedback.open")
async def open_item(ctx: Context, click: Click) -> None:
    await show_item(ctx, await visible_item(ctx, ctx.member, item_of_payload(ctx, click.value)))


@router.action("feedback.reply")
async def reply_form(ctx: Context, click: Click) -> None:
    item = await visible_item(ctx, ctx.member, item_of_payload(ctx, click.value))
    _require_staff(ctx, item)
    await ctx.reply(_text_form(ctx, "feedback.reply.send", item, "feedback.reply_form", "text"))


@router.action("feedback.reply.send")
async def reply_sent(ctx: Context, submission: Submission) -> None:
    item = await visible_item(ctx, ctx.member, item_of_payload(ctx, submission.value))
    await staff_reply(ctx, item, submission.fields.get("text", ""))


@router.action("feedback.status")
async def status_button(ctx: Context, click: Click) -> None:
    item = await visible_item(ctx, ctx.member, item_of_payload(ctx, click.value))
    try:
        status = FeedbackStatus(str(click.value.get("status")))
    except ValueError:
        raise InvalidInput("error.expired_action") from None
    if status is FeedbackStatus.wont_do:
        _require_staff(ctx, item)
        await ctx.reply(_text_form(ctx, "feedback.wont_do.send", item, "feedback.wont_do_form", "reason"))
        return
    await set_status(ctx, item, status, None)


@router.action("feedback.wont_do.send")
async def wont_do_sent(ctx: Context, submission: Submission) -> None:
    item = await visible_item(ctx, ctx.member, item_of_payload(ctx, submission.value))
    await set_status(ctx, item, FeedbackStatus.wont_do, submission.fields.get("reason", ""))


@router.action("feedback.take")
async def take(ctx: Context, click: Click) -> None:
    item = await visible_item(ctx, ctx.member, item_of_payload(ctx, click.value))
    await set_owner(ctx, item, ctx.member.id)


def _text_form(ctx: Context, action: str, item: FeedbackItem, prefix: str, field: str) -> Message:
    return Message(
        blocks=(
            Form(
                action=action,
                title=ctx.t(f"{prefix}.title", id=item.id),
                fields=(
                    Field_(name=field, label=ctx.t(f"{prefix}.label"), style="textarea", max_length=MAX_TEXT),
                ),
                submit_label=ctx.t(f"{prefix}.submit"),
                payload=item_payload(ctx, item),
            ),
        ),
        key=f"{prefix}.title",
    )
