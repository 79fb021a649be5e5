"""The dialogue harness: people talk to the bot through the real web chat platform.

Every step goes the whole way: web platform → router → handler → storage → outbox → web platform, and
then reads what the person can see. Tests read like the conversation a user would have.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from bot.app import Services
from bot.platforms.web import ClickBody, ReactBody, SendBody, SubmitBody
from bot.router import Outcome
from storage.models import Member, Role
from storage.repositories import Repos

_BUTTON = re.compile(
    r'<button type="button" class="kp-button[^"]*" data-token="([a-z0-9]+)">([^<]*)</button>'
)
_OPTION = re.compile(r'<option value="([a-z0-9]+)">([^<]*)</option>')
_FORM = re.compile(r'<form class="kp-form" data-token="([a-z0-9]+)">')
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class Seen:
    """A message as a person sees it in the web chat."""

    id: int
    conversation: str
    author: str
    html: str
    keys: list[str]
    private: bool
    thread_of: int | None

    @property
    def text(self) -> str:
        import html

        return html.unescape(_TAGS.sub(" ", self.html.replace("<br>", "\n"))).strip()

    @property
    def key(self) -> str | None:
        return self.keys[0] if self.keys else None

    def buttons(self) -> dict[str, str]:
        found = {label: token for token, label in _BUTTON.findall(self.html)}
        found.update({label: token for token, label in _OPTION.findall(self.html)})
        return {_unescape(label): token for label, token in found.items()}

    def form_token(self) -> str | None:
        match = _FORM.search(self.html)
        return match.group(1) if match else None


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


class Person:
    def __init__(self, chat: Chat, member: Member) -> None:
        self.chat = chat
        self.member = member

    @property
    def dm(self) -> str:
        return f"dm:{self.member.id}"

    async def opens_chat(self) -> Outcome:
        outcome = await self.chat.web.sign_in(self.member.id)
        await self.chat.deliver()
        return outcome

    async def says(self, text: str, where: str | None = None, thread_of: int | None = None) -> Outcome:
        body = SendBody(
            event_id=uuid.uuid4().hex, conversation=where or self.dm, text=text, thread_of=thread_of
        )
        outcome = await self.chat.web.say(self.member.id, body)
        await self.chat.deliver()
        return outcome

    async def clicks(self, label: str, message: Seen | None = None, event_id: str | None = None) -> Outcome:
        """Click the button (or pick the option) labelled ``label`` on ``message`` (default: the latest with it)."""
        message = message or await self.latest_with_button(label)
        token = message.buttons()[label]
        body = ClickBody(event_id=event_id or uuid.uuid4().hex, token=token, message_id=message.id)
        outcome = await self.chat.web.click(self.member.id, message.conversation, body)
        await self.chat.deliver()
        return outcome

    async def submits(self, fields: dict[str, str], message: Seen | None = None) -> Outcome:
        message = message or await self.latest_form()
        token = message.form_token()
        assert token, "no form in that message"
        body = SubmitBody(event_id=uuid.uuid4().hex, token=token, message_id=message.id, fields=fields)
        outcome = await self.chat.web.submit(self.member.id, message.conversation, body)
        await self.chat.deliver()
        return outcome

    async def reacts(self, message: Seen, emoji: str = "+1", *, removed: bool = False) -> Outcome:
        """React to ``message`` with ``emoji`` (``removed``: take that reaction back)."""
        body = ReactBody(event_id=uuid.uuid4().hex, message_id=message.id, emoji=emoji, removed=removed)
        outcome = await self.chat.web.react(self.member.id, message.conversation, body)
        await self.chat.deliver()
        return outcome

    async def sees(self, where: str | None = None) -> list[Seen]:
        rows = await self.chat.web.messages(self.member.id, None)
        return [
            Seen(
                row["id"],
                row["conversation"],
                row["author"],
                row["html"],
                row["keys"],
                row["private"],
                row["thread_of"],
            )
            for row in rows
            if where is None or row["conversation"] == where
        ]

    async def last_reply(self, where: str | None = None) -> Seen:
        """The newest message from the bot in ``where`` (default: this person's DM)."""
        bot_messages = [seen for seen in await self.sees(where or self.dm) if seen.author == "Klantpet"]
        assert bot_messages, "the bot has not said anything here"
        return bot_messages[-1]

    async def replies_with(self, key: str, where: str | None = None) -> list[Seen]:
        return [seen for seen in await self.sees(where or self.dm) if key in seen.keys]

    async def latest_with_button(self, label: str) -> Seen:
        for seen in reversed(await self.sees()):
            if label in seen.buttons():
                return seen
        raise AssertionError(f"no message with a button {label!r}")

    async def latest_form(self) -> Seen:
        for seen in reversed(await self.sees()):
            if seen.form_token():
                return seen
        raise AssertionError("no message with a form")


class Chat:
    def __init__(self, services: Services) -> None:
        self.services = services
        web = services.web
        assert web is not None, "the web chat must be on in tests"
        self.web = web

    async def deliver(self) -> int:
        """Run the outbox until nothing is due (what the background dispatcher does)."""
        return await self.services.outbox.drain()

    async def member(
        self,
        name: str,
        *,
        department: str | None = None,
        roles: Iterable[Role] = (),
        locale: str = "nl",
        timezone: str = "Europe/Amsterdam",
    ) -> Person:
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            member = await repos.members.create(
                name,
                department=department,
                roles=roles,
                locale=locale,
                timezone=timezone,
                now=self.services.clock.now(),
            )
            await repos.members.add_identity(member, "web", str(member.id))
        return Person(self, member)

    async def channel(
        self, name: str, members: Iterable[Person], locale: str = "nl", timezone: str = "Europe/Amsterdam"
    ) -> str:
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            channel = await repos.channels.ensure(
                "web", f"channel:{name}", name, locale=locale, timezone=timezone
            )
            for person in members:
                await repos.channels.add_member(channel, person.member.id)
        return f"channel:{name}"

    def t(self, locale: str, key: str, **params: object) -> str:
        return self.services.catalog.t(
            locale, key, **{"organisation": self.services.settings.organisation, **params}
        )
