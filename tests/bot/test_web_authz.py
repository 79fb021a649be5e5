"""The web chat acts only on messages a member can see, in the conversation they are in; it refuses
politely, in the member's language, and shows a re-sent message once."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import HTTPException

from bot.platforms.web import ClickBody, ReactBody, SendBody, SubmitBody
from bot.server import create_app
from storage.models import Role
from storage.repositories.tokens import token_for
from tests.harness import Chat, Person


async def test_nobody_can_overwrite_a_message_in_someone_elses_dm(chat: Chat) -> None:
    carla = await chat.member("Carla", roles=[Role.cx_manager])
    await carla.opens_chat()
    welcome = await carla.last_reply()
    mallory = await chat.member("Mallory")
    await mallory.opens_chat()
    await mallory.says("story share")
    form = await mallory.latest_form()
    forged = SubmitBody(
        event_id=uuid.uuid4().hex,
        token=form.form_token() or "",
        message_id=welcome.id,
        fields={"title": "Your account is locked, mail your password to mallory@evil.example"},
    )
    with pytest.raises(HTTPException) as refused:
        await chat.web.submit(mallory.member.id, mallory.dm, forged)
    assert refused.value.status_code == 403
    await chat.deliver()
    after = next(seen for seen in await carla.sees(carla.dm) if seen.id == welcome.id)
    assert after.html == welcome.html


async def test_a_token_works_only_on_the_message_that_shows_it(chat: Chat) -> None:
    anna = await chat.member("Anna")
    await anna.opens_chat()
    welcome = await anna.last_reply()
    await anna.says("help")
    help_reply = await anna.last_reply()
    topic_token = help_reply.buttons()[chat.t("nl", "help.button_ritual")]
    with pytest.raises(HTTPException):  # a token from another message
        await chat.web.click(
            anna.member.id, anna.dm, ClickBody(event_id="x" * 10, token=topic_token, message_id=welcome.id)
        )
    with pytest.raises(HTTPException):  # a token made up by the client
        await chat.web.click(
            anna.member.id,
            anna.dm,
            ClickBody(event_id="y" * 10, token=token_for("core.help", {}) + "x", message_id=welcome.id),
        )


async def test_replies_and_reactions_only_in_conversations_you_are_in(chat: Chat) -> None:
    anna = await chat.member("Anna")
    bram = await chat.member("Bram")
    await chat.channel("team-a", [anna])
    await anna.says("/help", where="channel:team-a")
    posted = await anna.last_reply("channel:team-a")
    with pytest.raises(HTTPException):
        await chat.web.react(
            bram.member.id, "channel:team-a", ReactBody(event_id="r" * 10, message_id=posted.id, emoji="+1")
        )
    with pytest.raises(HTTPException):  # from his own DM, naming a message elsewhere
        await chat.web.say(
            bram.member.id, SendBody(event_id="s" * 10, conversation=bram.dm, text="hoi", thread_of=posted.id)
        )


@contextlib.asynccontextmanager
async def browser_of(chat: Chat, person: Person) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as ``person`` through a one-time link, talking to the real app over HTTP."""
    transport = httpx.ASGITransport(app=create_app(chat.services))
    async with httpx.AsyncClient(transport=transport, base_url="http://klantpet.test") as client:
        link = urlsplit(chat.web.sign_in_link(person.member.id))
        signed_in = await client.get(f"{link.path}?{link.query}")
        assert signed_in.status_code == 303
        yield client


async def test_a_resent_message_shows_once_and_is_answered_once(chat: Chat) -> None:
    anna = await chat.member("Anna")
    await anna.opens_chat()
    body = SendBody(event_id=uuid.uuid4().hex, conversation=anna.dm, text="help")
    first = await chat.web.say(anna.member.id, body)
    again = await chat.web.say(anna.member.id, body)  # the browser retried after a network hiccup
    await chat.deliver()
    assert not first.duplicate and again.duplicate
    seen = await anna.sees()
    assert [message.text for message in seen if message.author == "Anna"] == ["help"]
    assert len([message for message in seen if "help.intro" in message.keys]) == 1


async def test_a_moment_without_a_time_zone_is_refused_in_the_members_language(chat: Chat) -> None:
    emma = await chat.member("Emma", locale="en")
    async with browser_of(chat, emma) as browser:
        naive = await browser.get("/chat/api/messages", params={"since": "2026-01-01T00:00:00"})
        assert naive.status_code == 422
        assert naive.json() == {"detail": chat.t("en", "web.error.bad_since"), "error": "bad_since"}
        garbled = await browser.get("/chat/api/messages", params={"since": "yesterday"})
        assert garbled.status_code == 422 and garbled.json()["error"] == "bad_since"
        aware = await browser.get("/chat/api/messages", params={"since": "2026-01-01T00:00:00+01:00"})
        assert aware.status_code == 200


async def test_refusals_are_sentences_in_the_members_language(chat: Chat) -> None:
    emma = await chat.member("Emma", locale="en")
    anna = await chat.member("Anna")
    await chat.channel("team-a", [anna])
    async with browser_of(chat, emma) as browser:
        elsewhere = await browser.post(
            "/chat/api/send",
            json={"event_id": uuid.uuid4().hex, "conversation": "channel:team-a", "text": "hi"},
        )
        assert elsewhere.status_code == 403
        assert elsewhere.json() == {
            "detail": chat.t("en", "web.error.not_in_channel"),
            "error": "not_in_channel",
        }
    async with browser_of(chat, anna) as browser:
        someone_elses_dm = await browser.post(
            "/chat/api/send", json={"event_id": uuid.uuid4().hex, "conversation": emma.dm, "text": "hoi"}
        )
        assert someone_elses_dm.json()["detail"] == chat.t("nl", "web.error.not_in_channel")
    transport = httpx.ASGITransport(app=create_app(chat.services))
    async with httpx.AsyncClient(transport=transport, base_url="http://klantpet.test") as stranger:
        refused = await stranger.get("/chat/api/conversations")
        assert refused.status_code == 401
        assert refused.json()["detail"] == chat.t("nl", "web.error.sign_in_first")
        used_link = await stranger.get("/chat/login", params={"token": "forged"})
        assert used_link.status_code == 403 and used_link.json()["error"] == "link_invalid"
    assert [seen.text for seen in await anna.sees("channel:team-a")] == []
