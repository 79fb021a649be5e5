"""Where Teams conversations are: the references the bot needs to write first, kept in our database.

A reference (service URL, tenant, conversation id and type) is stored through the SDK's own proactive key
``proactive/conversations/<conversation id>`` on install and on every activity meant for the bot, so a
scheduled message reaches a person, a group chat or a channel after a restart and from any instance. Every
write goes to the database: an in-process "already stored" cache would keep one instance from restoring a
reference that another instance (an uninstall) or a privacy erase deleted (and the SDK gives each activity's
reference a fresh ``requestId`` anyway).

What is kept is what sending needs and no more: a group chat's or channel's reference has no sender in it,
a personal chat's keeps only the person's ids (no name). ``klantpet/personal-chats/<AAD object id>`` maps a
person to their 1:1 chat with the bot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microsoft_agents.activity import ChannelAccount, ConversationReference
from microsoft_agents.hosting.core.app.proactive import Conversation

from storage.repositories import Repos
from storage.repositories.teams import CONVERSATION_KEY, PERSONAL_CHAT_KEY

if TYPE_CHECKING:
    from bot.app import Services
    from bot.platforms.teams_storage import DatabaseStorage

__all__ = ["CONVERSATION_KEY", "PERSONAL_CHAT_KEY", "ConversationStore"]


class ConversationStore:
    def __init__(self, services: Services, storage: DatabaseStorage, platform_name: str) -> None:
        self.services = services
        self.storage = storage
        self.platform_name = platform_name

    async def reference(self, conversation_id: str) -> ConversationReference | None:
        """The stored reference of a conversation (for a channel thread, the channel's will do)."""
        keys = [CONVERSATION_KEY + conversation_id]
        if ";messageid=" in conversation_id:
            keys.append(CONVERSATION_KEY + conversation_id.split(";", 1)[0])
        found = await self.storage.read(keys, target_cls=Conversation)
        for key in keys:
            if key in found:
                return found[key].conversation_reference
        return None

    async def any_reference(self) -> ConversationReference | None:
        """The most recently stored reference: its service URL and tenant serve a first 1:1 chat."""
        async with self.services.database.transaction() as session:
            latest = await Repos(session).teams.latest(CONVERSATION_KEY)
        return Conversation.from_json_to_store_item(latest[1]).conversation_reference if latest else None

    async def remember(self, conversation: Conversation) -> None:
        """Store a conversation's reference (and, for a personal chat, whose chat it is)."""
        reference = conversation.conversation_reference
        personal = reference.conversation.conversation_type == "personal"
        person = reference.user
        kept = reference.model_copy(
            update={
                "activity_id": None,  # these two change with every activity; sending needs neither
                "request_id": None,
                "user": ChannelAccount(id=person.id, aad_object_id=person.aad_object_id)
                if personal and person
                else None,
            }
        )
        await self.storage.write(
            {CONVERSATION_KEY + kept.conversation.id: Conversation(conversation.claims, kept)}
        )
        if personal and person:
            chat = {"conversation_id": kept.conversation.id}
            async with self.services.database.transaction() as session:
                await Repos(session).teams.write(
                    {PERSONAL_CHAT_KEY + str(person.aad_object_id or person.id): chat},
                    self.services.clock.now(),
                )

    async def personal_chat(self, user_id: str) -> str | None:
        """The personal chat with a user (AAD object id) the bot has seen or opened, if any."""
        async with self.services.database.transaction() as session:
            found = await Repos(session).teams.read([PERSONAL_CHAT_KEY + user_id])
        value = found.get(PERSONAL_CHAT_KEY + user_id)
        return str(value["conversation_id"]) if isinstance(value, dict) else None

    async def forget(self, conversation_id: str) -> None:
        """The bot was removed from a conversation: later sends there fail at once instead of retrying."""
        await self.storage.delete([CONVERSATION_KEY + conversation_id])

    async def remember_personal_chat(self, user_id: str, conversation_id: str) -> None:
        """Direct messages to this member go to ``conversation_id`` from now on."""
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            member = await repos.members.by_identity(self.platform_name, user_id)
            if member is None:
                return
            identity = await repos.members.identity(member.id, self.platform_name)
            if identity is not None and identity.dm_ref != conversation_id:
                identity.dm_ref = conversation_id
