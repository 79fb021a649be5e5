"""Who and where on Slack, as events arrive: a new user becomes a member, a channel gets its name.

Lookups happen after the acknowledgement, in the event's task. They never lose the event: when Slack is
slow, unreachable or rate-limits a lookup, the event goes on with what is known (a member by their Slack id,
a channel without its name) and the next event or ``klantpet slack sync`` completes the profile. Bots,
apps and Slackbot never become members, whichever way they show up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from bot.events import Inbound
from bot.platforms import slack_members
from storage.repositories import Repos

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.app import Services

log = logging.getLogger(__name__)
PLATFORM = "slack"
LOOKUP_FAILURES = (SlackApiError, aiohttp.ClientError, TimeoutError)


def _failure(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or error.response.status_code)
    return type(error).__name__


class SlackDirectory:
    def __init__(self, services: Services, client: AsyncWebClient) -> None:
        self.services = services
        self.client = client
        self.channel_names: dict[str, str] = {}
        self.known_users: set[str] = set()
        self.not_people: set[str] = set()
        self.user_locks: dict[str, asyncio.Lock] = {}

    async def named(self, event: Inbound) -> Inbound:
        """Give a channel its Slack name (stories are scheduled to ``#name``)."""
        where = event.where
        if where.kind == "dm" or where.name:
            return event
        if where.external_id not in self.channel_names:
            try:
                response = await self.client.conversations_info(channel=where.external_id)
            except LOOKUP_FAILURES as error:
                log.info("channel name unknown", extra={"error": _failure(error)})
                return event
            self.channel_names[where.external_id] = str(response["channel"].get("name") or where.external_id)
        return dataclasses.replace(
            event, where=dataclasses.replace(where, name=self.channel_names[where.external_id])
        )

    async def remember_members(self) -> None:
        """Note every Slack user who is a member already (one query at start): their events skip the lookup."""
        async with self.services.database.transaction() as session:
            self.known_users.update(await Repos(session).members.external_ids(PLATFORM))

    async def ensure_member(self, user_id: str) -> bool:
        """A Slack user seen for the first time becomes a member with their Slack profile.

        False for a bot, an app or Slackbot (never a member); True otherwise, also when Slack could not be
        asked (the event then enrolls the person by their Slack id).
        """
        if user_id in self.known_users:
            return True
        if user_id in self.not_people:
            return False
        async with self.user_locks.setdefault(user_id, asyncio.Lock()):  # one user's first events together
            if user_id in self.known_users or user_id in self.not_people:
                return user_id in self.known_users
            async with self.services.database.transaction() as session:
                known = await Repos(session).members.by_identity(PLATFORM, user_id) is not None
            if not known:
                try:
                    response = await self.client.users_info(user=user_id, include_locale=True)
                except LOOKUP_FAILURES as error:
                    log.warning("could not read a Slack user", extra={"error": _failure(error)})
                    return True
                user = response["user"]
                if not slack_members.is_person(user):
                    self.not_people.add(user_id)
                    return False
                await self.save_user(user, patient=False)
            self.known_users.add(user_id)
            return True

    async def save_user(self, user: dict[str, Any], *, patient: bool = True) -> str | None:
        """Create or update the member of a person (None for a bot); another instance doing the same at
        once is retried. ``patient``: wait out Slack's rate limit for the custom profile fields."""
        if not slack_members.is_person(user):
            self.not_people.add(str(user.get("id")))
            return None
        department_field = self.services.settings.slack_department_field
        try:
            profile = await slack_members.fetch_profile(self.client, user, department_field, patient=patient)
        except LOOKUP_FAILURES as error:
            log.info("profile fields unread", extra={"error": _failure(error)})
            profile = slack_members.profile_of(user)  # without the department: it stays as it was
        for attempt in range(3):
            try:
                async with self.services.database.transaction() as session:
                    _, outcome = await slack_members.upsert(
                        Repos(session), profile, self.services.clock.now()
                    )
                self.known_users.add(profile.user_id)
                return outcome
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")
