"""Channels, group chats and meeting chats the bot knows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Channel, ChannelMember


class ChannelRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, channel_id: int) -> Channel | None:
        return await self.session.get(Channel, channel_id)

    async def by_external(self, platform: str, external_id: str) -> Channel | None:
        statement = select(Channel).where(Channel.platform == platform, Channel.external_id == external_id)
        return (await self.session.scalars(statement)).first()

    async def by_name(self, name: str) -> Channel | None:
        statement = select(Channel).where(Channel.name == name.lstrip("#")).order_by(Channel.id)
        return (await self.session.scalars(statement)).first()

    async def ensure(
        self,
        platform: str,
        external_id: str,
        name: str,
        *,
        kind: str = "channel",
        locale: str | None = None,
        timezone: str | None = None,
    ) -> Channel:
        """The channel, created on first sight; its name follows the platform's."""
        channel = await self.by_external(platform, external_id)
        if channel is None:
            channel = Channel(
                platform=platform,
                external_id=external_id,
                name=name,
                kind=kind,
                locale=locale,
                timezone=timezone,
                created_at=datetime.now(UTC),
            )
            self.session.add(channel)
            await self.session.flush()
        elif name and channel.name != name:
            channel.name = name
        return channel

    async def all(self, platform: str | None = None) -> Sequence[Channel]:
        statement = select(Channel).where(Channel.kind != "dm").order_by(Channel.name)
        if platform:
            statement = statement.where(Channel.platform == platform)
        return (await self.session.scalars(statement)).all()

    async def add_member(self, channel: Channel, member_id: int) -> None:
        if await self.session.get(ChannelMember, (channel.id, member_id)) is None:
            self.session.add(ChannelMember(channel_id=channel.id, member_id=member_id))
            await self.session.flush()

    async def member_ids(self, channel_id: int) -> list[int]:
        statement = select(ChannelMember.member_id).where(ChannelMember.channel_id == channel_id)
        return list((await self.session.scalars(statement)).all())

    async def of_member(self, platform: str, member_id: int) -> Sequence[Channel]:
        """The channels on ``platform`` that ``member_id`` is in, by name."""
        statement = (
            select(Channel)
            .join(ChannelMember, ChannelMember.channel_id == Channel.id)
            .where(Channel.platform == platform, ChannelMember.member_id == member_id, Channel.kind != "dm")
            .order_by(Channel.name)
        )
        return (await self.session.scalars(statement)).all()
