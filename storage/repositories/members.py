"""Members, their roles, departments and platform identities."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import (
    Channel,
    ChannelMember,
    Department,
    Identity,
    Meeting,
    MeetingParticipant,
    Member,
    MemberRole,
    Role,
)


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, member_id: int) -> Member | None:
        return await self.session.get(Member, member_id)

    async def by_identity(self, platform: str, external_id: str) -> Member | None:
        statement = (
            select(Member)
            .join(Identity)
            .where(Identity.platform == platform, Identity.external_id == external_id)
            # one statement for the member, their roles and identities (every inbound event asks this)
            .options(joinedload(Member.roles), joinedload(Member.identities))
        )
        return (await self.session.scalars(statement)).unique().first()

    async def by_identities(self, platform: str, external_ids: Iterable[str]) -> dict[str, Member]:
        """`by_identity` for several people in one statement: external id -> member."""
        wanted = list(set(external_ids))
        if not wanted:
            return {}
        statement = (
            select(Identity.external_id, Member)
            .join(Member, Member.id == Identity.member_id)
            .where(Identity.platform == platform, Identity.external_id.in_(wanted))
            .options(joinedload(Member.roles), joinedload(Member.identities))
        )
        return {
            str(external_id): member
            for external_id, member in (await self.session.execute(statement)).unique()
        }

    async def external_ids(self, platform: str) -> set[str]:
        """The platform ids of everyone with an identity on ``platform``."""
        statement = select(Identity.external_id).where(Identity.platform == platform)
        return set((await self.session.scalars(statement)).all())

    async def identity(self, member_id: int, platform: str) -> Identity | None:
        statement = select(Identity).where(Identity.member_id == member_id, Identity.platform == platform)
        return (await self.session.scalars(statement)).first()

    async def by_name(self, name: str) -> Member | None:
        statement = select(Member).where(func.lower(Member.name) == name.lower())
        return (await self.session.scalars(statement)).first()

    async def by_email(self, email: str) -> Member | None:
        statement = (
            select(Member).where(func.lower(Member.email) == email.strip().lower()).order_by(Member.id)
        )
        return (await self.session.scalars(statement)).first()

    async def meetings(self, member_id: int) -> Sequence[Meeting]:
        """The recurring meetings this member takes part in."""
        statement = (
            select(Meeting)
            .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
            .where(MeetingParticipant.member_id == member_id)
            .order_by(Meeting.id)
        )
        return (await self.session.scalars(statement)).all()

    async def find(self, reference: str) -> Member | None:
        """A member by ``<platform>:<external id>``, ``#<id>`` or exact name (case-insensitive).

        None when nobody matches, and when a name is shared by several people (never a guess)."""
        found = await self.matching(reference)
        return found[0] if len(found) == 1 else None

    async def matching(self, reference: str) -> Sequence[Member]:
        """Everyone ``reference`` (as for `find`) could mean: more than one only for a shared name."""
        reference = reference.strip()
        if reference.startswith("#") and reference[1:].isdigit():
            member = await self.get(int(reference[1:]))
            return [member] if member is not None else []
        platform, sep, external_id = reference.partition(":")
        if sep and platform in {"web", "slack", "teams", "telegram"}:
            member = await self.by_identity(platform, external_id)
            return [member] if member is not None else []
        statement = select(Member).where(func.lower(Member.name) == reference.lower()).order_by(Member.id)
        return (await self.session.scalars(statement)).all()

    async def department(self, name: str) -> Department:
        """The department with this name, created when new."""
        found = (await self.session.scalars(select(Department).where(Department.name == name))).first()
        if found is None:
            found = Department(name=name)
            self.session.add(found)
            await self.session.flush()
        return found

    async def departments(self) -> Sequence[Department]:
        return (await self.session.scalars(select(Department).order_by(Department.name))).all()

    async def create(
        self,
        name: str,
        *,
        department: str | None = None,
        locale: str | None = None,
        timezone: str | None = None,
        title: str | None = None,
        roles: Iterable[Role] = (),
        identities: Iterable[tuple[str, str]] = (),
        now: datetime | None = None,
    ) -> Member:
        now = now or datetime.now(UTC)
        member = Member(
            name=name,
            title=title,
            locale=locale,
            timezone=timezone,
            joined_at=now,
            created_at=now,
            active=True,
        )
        if department:
            member.department = await self.department(department)
        member.roles = [MemberRole(role=role.value) for role in roles if role is not Role.employee]
        member.identities = [
            Identity(platform=platform, external_id=external_id, created_at=now)
            for platform, external_id in identities
        ]
        self.session.add(member)
        await self.session.flush()
        return member

    async def add_identity(
        self,
        member: Member,
        platform: str,
        external_id: str,
        dm_ref: str | None = None,
        now: datetime | None = None,
    ) -> None:
        existing = await self.identity(member.id, platform)
        if existing is not None:
            existing.external_id = external_id
            existing.dm_ref = dm_ref or existing.dm_ref
        else:
            member.identities.append(
                Identity(
                    platform=platform,
                    external_id=external_id,
                    dm_ref=dm_ref,
                    created_at=now or datetime.now(UTC),
                )
            )
        await self.session.flush()

    async def grant(self, member: Member, role: Role) -> bool:
        """Give ``member`` the role; False when they already had it."""
        if role is Role.employee or any(existing.role == role.value for existing in member.roles):
            return False
        member.roles.append(MemberRole(role=role.value))
        await self.session.flush()
        return True

    async def revoke(self, member: Member, role: Role) -> bool:
        kept = [existing for existing in member.roles if existing.role != role.value]
        changed = len(kept) != len(member.roles)
        member.roles = kept
        await self.session.flush()
        return changed

    async def active(self, department_ids: Iterable[int] | None = None) -> Sequence[Member]:
        statement = select(Member).where(Member.active.is_(True)).order_by(Member.id)
        if department_ids is not None:
            statement = statement.where(Member.department_id.in_(list(department_ids)))
        return (await self.session.scalars(statement)).all()

    async def with_role(self, role: Role) -> Sequence[Member]:
        statement = (
            select(Member)
            .join(MemberRole)
            .where(
                MemberRole.role.in_([role.value, Role.admin.value])
                if role is not Role.admin
                else MemberRole.role == role.value
            )
            .where(Member.active.is_(True))
            .order_by(Member.id)
            .distinct()
        )
        return (await self.session.scalars(statement)).all()

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Member)) or 0)

    async def names(self, member_ids: Iterable[int]) -> dict[int, str]:
        """Names by id, in one query."""
        wanted = list(member_ids)
        if not wanted:
            return {}
        statement = select(Member.id, Member.name).where(Member.id.in_(wanted))
        return {row[0]: row[1] for row in (await self.session.execute(statement)).all()}

    # --- Privacy ---------------------------------------------------------------------------------
    async def export_for_member(self, member: Member) -> dict[str, Any]:
        """The member's profile, roles, platform identities and channel memberships."""
        channels = await self.session.execute(
            select(Channel.platform, Channel.name)
            .join(ChannelMember, ChannelMember.channel_id == Channel.id)
            .where(ChannelMember.member_id == member.id)
            .order_by(Channel.platform, Channel.name)
        )
        return {
            "profile": {
                "id": member.id,
                "name": member.name,
                "title": member.title,
                "email": member.email,
                "department": member.department_name,
                "locale": member.locale,
                "timezone": member.timezone,
                "preferred_platform": member.preferred_platform,
                "active": member.active,
                "joined_at": member.joined_at,
                "created_at": member.created_at,
            },
            "roles": sorted(role.role for role in member.roles),
            "identities": [
                {
                    "platform": identity.platform,
                    "external_id": identity.external_id,
                    "dm_ref": identity.dm_ref,
                    "created_at": identity.created_at,
                }
                for identity in sorted(member.identities, key=lambda identity: identity.platform)
            ],
            "channels": [{"platform": platform, "name": name} for platform, name in channels.all()],
        }

    async def anonymise(self, member: Member, name: str) -> None:
        """Keep the row (foreign keys and counts hold) but nothing that names the person: renamed,
        inactive, no roles, identities, department or channel memberships."""
        member.name = name
        member.title = None
        member.email = None
        member.department = None
        member.locale = None
        member.timezone = None
        member.preferred_platform = None
        member.active = False
        member.roles = []
        member.identities = []
        await self.session.execute(delete(ChannelMember).where(ChannelMember.member_id == member.id))
        await self.session.flush()
