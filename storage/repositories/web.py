"""The built-in web chat's messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebMessage


class WebMessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(
        self,
        conversation: str,
        html: str,
        *,
        text: str = "",
        author_member_id: int | None = None,
        visible_to: int | None = None,
        thread_of: int | None = None,
        keys: list[str] | None = None,
    ) -> WebMessage:
        now = datetime.now(UTC)
        message = WebMessage(
            conversation=conversation,
            html=html,
            text=text,
            author_member_id=author_member_id,
            visible_to=visible_to,
            thread_of=thread_of,
            keys=keys or [],
            revision=0,
            created_at=now,
            updated_at=now,
        )
        self.session.add(message)
        await self.session.flush()
        return message

    async def get(self, message_id: int) -> WebMessage | None:
        return await self.session.get(WebMessage, message_id)

    async def replace(self, message_id: int, html: str, text: str, keys: list[str]) -> WebMessage | None:
        message = await self.get(message_id)
        if message is None:
            return None
        message.html = html
        message.text = text
        message.keys = keys
        message.revision += 1
        message.updated_at = datetime.now(UTC)
        await self.session.flush()
        return message

    async def visible(
        self, conversations: Sequence[str], member_id: int, since: datetime | None = None, limit: int = 200
    ) -> Sequence[WebMessage]:
        """Messages in these conversations that ``member_id`` may see, oldest first."""
        statement = select(WebMessage).where(
            WebMessage.conversation.in_(list(conversations)),
            or_(WebMessage.visible_to.is_(None), WebMessage.visible_to == member_id),
        )
        if since is not None:
            statement = statement.where(WebMessage.updated_at > since)
            statement = statement.order_by(WebMessage.updated_at, WebMessage.id).limit(limit)
            return (await self.session.scalars(statement)).all()
        statement = statement.order_by(WebMessage.id.desc()).limit(limit)
        return list(reversed((await self.session.scalars(statement)).all()))

    async def forget_before(self, cutoff: datetime) -> int:
        from sqlalchemy import delete

        result = await self.session.execute(delete(WebMessage).where(WebMessage.updated_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)

    async def export_for_member(self, member_id: int) -> list[dict[str, Any]]:
        """The web chat messages the member wrote, oldest first."""
        statement = select(WebMessage).where(WebMessage.author_member_id == member_id).order_by(WebMessage.id)
        return [
            {"conversation": row.conversation, "text": row.text, "at": row.created_at}
            for row in await self.session.scalars(statement)
        ]

    async def forget_member(self, member_id: int, conversation: str) -> int:
        """Delete what the member wrote, their own conversation with the bot and what only they could see."""
        result = await self.session.execute(
            delete(WebMessage).where(
                or_(
                    WebMessage.author_member_id == member_id,
                    WebMessage.visible_to == member_id,
                    WebMessage.conversation == conversation,
                )
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
