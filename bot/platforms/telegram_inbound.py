"""Telegram updates → normalized events for the router (the inbound half of `bot.platforms.telegram`).

- private chat: commands with or without a slash, ``/cmd@thisbot`` (``/cmd@otherbot`` is not for us), plain
  text; ``/start <code>`` redeems an invitation; while a form is being filled in, text answers it;
- groups: commands, replies to the bot's own messages (a `Reply`) and messages starting with ``@thebot``;
  other chatter is ignored and nothing about it is stored. A linked member who speaks to the bot there (or
  adds it) makes the group a channel and becomes one of its members;
- button presses: answered at once (``answerCallbackQuery``), then a form's own buttons or a `ButtonClick`;
- a group upgraded to a supergroup keeps its channel under the new id.

Every update is handled at most once by its ``update_id``, in the same transaction as its work. Only linked
members are served (``enroll=False``): the router refuses anyone else.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from telegram import CallbackQuery, Chat, ChatMemberUpdated, Message, Update, User
from telegram import error as tg
from telegram.constants import ChatMemberStatus, ChatType

from bot.events import Actor, ButtonClick, ChannelKind, Command, Inbound, Reply, Where, without_nul
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.platforms.telegram import TelegramPlatform

log = logging.getLogger(__name__)

GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
# The webhook request collects failures of its update here: PTB logs handler errors and carries on, but
# a failed update must answer 500 so that Telegram delivers it again.
UPDATE_FAILURES: ContextVar[list[BaseException] | None] = ContextVar("telegram_update_failures", default=None)


def message_ref(chat_id: int | str, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


def actor_of(user: User) -> Actor:
    return Actor("telegram", str(user.id), user.full_name, user.language_code)


def where_of(chat: Chat) -> Where:
    kind: ChannelKind = "dm" if chat.type == ChatType.PRIVATE else "group"
    name = None if kind == "dm" else chat.title
    return Where(external_id=str(chat.id), kind=kind, name=name, ref=str(chat.id))


class TelegramInbound:
    def __init__(self, platform: TelegramPlatform) -> None:
        self.platform = platform
        self.services = platform.services
        self.name = platform.name

    async def on_update(self, update: Update, _: Any) -> None:
        """PTB's handler: failures go to the webhook request (500), or to PTB's log when polling."""
        try:
            await self.handle_update(update)
        except Exception as error:
            failures = UPDATE_FAILURES.get()
            if failures is None:  # polling: PTB logs it
                raise
            failures.append(error)

    async def handle_update(self, update: Update) -> None:
        """Handle one update from Telegram (webhook or polling), at most once per ``update_id``."""
        event_id = str(update.update_id)
        if update.callback_query is not None:
            await self._button(event_id, update.callback_query)
        elif update.message is not None:
            await self._message(event_id, update.message)
        elif update.my_chat_member is not None:
            await self._membership(event_id, update.my_chat_member)

    def _command(self, text: str) -> str | None:
        """``/cmd@thisbot rest`` → ``/cmd rest``; None when not a command or meant for another bot."""
        found = re.match(r"/([^\s@]+)(?:@(\S+))?(.*)", text, re.DOTALL)
        if not found:
            return None
        name, addressee, rest = found.groups()
        if addressee and addressee.lower() != self.platform.username.lower():
            return None
        return f"/{name}{rest}"

    async def _message(self, event_id: str, message: Message) -> None:
        user, chat, text = message.from_user, message.chat, without_nul(message.text or "")
        if user is None or user.is_bot or chat.type not in (ChatType.PRIVATE, *GROUPS):
            return
        if message.migrate_to_chat_id is not None:
            await self.migrated(chat.id, message.migrate_to_chat_id)
            return
        if not text:
            return
        actor, where = actor_of(user), where_of(chat)
        command = self._command(text)
        if text.startswith("/") and command is None:
            return
        private = chat.type == ChatType.PRIVATE
        forms, invitations = self.platform.forms, self.platform.invitations
        if private and command and command.split()[0].lower() == "/start" and len(command.split()) == 2:
            await invitations.redeem(event_id, actor, where, command.split()[1])
            return
        if private and await forms.on_text(event_id, actor, where, command or text, command is not None):
            return
        replied = message.reply_to_message
        bot = self.platform.application.bot
        to_bot = replied is not None and replied.from_user is not None and replied.from_user.id == bot.id
        mention = f"@{self.platform.username}".lower()
        event: Inbound
        if command is None and to_bot and replied is not None:
            thread = message_ref(chat.id, replied.message_id)
            event = Reply(
                platform=self.name, event_id=event_id, actor=actor, where=where, text=text, thread_ref=thread
            )
        elif private or command is not None or text.lower().startswith(mention):
            explicit = command is not None or not private
            event = Command(
                platform=self.name,
                event_id=event_id,
                actor=actor,
                where=where,
                text=command or text,
                explicit=explicit,
            )
        else:
            return  # group chatter not addressed to us: nothing stored
        outcome = await self.services.router.handle(event, enroll=False)
        if not private and outcome.member_id is not None and not outcome.duplicate:
            async with self.services.database.transaction() as session:
                repos = Repos(session)
                channel = await repos.channels.by_external(self.name, where.external_id)
                if channel is not None:
                    await repos.channels.add_member(channel, outcome.member_id)

    async def _button(self, event_id: str, query: CallbackQuery) -> None:
        try:
            await query.answer()  # promptly, so the button stops spinning
        except tg.TelegramError as error:
            log.info("could not answer a button press", extra={"error": type(error).__name__})
        message = query.message
        if message is None:
            return
        actor, where = actor_of(query.from_user), where_of(message.chat)
        data = query.data or ""
        reference = message_ref(message.chat.id, message.message_id)
        if await self.platform.forms.on_click(event_id, actor, where, data, reference):
            return
        await self.services.router.handle(
            ButtonClick(
                platform=self.name,
                event_id=event_id,
                actor=actor,
                where=where,
                token=data,
                message_ref=reference,
            ),
            enroll=False,
        )

    async def _membership(self, event_id: str, change: ChatMemberUpdated) -> None:
        """The bot was added to a group by a linked member: the group becomes a channel Klantpet knows."""
        if change.chat.type not in GROUPS or change.new_chat_member.status not in (
            ChatMemberStatus.MEMBER,
            ChatMemberStatus.ADMINISTRATOR,
        ):
            return
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            member = await repos.members.by_identity(self.name, str(change.from_user.id))
            if member is None or not member.active:
                return
            if not await repos.events.first_time(self.name, event_id, self.services.clock.now()):
                return
            channel = await repos.channels.ensure(
                self.name, str(change.chat.id), change.chat.title or str(change.chat.id), kind="group"
            )
            await repos.channels.add_member(channel, member.id)

    async def migrated(self, old_id: int | str, new_id: int | str) -> None:
        """A group became a supergroup with a new id: keep the channel (and what hangs on it)."""
        async with self.services.database.transaction() as session:
            channels = Repos(session).channels
            channel = await channels.by_external(self.name, str(old_id))
            if channel is not None and await channels.by_external(self.name, str(new_id)) is None:
                channel.external_id = str(new_id)
