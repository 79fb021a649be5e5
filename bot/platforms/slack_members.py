"""Slack users → Klantpet members: full sync from ``users.list``, one user on ``team_join``/``user_change``.

Name, e-mail, time zone and (for new members) locale come from Slack; the department from a custom
profile field when one is configured (``--department-field`` / ``KLANTPET_SLACK_DEPARTMENT_FIELD``).
A member who already exists on another platform with the same e-mail address gets the Slack identity
added instead of a second member. Deactivated Slack users are marked inactive, never deleted (their
history, and the anonymity of what they answered, stays intact); reactivated users become active again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.i18n import LOCALES
from storage.models import Member
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)
PLATFORM = "slack"
SKIPPED_USERS = ("USLACKBOT",)


@dataclass(frozen=True)
class SlackProfile:
    """What Klantpet keeps of a Slack user."""

    user_id: str
    name: str
    email: str | None
    timezone: str | None
    locale: str | None
    department: str | None
    active: bool


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0

    def summary(self) -> str:
        return (
            f"{len(self.created)} new, {len(self.updated)} updated, {len(self.deactivated)} marked inactive, "
            f"{self.unchanged} unchanged, {self.skipped} bots skipped"
        )


def is_person(user: dict[str, Any]) -> bool:
    """Bots, apps, workflows and Slackbot are not members."""
    return not (
        user.get("is_bot")
        or user.get("is_app_user")
        or user.get("is_workflow_bot")
        or user.get("id") in SKIPPED_USERS
    )


def _timezone(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value


def _locale(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    short = value.replace("_", "-").split("-")[0].lower()
    return short if short in LOCALES else None


def profile_of(user: dict[str, Any], department_field: str | None = None) -> SlackProfile:
    profile = user.get("profile") or {}
    name = (
        str(profile.get("real_name") or "").strip()
        or str(user.get("real_name") or "").strip()
        or str(profile.get("display_name") or "").strip()
        or str(user.get("name") or user.get("id"))
    )
    department = None
    if department_field:
        entry = (profile.get("fields") or {}).get(department_field) or {}
        department = str(entry.get("value") or "").strip()[:120] or None
    return SlackProfile(
        user_id=str(user["id"]),
        name=name[:200],
        email=(str(profile["email"]).strip().lower()[:320] if profile.get("email") else None),
        timezone=_timezone(user.get("tz")),
        locale=_locale(user.get("locale")),
        department=department,
        active=not user.get("deleted", False),
    )


async def upsert(repos: Repos, profile: SlackProfile, now: datetime) -> tuple[Member, str]:
    """Create or update the member for ``profile``; returns it and ``created``/``updated``/``deactivated``/``unchanged``."""
    member = await repos.members.by_identity(PLATFORM, profile.user_id)
    if member is None and profile.email:
        member = await repos.members.by_email(profile.email)
        if member is not None and await repos.members.identity(member.id, PLATFORM) is None:
            await repos.members.add_identity(member, PLATFORM, profile.user_id)
        else:
            member = None
    if member is None:
        member = await repos.members.create(
            profile.name,
            department=profile.department,
            locale=profile.locale,
            timezone=profile.timezone,
            identities=[(PLATFORM, profile.user_id)],
            now=now,
        )
        member.email = profile.email
        member.active = profile.active
        await repos.session.flush()
        return member, "created"
    before = (member.name, member.email, member.timezone, member.department_id, member.active)
    member.name = profile.name
    member.email = profile.email or member.email
    member.timezone = profile.timezone or member.timezone
    if profile.department:
        member.department = await repos.members.department(profile.department)
    member.active = profile.active
    await repos.session.flush()
    after = (member.name, member.email, member.timezone, member.department_id, member.active)
    if before == after:
        return member, "unchanged"
    if before[4] and not after[4]:
        return member, "deactivated"
    return member, "updated"


async def _call(method: Any, **params: Any) -> Any:
    """One Web API call, waiting out rate limits (a sync is not urgent, but must finish)."""
    for attempt in range(6):
        try:
            return await method(**params)
        except SlackApiError as error:
            if error.response.status_code != 429 or attempt == 5:
                raise
            wait = float(error.response.headers.get("Retry-After", 1) or 1)
            log.info("slack rate limited during sync", extra={"seconds": wait})
            await asyncio.sleep(min(wait, 60.0))
    raise AssertionError("unreachable")


async def fetch_profile(
    client: AsyncWebClient, user: dict[str, Any], department_field: str | None, *, patient: bool = True
) -> SlackProfile:
    """The profile of ``user``. Slack leaves custom fields out of ``users.list``, ``users.info`` and events,
    so the department needs ``users.profile.get`` (Tier 4); ``patient``: wait out its rate limit."""
    if department_field and "fields" not in (user.get("profile") or {}):
        method = client.users_profile_get
        response = await (_call(method, user=user["id"]) if patient else method(user=user["id"]))
        user = {**user, "profile": {**(user.get("profile") or {}), **(response.get("profile") or {})}}
    return profile_of(user, department_field)


async def sync_all(
    services: Services, client: AsyncWebClient, department_field: str | None = None, page_size: int = 200
) -> SyncReport:
    """Bring every workspace member into Klantpet (one transaction per page of ``users.list``)."""
    report = SyncReport()
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": page_size, "include_locale": True}
        if cursor:
            params["cursor"] = cursor
        page = await _call(client.users_list, **params)
        profiles = []
        for user in page.get("members") or []:
            if not is_person(user):
                report.skipped += 1
                continue
            profiles.append(await fetch_profile(client, user, department_field))
        async with services.database.transaction() as session:
            repos = Repos(session)
            for profile in profiles:
                _, outcome = await upsert(repos, profile, services.clock.now())
                if outcome == "unchanged":
                    report.unchanged += 1
                else:
                    getattr(report, outcome).append(profile.name)
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return report
