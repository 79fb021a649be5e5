"""Self-test of the fake Slack Web API, driven by the real slack_sdk clients over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import aiohttp
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from .server import free_port, serve
from .slack_api import (
    BOT_USER_ID,
    DEFAULT_TOKEN,
    GENERAL_CHANNEL,
    FakeSlack,
    block_actions_body,
    event_callback_body,
    new_trigger_id,
    signed_headers,
    slash_command_body,
    view_submission_body,
)


@pytest.fixture
def fake() -> FakeSlack:
    f = FakeSlack(rate_per_channel=1.0)
    f.add_user("U0000ANNA", "anna", "Anna de Vries", profile_fields={"Xf01": "Sales"})
    f.add_user("U0000BART", "bart", "Bart Jansen", tz="America/New_York", locale="en-US")
    f.add_channel("C0SUPPORT", "support", members=["U0000ANNA", BOT_USER_ID])
    return f


@pytest.fixture
def url(fake: FakeSlack) -> Iterator[str]:
    with serve(fake.app) as base:
        yield base


def client(url: str, token: str = DEFAULT_TOKEN) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=f"{url}/api/", retry_handlers=[])


def blocks(n: int, text: str = "hi") -> list[dict[str, object]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}} for _ in range(n)]


@pytest.mark.asyncio
async def test_auth_and_unknown_method(fake: FakeSlack, url: str) -> None:
    auth = await client(url).auth_test()
    assert auth["user_id"] == BOT_USER_ID and auth["bot_id"] and auth["team_id"] and auth["url"]
    with pytest.raises(SlackApiError) as e:
        await client(url).api_call("nope.nothing")
    assert e.value.response.status_code == 200 and e.value.response["error"] == "unknown_method"
    with pytest.raises(SlackApiError) as e:
        await client(url, token="xoxb-wrong").auth_test()
    assert e.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as e:
        await AsyncWebClient(base_url=f"{url}/api/").auth_test()
    assert e.value.response["error"] == "not_authed"
    assert [c.method for c in fake.calls] == ["auth.test", "nope.nothing", "auth.test", "auth.test"]


@pytest.mark.asyncio
async def test_dm_update_delete(fake: FakeSlack, url: str) -> None:
    c = client(url)
    r1 = await c.chat_postMessage(channel="U0000ANNA", text="hallo")
    assert r1["channel"].startswith("D") and r1["message"]["text"] == "hallo"
    r2 = await c.chat_postMessage(channel=r1["channel"], text="again", blocks=blocks(2))
    assert float(r2["ts"]) > float(r1["ts"]) and r2["channel"] == r1["channel"]
    await c.chat_update(channel=r1["channel"], ts=r2["ts"], text="edited", blocks=blocks(1, "new"))
    latest = fake.message("U0000ANNA", r2["ts"])
    assert latest is not None and latest["text"] == "edited" and latest["blocks"][0]["text"]["text"] == "new"
    with pytest.raises(SlackApiError) as e:
        await c.chat_update(channel=r1["channel"], ts="1.000001", text="x")
    assert e.value.response["error"] == "message_not_found"
    await c.chat_delete(channel=r1["channel"], ts=r1["ts"])
    assert [m["ts"] for m in fake.messages(r1["channel"])] == [r2["ts"]]
    eph = await c.chat_postEphemeral(channel="C0SUPPORT", user="U0000ANNA", text="psst")
    assert eph["message_ts"] and fake.ephemerals[0]["to_user"] == "U0000ANNA"
    assert len(fake.calls_to("chat.postMessage")) == 2


@pytest.mark.asyncio
async def test_validation_errors(url: str) -> None:
    c = client(url)
    cases = [
        ({"channel": GENERAL_CHANNEL, "text": "x", "blocks": blocks(51)}, "invalid_blocks"),
        ({"channel": GENERAL_CHANNEL, "text": "x", "blocks": blocks(1, "a" * 3001)}, "invalid_blocks"),
        ({"channel": GENERAL_CHANNEL, "text": "a" * 40_001}, "msg_too_long"),
        ({"channel": "C0MISSING", "text": "x"}, "channel_not_found"),
    ]
    for kwargs, error in cases:
        with pytest.raises(SlackApiError) as e:
            await c.chat_postMessage(**kwargs)  # type: ignore[arg-type]
        assert e.value.response["error"] == error
    assert (await c.chat_postMessage(channel="#general", text="ok", blocks=blocks(50)))["ok"]


@pytest.mark.asyncio
async def test_rate_limit_429(fake: FakeSlack, url: str) -> None:
    c = client(url)
    errors = []
    for i in range(3):
        try:
            await c.chat_postMessage(channel="C0SUPPORT", text=f"m{i}")
        except SlackApiError as e:
            errors.append(e)
    assert errors and fake.rate_limited >= 1
    resp = errors[0].response
    assert resp.status_code == 429 and resp["error"] == "ratelimited"
    assert int(resp.headers["Retry-After"]) >= 1
    assert (await c.chat_postMessage(channel=GENERAL_CHANNEL, text="other channel is fine"))["ok"]


@pytest.mark.asyncio
async def test_time_scale_and_workspace_rate() -> None:
    fake = FakeSlack(rate_per_channel=None, workspace_rate=2.0, time_scale=0.05)
    for i in range(5):
        fake.add_channel(f"C0BENCH{i}", f"bench{i}")
    with serve(fake.app) as url:
        c = client(url)
        ok = 0
        deadline = time.monotonic() + 0.5  # 0.5 s real = 10 fake seconds -> ~20 msgs + burst
        while time.monotonic() < deadline:
            try:
                await c.chat_postMessage(channel=f"C0BENCH{ok % 5}", text="x")
                ok += 1
            except SlackApiError as e:
                assert e.response.status_code == 429
                await asyncio.sleep(float(e.response.headers["X-Fake-Retry-After-Real"]) / 4)
    assert 10 <= ok <= 30 and fake.rate_limited > 0


@pytest.mark.asyncio
async def test_faults(fake: FakeSlack, url: str) -> None:
    c = client(url)
    fake.fail_next("auth.test", 1, "503")
    fake.fail_next("*", 1, "429")
    with pytest.raises(SlackApiError) as e:
        await c.auth_test()
    assert e.value.response.status_code == 503
    with pytest.raises(SlackApiError) as e:
        await c.users_list()
    assert e.value.response.status_code == 429 and e.value.response.headers["Retry-After"] == "1"
    assert (await c.auth_test())["ok"]
    fake.fail_next("chat.postMessage", 1, "timeout", delay=2.0)
    with pytest.raises((asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        await AsyncWebClient(
            token=DEFAULT_TOKEN, base_url=f"{url}/api/", timeout=1, retry_handlers=[]
        ).chat_postMessage(channel=GENERAL_CHANNEL, text="slow")
    assert [m["text"] for m in fake.messages(GENERAL_CHANNEL)] == ["slow"]  # processed, answer lost
    fake.fault_rate = 0.5
    outcomes = []
    for _ in range(20):
        try:
            outcomes.append((await c.auth_test())["ok"])
        except SlackApiError as err:
            outcomes.append(err.response.status_code)
    assert True in outcomes and any(o in (429, 500, 503) for o in outcomes)


@pytest.mark.asyncio
async def test_users_and_conversations(fake: FakeSlack, url: str) -> None:
    for i in range(5):
        fake.add_user(f"U00000X{i}", f"x{i}", f"X {i}", deleted=i == 0)
    c = client(url)
    ids, cursor, pages = [], None, 0
    while True:
        page = await c.users_list(limit=3, cursor=cursor)
        ids += [m["id"] for m in page["members"]]
        assert all("locale" not in m for m in page["members"])
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert ids == list(fake.users) and pages == 3 and len(ids) == 8
    with_locale = await c.users_list(include_locale=True)
    anna = next(m for m in with_locale["members"] if m["id"] == "U0000ANNA")
    assert (
        anna["locale"] == "nl-NL" and anna["tz"] == "Europe/Amsterdam" and anna["tz_offset"] in (3600, 7200)
    )
    assert "fields" not in anna["profile"] and anna["profile"]["email"], "custom fields: users.profile.get"
    profile = (await c.users_profile_get(user="U0000ANNA"))["profile"]
    assert profile["fields"]["Xf01"]["value"] == "Sales"
    bart = (await c.users_info(user="U0000BART", include_locale=True))["user"]
    assert bart["locale"] == "en-US" and bart["tz_offset"] < 0 and not bart["is_bot"]
    with pytest.raises(SlackApiError) as e:
        await c.users_info(user="U404")
    assert e.value.response["error"] == "user_not_found"
    assert (await c.conversations_info(channel="C0SUPPORT"))["channel"]["name"] == "support"
    assert (await c.conversations_members(channel="C0SUPPORT"))["members"] == ["U0000ANNA", BOT_USER_ID]


@pytest.mark.asyncio
async def test_views(fake: FakeSlack, url: str) -> None:
    c = client(url)
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Klantpet"}, "blocks": blocks(1)}
    with pytest.raises(SlackApiError) as e:
        await c.views_open(trigger_id="", view=modal)
    assert e.value.response["error"] in ("invalid_arguments", "invalid_trigger_id")
    with pytest.raises(SlackApiError) as e:
        await c.views_open(trigger_id="garbage", view=modal)
    assert e.value.response["error"] == "invalid_trigger_id"
    opened = (await c.views_open(trigger_id=new_trigger_id(), view=modal))["view"]
    updated = (await c.views_update(view_id=opened["id"], view={**modal, "blocks": blocks(2)}))["view"]
    assert updated["id"] == opened["id"] and len(fake.views[opened["id"]]["blocks"]) == 2
    home = {"type": "home", "blocks": blocks(3)}
    await c.views_publish(user_id="U0000ANNA", view=home)
    assert len(fake.home_views["U0000ANNA"]["blocks"]) == 3
    with pytest.raises(SlackApiError) as e:
        await c.views_publish(user_id="U0000ANNA", view={"type": "home", "blocks": blocks(101)})
    assert e.value.response["error"] == "invalid_arguments"


def test_sync_client_and_reactions(fake: FakeSlack, url: str) -> None:
    c = WebClient(token=DEFAULT_TOKEN, base_url=f"{url}/api/", retry_handlers=[])
    r = c.chat_postMessage(channel=GENERAL_CHANNEL, text="sync", blocks=blocks(1))
    c.reactions_add(channel=GENERAL_CHANNEL, timestamp=r["ts"], name="eyes")
    got = c.reactions_get(channel=GENERAL_CHANNEL, timestamp=r["ts"])
    assert got["message"]["reactions"][0]["name"] == "eyes"
    with pytest.raises(SlackApiError) as e:
        c.api_call(
            "chat.postMessage",
            data={"channel": GENERAL_CHANNEL, "text": "x", "blocks": json.dumps(blocks(51))},
        )  # form-encoded
    assert e.value.response["error"] == "invalid_blocks"
    # Legacy token-in-body still works.
    assert c.api_call("auth.test", data={"token": DEFAULT_TOKEN})["ok"]


def test_signing_and_inbound_bodies() -> None:
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    body = slash_command_body(
        "/klantpet", "help", "U0000ANNA", GENERAL_CHANNEL, "T0FAKETEAM", new_trigger_id()
    )
    h = signed_headers(secret, body)
    verifier = SignatureVerifier(secret)
    assert verifier.is_valid(body, h["X-Slack-Request-Timestamp"], h["X-Slack-Signature"])
    assert verifier.is_valid_request(body, h)
    assert not verifier.is_valid(body + "x", h["X-Slack-Request-Timestamp"], h["X-Slack-Signature"])
    assert signed_headers(secret, "{}", 1531420618)["X-Slack-Request-Timestamp"] == "1531420618"
    assert parse_qs(body)["command"] == ["/klantpet"]
    action = json.loads(parse_qs(block_actions_body("approve", "42"))["payload"][0])
    assert action["type"] == "block_actions" and action["actions"][0] == {
        **action["actions"][0],
        "value": "42",
    }
    sub = json.loads(parse_qs(view_submission_body("feedback", {"b": {"a": {"value": "v"}}}))["payload"][0])
    assert (
        sub["view"]["callback_id"] == "feedback" and sub["view"]["state"]["values"]["b"]["a"]["value"] == "v"
    )
    ev = json.loads(event_callback_body({"type": "app_mention", "text": "hi"}, "Ev1", "T0FAKETEAM"))
    assert ev["type"] == "event_callback" and ev["event_id"] == "Ev1" and ev["event"]["type"] == "app_mention"


def test_standalone_process_and_control_endpoints() -> None:
    port = free_port()
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("slack_api.py")), "--port", str(port), "--users", "3"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/_fake/calls", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        req = urllib.request.Request(
            f"{base}/_fake/users",
            data=json.dumps({"id": "U0REMOTE", "name": "remote"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(req, timeout=5)
        c = WebClient(token=DEFAULT_TOKEN, base_url=f"{base}/api/", retry_handlers=[])
        assert len(c.users_list()["members"]) == 5  # bot + 3 seeded + 1 added
        with urllib.request.urlopen(f"{base}/_fake/calls?method=users.list", timeout=5) as resp:
            assert len(json.loads(resp.read())["calls"]) == 1
        urllib.request.urlopen(urllib.request.Request(f"{base}/_fake/reset", method="POST"), timeout=5)
        with urllib.request.urlopen(f"{base}/_fake/calls", timeout=5) as resp:
            assert json.loads(resp.read())["calls"] == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def button_block(text: str = "OK", action_id: str = "a1", value: str = "v") -> dict[str, object]:
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": text},
                "action_id": action_id,
                "value": value,
            }
        ],
    }


@pytest.mark.asyncio
async def test_block_kit_validation_covers_elements_and_views(url: str) -> None:
    c = client(url)
    select = {
        "type": "actions",
        "elements": [
            {
                "type": "static_select",
                "action_id": "s1",
                "placeholder": {"type": "plain_text", "text": "Kies"},
                "options": [{"text": {"type": "plain_text", "text": "Leeg"}, "value": ""}],
            }
        ],
    }
    refused = [
        [button_block("x" * 76)],
        [button_block(value="v" * 2001)],
        [button_block(""), button_block()],
        [button_block(action_id="same"), button_block(action_id="same")],
        [select],
        [{"type": "section", "text": {"type": "mrkdwn", "text": " "}}],
        [{"type": "image", "image_url": "javascript:alert(1)", "alt_text": "x"}],
        [{"type": "section", "block_id": "b", "text": {"type": "mrkdwn", "text": "1"}}] * 2,
    ]
    for blocks_ in refused:
        with pytest.raises(SlackApiError) as e:
            await c.chat_postMessage(channel=GENERAL_CHANNEL, text="x", blocks=blocks_)
        assert e.value.response["error"] == "invalid_blocks", blocks_
    assert (await c.chat_postMessage(channel=GENERAL_CHANNEL, text="x", blocks=[button_block()]))["ok"]

    field = {
        "type": "input",
        "block_id": "name",
        "label": {"type": "plain_text", "text": "Naam"},
        "element": {"type": "plain_text_input", "action_id": "value"},
    }
    title = {"type": "plain_text", "text": "Klantpet"}
    bad_views = [
        {"type": "modal", "title": title, "blocks": [field]},  # inputs need a submit button
        {"type": "modal", "title": title, "submit": {"type": "plain_text", "text": "s" * 25}, "blocks": []},
        {"type": "modal", "title": title, "private_metadata": "m" * 3001, "blocks": []},
    ]
    for view in bad_views:
        with pytest.raises(SlackApiError) as e:
            await c.views_open(trigger_id=new_trigger_id(), view=view)
        assert e.value.response["error"] == "invalid_arguments", view
    good = {
        "type": "modal",
        "title": title,
        "submit": {"type": "plain_text", "text": "Stuur"},
        "blocks": [field],
    }
    assert (await c.views_open(trigger_id=new_trigger_id(), view=good))["ok"]


@pytest.mark.asyncio
async def test_triggers_expire_tokens_belong_in_the_header_and_private_channels_hide(
    fake: FakeSlack, url: str
) -> None:
    c = client(url)
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Klantpet"}, "blocks": blocks(1)}
    with pytest.raises(SlackApiError) as e:
        await c.views_open(trigger_id=f"{int(time.time()) - 10}.1.0123456789abcdef", view=modal)
    assert e.value.response["error"] == "expired_trigger_id"

    async with aiohttp.ClientSession() as session:
        sent = {"token": DEFAULT_TOKEN, "channel": GENERAL_CHANNEL, "text": "hallo"}
        async with session.post(f"{url}/api/chat.postMessage", json=sent) as response:
            assert (await response.json())["error"] == "not_authed", "a JSON body's token is not read"

    fake.add_channel("G0SECRET", "geheim", members=["U0000ANNA"], is_private=True)
    with pytest.raises(SlackApiError) as e:
        await c.chat_postMessage(channel="G0SECRET", text="psst")
    assert e.value.response["error"] == "channel_not_found"
    fake.channels["G0SECRET"].members.append(BOT_USER_ID)
    assert (await c.chat_postMessage(channel="G0SECRET", text="psst"))["ok"]

    fake.fail_next("users.list", kind="429", retry_after=7)
    with pytest.raises(SlackApiError) as e:
        await c.users_list()
    assert e.value.response.status_code == 429 and e.value.response.headers["Retry-After"] == "7"
