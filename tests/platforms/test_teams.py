"""Microsoft Teams through the real Agents SDK: inbound over HTTP with signed tokens, outbound to a fake connector.

The fake (`tests/fakes/teams_api.py`) plays the Bot Connector and the Entra token/key endpoints; activities
carry its ``serviceUrl``, tokens are signed with its keys (the SDK's key lookup is pointed at it, see
``TEAMS_NOTES.md``), and every connector call the SDK makes is recorded there.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Services
from bot.clock import ManualClock
from bot.config import Settings
from bot.context import Context, JobContext
from bot.messages import Choice, Field_, Form, Message, Option, Text
from bot.platforms.teams_render import VERB
from bot.router import Click, Router, Submission
from storage.repositories import Repos
from tests.conftest import make_settings
from tests.fakes.teams_api import FakeTeams
from tests.platforms.teams_harness import (
    AAD,
    Teams,
    card_of,
    delivery_count,
    fake,
    member_by_aad,
    services,
    settings,
    stored_conversations,
    teams,
    teams_settings,
    texts_in,
    with_fake_tokens,
)
from tests.platforms.test_teams_render import elements

FIXTURES = (fake, services, settings, teams)  # pytest hands these to the tests by name

test_routes = Router()


@test_routes.action("test.rate")
async def rate(ctx: Context, click: Click) -> None:
    await ctx.update(
        click.message_ref, Message.text(f"Thanks for your {click.value['score']}", key="test.rated")
    )


@test_routes.action("test.form")
async def form(ctx: Context, submission: Submission) -> None:
    await ctx.update(
        submission.message_ref, Message.text(f"Saved: {submission.fields['idea']}", key="test.saved")
    )


@pytest.fixture
def card_routes(services: Services) -> None:
    """Two small features with a card, to click and submit."""
    services.routes.include(test_routes)


# --- Inbound: a conversation in personal chat ---------------------------------------------------------


async def test_a_personal_message_is_answered_through_the_connector(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    activity = await teams.say("help")
    conversation = activity["conversation"]["id"]
    sent = teams.sent(conversation)
    assert len(sent) == 1
    assert services.catalog.t("en", "help.intro") in texts_in(card_of(sent[0]))  # Teams said en-US
    send = fake.calls_for("send", conversation)
    assert [(call.status, call.auth) for call in send] == [(201, "valid")]
    member = await member_by_aad(services)
    assert member is not None and member.name == "Anna de Vries" and member.locale == "en"
    assert {identity.platform: identity.dm_ref for identity in member.identities} == {"teams": conversation}


@pytest.mark.parametrize(
    "token",
    [
        "",
        "expired",
        "wrong_audience",
        "wrong_issuer",
        "foreign_key",
        "unknown_kid",
        "tampered",
        "alg_none",
        "no_kid",
    ],
)
async def test_a_request_without_a_valid_token_is_refused_and_changes_nothing(
    teams: Teams, services: Services, fake: FakeTeams, token: str
) -> None:
    activity = fake.message_activity("help", aad_object_id=AAD)
    bad = fake.bad_token(token, service_url=activity["serviceUrl"]) if token else ""  # type: ignore[arg-type]
    response = await teams.post(activity, token=bad)
    assert response.status_code == 401
    await services.outbox.drain()
    assert await member_by_aad(services) is None
    assert await stored_conversations(services) == []
    assert await delivery_count(services) == {}
    assert fake.calls == []


async def test_a_token_for_another_service_url_or_tenant_is_refused(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    activity = fake.message_activity("help", aad_object_id=AAD)
    stolen = fake.mint_token(service_url="https://smba.evil.example/emea/")
    assert (await teams.post(activity, token=stolen)).status_code == 401
    foreign = fake.message_activity("help", aad_object_id=AAD)
    foreign["conversation"]["tenantId"] = foreign["channelData"]["tenant"]["id"] = str(uuid.uuid4())
    assert (await teams.post(foreign)).status_code == 403
    await services.outbox.drain()
    assert await member_by_aad(services) is None and await stored_conversations(services) == []
    assert fake.calls == []


async def test_the_same_activity_twice_is_handled_once(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    activity = fake.message_activity("help", aad_object_id=AAD)
    assert (await teams.post(activity)).status_code == 202
    assert (await teams.post(activity)).status_code == 202  # Teams re-delivers when we are slow
    await services.outbox.drain()
    assert len(teams.sent(activity["conversation"]["id"])) == 1
    assert await delivery_count(services) == {"sent": 1}


async def test_activities_without_an_id_are_told_apart_by_their_content(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    """Emulators and the Agents Playground may leave the id out: two different messages are still two."""
    first = fake.message_activity("help", aad_object_id=AAD)
    conversation = first["conversation"]["id"]
    second = fake.message_activity("me", aad_object_id=AAD, conversation_id=conversation)
    for activity in (first, second):
        activity.pop("id")
        assert (await teams.post(activity)).status_code == 202
    assert (await teams.post(first)).status_code == 202  # the very same body again: handled once
    await services.outbox.drain()
    assert len(teams.sent(conversation)) == 2


async def test_a_signed_request_that_is_not_an_activity_is_a_bad_request(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    activity = fake.message_activity("help", aad_object_id=AAD)
    activity["from"] = "Anna"  # Teams always sends an account here
    response = await teams.post(activity)
    assert response.status_code == 400  # the token was fine: not a 401
    await services.outbox.drain()
    assert await member_by_aad(services) is None and await stored_conversations(services) == []


# --- Group chats and channels --------------------------------------------------------------------------


async def test_a_mention_in_a_channel_is_a_command_answered_in_its_thread(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    activity = await teams.say("help", conversation_type="channel")
    assert activity["text"].startswith("<at>Klantpet</at>")
    thread = activity["conversation"]["id"]
    channel_id = thread.split(";")[0]
    sent = teams.sent(thread)
    assert len(sent) == 1, "the answer goes into the thread of the message"
    assert "help.unknown" not in str(sent[0]) and card_of(sent[0])  # the mention was stripped: "help" itself
    async with services.database.transaction() as session:
        channel = await Repos(session).channels.by_external("teams", channel_id)
    assert channel is not None and channel.kind == "channel"
    assert f"proactive/conversations/{channel_id}" in await stored_conversations(services)


async def test_chatter_not_for_the_bot_is_ignored_and_leaves_no_trace(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    """With the RSC permissions Teams delivers every message of a chat or channel; only those addressed
    to Klantpet count."""
    activity = await teams.say("help me with lunch", conversation_type="groupChat", mention_bot=False)
    assert teams.sent(activity["conversation"]["id"]) == []
    assert await member_by_aad(services) is None
    channel_talk = await teams.say("lunch at noon?", conversation_type="channel", mention_bot=False)
    assert teams.sent(channel_talk["conversation"]["id"]) == []
    assert await stored_conversations(services) == [] and await delivery_count(services) == {}
    addressed = await teams.say(
        "help", conversation_type="groupChat", conversation_id=activity["conversation"]["id"]
    )
    assert len(teams.sent(addressed["conversation"]["id"])) == 1


async def test_an_ephemeral_reply_in_a_channel_goes_to_the_members_personal_chat(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    personal = await teams.say("help")
    before = len(teams.sent(personal["conversation"]["id"]))
    channel = await teams.say("grant", conversation_type="channel")  # "grant" is not a command: help (public)
    await teams.say("role grant #1 admin", conversation_type="channel")  # refused: an ephemeral reply
    assert len(teams.sent(channel["conversation"]["id"])) == 1
    private = teams.sent(personal["conversation"]["id"])
    assert len(private) == before + 1
    assert "admin" in (private[-1].get("text") or texts_in(card_of(private[-1])))


# --- Proactive messages -----------------------------------------------------------------------------------


async def test_a_direct_message_reaches_the_member_after_a_restart(
    teams: Teams, services: Services, fake: FakeTeams, settings: Settings, clock: ManualClock
) -> None:
    """People, group chats and channels are all reachable by a new process (nothing kept in memory)."""
    personal = (await teams.say("help"))["conversation"]["id"]
    channel_thread = (await teams.say("help", conversation_type="channel"))["conversation"]["id"]
    group = (await teams.say("help", conversation_type="groupChat"))["conversation"]["id"]
    await services.stop()

    restarted = Services(settings, clock=clock)
    with_fake_tokens(restarted, fake)
    await restarted.start()
    try:
        async with restarted.database.transaction() as session:
            job = JobContext(restarted, session)
            member = await job.repo.members.by_identity("teams", AAD)
            channel = await job.repo.channels.by_external("teams", channel_thread.split(";")[0])
            group_chat = await job.repo.channels.by_external("teams", group)
            assert member is not None and channel is not None and group_chat is not None
            assert await job.dm(member, Message.text("Your pulse is open"), key="test:dm")
            assert await job.post(channel, Message.text("A customer story"), key="test:post")
            assert await job.post(group_chat, Message.text("The ritual starts"), key="test:group")
        await restarted.outbox.drain()
    finally:
        await restarted.stop()
    assert teams.sent(personal)[-1]["text"] == "Your pulse is open"
    assert teams.sent(channel_thread.split(";")[0])[-1]["text"] == "A customer story"
    assert teams.sent(group)[-1]["text"] == "The ritual starts"


async def test_a_direct_message_to_someone_never_in_personal_chat_opens_one(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    await teams.say("help", conversation_type="channel")
    async with services.database.transaction() as session:
        job = JobContext(services, session)
        member = await job.repo.members.by_identity("teams", AAD)
        assert member is not None
        await job.dm(member, Message.text("Welcome to the klantpet ritual"), key="test:first-dm")
    await services.outbox.drain()
    created = fake.calls_for("create_conversation")
    assert [call.status for call in created] == [201]
    personal = created[0].response["id"]
    assert teams.sent(personal)[-1]["text"] == "Welcome to the klantpet ritual"
    member = await member_by_aad(services)
    assert member is not None and member.identities[0].dm_ref == personal


# --- Cards --------------------------------------------------------------------------------------------------


async def send_card(services: Services, message: Message, key: str) -> None:
    async with services.database.transaction() as session:
        job = JobContext(services, session)
        member = await job.repo.members.by_identity("teams", AAD)
        assert member is not None
        await job.dm(member, message, key=key)
    await services.outbox.drain()


SCALE = Message(
    blocks=(
        Text(text="How likely are you to recommend us to a friend?"),
        Choice(
            style="scale",
            action="test.rate",
            options=tuple(Option(label=str(score), payload={"score": score}) for score in range(11)),
            low_label="Not at all",
            high_label="Very likely",
        ),
    ),
    key="test.scale",
)


async def scale_sent(
    teams: Teams, services: Services
) -> tuple[str, dict[str, Any], dict[str, dict[str, Any]]]:
    """Anna's personal chat, the scale card sent there, and its options' actions by label."""
    conversation = (await teams.say("help"))["conversation"]["id"]
    await send_card(services, SCALE, "test:scale")
    card_activity = teams.sent(conversation)[-1]
    columns = [column for column in elements(card_of(card_activity), "Column") if "selectAction" in column]
    return (
        conversation,
        card_activity,
        {column["selectAction"]["title"]: column["selectAction"] for column in columns},
    )


def click(
    fake: FakeTeams, conversation: str, card_activity: dict[str, Any], action: dict[str, Any]
) -> dict[str, Any]:
    return fake.invoke_action_execute(
        VERB, action["data"], reply_to_id=card_activity["id"], aad_object_id=AAD, conversation_id=conversation
    )


@pytest.mark.usefixtures("card_routes")
async def test_a_click_on_a_card_updates_it_in_place(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    conversation, card_activity, options = await scale_sent(teams, services)
    seven = options["7"]
    assert seven["type"] == "Action.Execute" and seven["verb"] == VERB
    response = await teams.post(click(fake, conversation, card_activity, seven))
    assert response.status_code == 200
    answer = response.json()
    assert answer["statusCode"] == 200 and answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Thanks for your 7" in texts_in(answer["value"])  # the clicker sees the new card at once
    await services.outbox.drain()
    updated = teams.sent(conversation)[-1]
    assert updated["id"] == card_activity["id"] and updated["_updates"] == 1
    assert updated["text"] == "Thanks for your 7"  # and everyone else once the connector has it
    assert [call.method for call in fake.calls_for("update")] == ["PUT"]


@pytest.mark.usefixtures("card_routes")
async def test_a_form_submitted_from_an_older_client_reaches_its_handler(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    conversation = (await teams.say("help"))["conversation"]["id"]
    idea = Form(
        action="test.form",
        title="Your idea",
        fields=(Field_(name="idea", label="What would help our customers?", style="textarea"),),
        submit_label="Send",
    )
    await send_card(services, Message(blocks=(idea,), key="test.form"), "test:form")
    card_activity = teams.sent(conversation)[-1]
    submit = elements(card_of(card_activity), "Action.Execute")[0]
    inputs = elements(card_of(card_activity), "Input.Text")
    assert inputs[0]["isMultiline"] is True and inputs[0]["isRequired"] is True
    value = {**submit["fallback"]["data"], inputs[0]["id"]: "Call them back within a day"}
    response = await teams.post(
        fake.submit_activity(
            value, reply_to_id=card_activity["id"], aad_object_id=AAD, conversation_id=conversation
        )
    )
    assert response.status_code == 202
    await services.outbox.drain()
    assert teams.sent(conversation)[-1]["text"] == "Saved: Call them back within a day"


# --- Limits and failures -----------------------------------------------------------------------------------


async def test_429_is_honoured_with_its_retry_after(
    teams: Teams, services: Services, fake: FakeTeams, clock: ManualClock
) -> None:
    conversation = (await teams.say("help"))["conversation"]["id"]
    fake.fail_next("send", 1, 429, retry_after=7, conversation_id=conversation)
    await send_card(services, Message.text("Your pulse is open"), "test:limited")
    async with services.database.transaction() as session:
        delivery = await Repos(session).deliveries.by_key("test:limited")
    assert delivery is not None and (delivery.status, delivery.attempts) == ("pending", 0)
    assert delivery.not_before == clock.now() + timedelta(seconds=7)
    clock.advance(timedelta(seconds=7))
    for limit in services.platforms["teams"].limits(conversation):  # the in-process pause mirrors Teams'
        services.outbox.limiter._paused_until.pop(limit.key, None)
    await services.outbox.drain()
    assert teams.sent(conversation)[-1]["text"] == "Your pulse is open"
    assert [call.status for call in fake.calls_for("send", conversation)][-2:] == [429, 201]


@pytest.mark.parametrize("status", [412, 502, 503, 504])
async def test_transient_failures_are_retried_with_backoff(
    teams: Teams, services: Services, fake: FakeTeams, clock: ManualClock, status: int
) -> None:
    conversation = (await teams.say("help"))["conversation"]["id"]
    fake.fail_next("send", 1, status, conversation_id=conversation)
    await send_card(services, Message.text("Your pulse is open"), "test:transient")
    async with services.database.transaction() as session:
        delivery = await Repos(session).deliveries.by_key("test:transient")
    assert delivery is not None and (delivery.status, delivery.attempts) == ("pending", 1)
    clock.advance(timedelta(minutes=1))
    await services.outbox.drain()
    assert teams.sent(conversation)[-1]["text"] == "Your pulse is open"


async def test_a_removed_bot_gives_up_at_once(teams: Teams, services: Services, fake: FakeTeams) -> None:
    conversation = (await teams.say("help"))["conversation"]["id"]
    fake.remove_bot(conversation)
    await send_card(services, Message.text("Anyone there?"), "test:removed")
    async with services.database.transaction() as session:
        delivery = await Repos(session).deliveries.by_key("test:removed")
    assert delivery is not None and (delivery.status, delivery.attempts) == ("failed", 1)


# --- Installation -----------------------------------------------------------------------------


async def test_installing_the_app_welcomes_the_member_and_remembers_the_chat(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    install = fake.installation_update("add", aad_object_id=AAD, from_name="Anna de Vries")
    assert (await teams.post(install)).status_code == 202
    await services.outbox.drain()
    conversation = install["conversation"]["id"]
    assert f"proactive/conversations/{conversation}" in await stored_conversations(services)
    member = await member_by_aad(services)
    assert member is not None and member.identities[0].dm_ref == conversation
    welcomes = [call for call in fake.calls if call.op == "send" and call.status == 201]
    assert len(welcomes) == 1 and "Anna" in texts_in(welcomes[0].body["attachments"][0]["content"])
    removed = fake.installation_update("remove", conversation_id=conversation, aad_object_id=AAD)
    assert (await teams.post(removed)).status_code == 202
    assert f"proactive/conversations/{conversation}" not in await stored_conversations(services)


@pytest.mark.usefixtures("card_routes")
async def test_a_double_click_counts_once_and_still_shows_the_new_card(
    teams: Teams, services: Services, fake: FakeTeams
) -> None:
    conversation, card_activity, options = await scale_sent(teams, services)
    invoke = click(fake, conversation, card_activity, options["3"])
    first, second = await teams.post(invoke), await teams.post(invoke)
    assert first.json() == second.json() and "Thanks for your 3" in texts_in(second.json()["value"])
    await services.outbox.drain()
    assert len(fake.calls_for("update")) == 1


# --- Settings: anonymous development, real MSAL, limits --------------------------------------------------


async def test_anonymous_requests_are_accepted_only_when_the_setting_allows_it(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    fake = FakeTeams(require_auth=False)  # like the Agents Playground: no tokens either way
    with fake.running(), fake.patch_sdk_jwks():
        settings = make_settings(
            tmp_path, database_url, teams_allow_anonymous=True, teams_service_url=fake.service_url
        )
        assert "teams" in settings.real_platforms and settings.teams_client_id is None
        services = Services(settings, clock=clock)
        await services.start()
        client = Teams(services, fake)
        try:
            activity = fake.message_activity("help", aad_object_id=AAD)
            assert (await client.post(activity, token="")).status_code == 202
            assert (await client.post(activity, token=fake.bad_token("expired"))).status_code == 401
            remote = fake.message_activity("help", service_url="https://smba.evil.example/emea/")
            assert (await client.post(remote, token="")).status_code == 403  # our token must not go there
            await services.outbox.drain()
        finally:
            await client.http.aclose()
            await services.stop()
    assert [(call.op, call.status, call.auth) for call in fake.calls] == [("send", 201, "none")]


async def test_the_bot_gets_its_own_token_through_msal_in_production_wiring(
    tmp_path: Path, database_url: str, clock: ManualClock, fake: FakeTeams, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake.running_tls():
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.ca_bundle))
        settings = teams_settings(tmp_path, database_url, fake, teams_authority=fake.msal_authority)
        services = Services(settings, clock=clock)  # builds the platform exactly as `klantpet run` does
        await services.start()
        client = Teams(services, fake)
        try:
            activity = await client.say("help")
        finally:
            await client.http.aclose()
            await services.stop()
    assert [call.path for call in fake.calls_for("token")] == ["/adfs/oauth2/token"]
    assert [(call.status, call.auth) for call in fake.calls_for("send", activity["conversation"]["id"])] == [
        (201, "valid")
    ]


def test_the_limits_keep_a_burst_within_teams_windows(services: Services) -> None:
    """A broadcast of 200 messages to one chat, paced by our limiter, never exceeds a documented window."""
    from bot.ratelimit import RateLimiter

    limiter = RateLimiter()
    limits = services.platforms["teams"].limits("19:general@thread.tacv2")
    now, sent = 1000.0, []
    for _ in range(200):
        now += limiter.reserve(limits, now=now)
        sent.append(now)
    for count, window in [(7, 1.0), (8, 2.0), (60, 30.0)]:
        most = max(sum(1 for t in sent if start - window < t <= start) for start in sent)
        assert most <= count, f"{most} sends in {window}s"


def test_the_app_never_sends_more_than_teams_allows_per_second(services: Services) -> None:
    """A broadcast to 300 different chats is paced by the app-wide limit: at most 50 requests a second."""
    from bot.ratelimit import RateLimiter

    limiter = RateLimiter()
    platform = services.platforms["teams"]
    now, sent = 1000.0, []
    for chat in range(300):
        now += limiter.reserve(platform.limits(f"a:chat-{chat}"), now=now)
        sent.append(now)
    most = max(sum(1 for t in sent if start - 1.0 < t <= start) for start in sent)
    assert most <= 50, f"{most} requests in one second"
    assert sent[-1] - sent[0] < 10  # and it does not crawl either: 300 go out within ten seconds


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After-Ms": "1500"}, 1.5),
        ({}, 1.0),
        ({"Retry-After": "soon"}, 1.0),
    ],
)
def test_retry_after_is_read_as_teams_sends_it(headers: dict[str, str], seconds: float) -> None:
    from bot.platforms.teams import retry_after_seconds

    assert retry_after_seconds(headers) == seconds
