"""The Teams key-value store: what the Agents SDK keeps (conversation references, turn state), as JSON by key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery
from storage.models.teams import TeamsStoreItem

CONVERSATION_KEY = "proactive/conversations/"  # the Agents SDK's own key for stored conversations
PERSONAL_CHAT_KEY = "klantpet/personal-chats/"  # AAD object id → the person's 1:1 chat with the bot
USER_STATE_KEY = "msteams/users/"  # the SDK's turn state (kept only if a handler ever stores any)
CONVERSATION_STATE_KEY = "msteams/conversations/"


class TeamsStoreRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def read(self, keys: Sequence[str]) -> dict[str, Any]:
        """The stored values of ``keys`` that exist."""
        if not keys:
            return {}
        statement = select(TeamsStoreItem).where(TeamsStoreItem.key.in_(list(keys)))
        return {row.key: row.value for row in await self.session.scalars(statement)}

    async def write(self, items: Mapping[str, Any], now: datetime | None = None) -> None:
        """Insert or replace every item (last writer wins, as in the SDK's own storages)."""
        if not items:
            return
        now = now or datetime.now(UTC)
        rows = [{"key": key, "value": value, "updated_at": now} for key, value in items.items()]
        table: Any = TeamsStoreItem.__table__
        on_postgres = self.session.bind is not None and self.session.bind.dialect.name == "postgresql"
        insert: Any = (postgresql.insert if on_postgres else sqlite.insert)(table).values(rows)
        statement = insert.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
        )
        await self.session.execute(statement)

    async def delete(self, keys: Sequence[str]) -> None:
        if keys:
            await self.session.execute(delete(TeamsStoreItem).where(TeamsStoreItem.key.in_(list(keys))))

    async def latest(self, prefix: str) -> tuple[str, Any] | None:
        """The most recently written item whose key starts with ``prefix``."""
        statement = (
            select(TeamsStoreItem)
            .where(TeamsStoreItem.key.startswith(prefix, autoescape=True))
            .order_by(TeamsStoreItem.updated_at.desc())
            .limit(1)
        )
        row = (await self.session.scalars(statement)).first()
        return (row.key, row.value) if row else None

    async def keys(self, prefix: str) -> list[str]:
        statement = select(TeamsStoreItem.key).where(TeamsStoreItem.key.startswith(prefix, autoescape=True))
        return list((await self.session.scalars(statement.order_by(TeamsStoreItem.key))).all())

    async def card_edits(self, key_prefix: str, message_ref: str) -> list[Delivery]:
        """Edits of the card ``message_ref`` enqueued by one inbound event (its reply keys share ``key_prefix``)."""
        statement = (
            select(Delivery)
            .where(
                Delivery.idempotency_key.startswith(key_prefix, autoescape=True),
                Delivery.platform == "teams",
                Delivery.edit_ref == message_ref,
            )
            .order_by(Delivery.id)
        )
        return list((await self.session.scalars(statement)).all())

    async def forget_member(self, aad_object_id: str, personal_chat: str | None) -> int:
        """Delete what is kept about one person: their 1:1 chat's reference and turn state, and the map to
        it. ``personal_chat`` is the chat known to the member's identity (the map may know another)."""
        mapped = (await self.read([PERSONAL_CHAT_KEY + aad_object_id])).get(PERSONAL_CHAT_KEY + aad_object_id)
        chats = {personal_chat} if personal_chat else set()
        if isinstance(mapped, dict) and mapped.get("conversation_id"):
            chats.add(str(mapped["conversation_id"]))
        keys = [PERSONAL_CHAT_KEY + aad_object_id, USER_STATE_KEY + aad_object_id]
        stored = await self.read([CONVERSATION_KEY + chat for chat in chats])
        for chat in chats:
            keys += [CONVERSATION_KEY + chat, CONVERSATION_STATE_KEY + chat]
            user = _mapping(_mapping(stored.get(CONVERSATION_KEY + chat)).get("conversation_reference")).get(
                "user"
            )
            if isinstance(user, dict) and user.get("id"):
                keys.append(USER_STATE_KEY + str(user["id"]))
        result = await self.session.execute(delete(TeamsStoreItem).where(TeamsStoreItem.key.in_(keys)))
        return int(getattr(result, "rowcount", 0) or 0)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
