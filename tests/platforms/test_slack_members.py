"""Slack members: who becomes a member (people, never bots), with which profile, and what survives Slack's
rate limits and network trouble."""

from __future__ import annotations

import time

from bot.platforms.slack_members import sync_all
from tests.fakes.slack_api import BOT_USER_ID
from tests.platforms.conftest import ANNA, ANNA_DM, SUPPORT, Workspace, dm_event, text_of


def t(workspace: Workspace, locale: str, key: str, **params: object) -> str:
    return workspace.services.catalog.t(locale, key, organisation="Testbedrijf", **params)


async def test_a_new_colleague_becomes_a_member_and_is_welcomed(workspace: Workspace) -> None:
    user = workspace.fake.add_user(
        "U0000CARL", "carl", "Carla Smit", locale="nl-NL", profile_fields={"Xf01": "Sales"}
    )
    await workspace.event({"type": "team_join", "user": user.member(include_locale=True)})
    await workspace.settle()
    carla = await workspace.member("U0000CARL")
    assert (
        carla is not None and carla.name == "Carla Smit" and carla.department_name == "Sales" and carla.active
    )
    [welcome] = workspace.dm("U0000CARL")
    assert text_of(welcome).startswith(t(workspace, "nl", "welcome.text", name="Carla")[:12])


async def test_a_deactivated_slack_user_is_marked_inactive_not_deleted(workspace: Workspace) -> None:
    await workspace.command("help", channel=ANNA_DM)
    await workspace.settle()
    gone = workspace.fake.add_user(ANNA, "anna", "Anna de Vries", deleted=True)
    await workspace.event({"type": "user_change", "user": gone.member()})
    await workspace.settle()
    anna = await workspace.member()
    assert anna is not None and not anna.active
    await workspace.command("taal en", channel=ANNA_DM)
    await workspace.settle()
    anna = await workspace.member()
    assert anna is not None and not anna.active and anna.locale == "nl", "an inactive member cannot act"


async def test_bots_apps_and_slackbot_never_become_members(workspace: Workspace) -> None:
    helper = workspace.fake.add_user("U0000HELP", "helper", "Deploy Helper", is_bot=True)
    slackbot = workspace.fake.add_user("USLACKBOT", "slackbot", "Slackbot")
    await workspace.event({"type": "team_join", "user": helper.member(include_locale=True)})
    await workspace.event({"type": "user_change", "user": helper.member()})
    await workspace.event({"type": "user_change", "user": slackbot.member()})
    # A message that does not say it came from a bot: the profile Slack gives for the sender does.
    await workspace.event(dm_event("help", user="U0000HELP"))
    await workspace.settle()
    assert await workspace.member("U0000HELP") is None and await workspace.member("USLACKBOT") is None
    assert workspace.fake.calls_to("chat.postMessage") == [], "nobody welcomed or answered a bot"


async def test_the_department_is_read_with_users_profile_get_waiting_out_a_429(
    workspace: Workspace,
) -> None:
    """Slack leaves custom profile fields out of users.list; the sync asks users.profile.get per person."""
    workspace.fake.fail_next("users.profile.get", kind="429", retry_after=1)
    started = time.monotonic()
    report = await sync_all(workspace.services, workspace.slack.client, "Xf01")
    assert time.monotonic() - started >= 1.0, "Slack's Retry-After was waited out"
    assert sorted(report.created) == ["Anna de Vries", "Bart Jansen"] and report.skipped == 1
    anna = await workspace.member()
    assert anna is not None and anna.department_name == "Klantenservice"
    calls = workspace.fake.calls_to("users.profile.get")
    assert [call.status for call in calls].count(429) == 1 and len(calls) == 3
    assert all("fields" not in m["profile"] for m in (await workspace.slack.client.users_list())["members"])


async def test_a_sync_without_a_department_field_reads_no_profiles(workspace: Workspace) -> None:
    report = await sync_all(workspace.services, workspace.slack.client, None)
    assert len(report.created) == 2 and workspace.fake.calls_to("users.profile.get") == []


async def test_a_rate_limited_profile_does_not_hold_up_the_first_answer(workspace: Workspace) -> None:
    workspace.fake.fail_next("users.profile.get", kind="429", retry_after=30)
    started = time.monotonic()
    await workspace.command("help", channel=ANNA_DM)
    await workspace.settle()
    assert time.monotonic() - started < 10, "the answer did not wait 30 s for the department"
    assert t(workspace, "nl", "help.intro") in text_of(workspace.dm()[-1])
    anna = await workspace.member()
    assert anna is not None and anna.name == "Anna de Vries" and anna.department_name is None


async def test_network_trouble_while_looking_up_a_person_or_channel_loses_no_command(
    workspace: Workspace,
) -> None:
    workspace.slack.client.timeout = 1  # the SDK's own timeout, so the test need not wait ten seconds
    workspace.fake.fail_next("users.info", kind="timeout", delay=3)
    workspace.fake.fail_next("conversations.info", kind="timeout", delay=3)
    mention = {"type": "app_mention", "channel": SUPPORT, "user": ANNA, "text": f"<@{BOT_USER_ID}> help"}
    await workspace.event({**mention, "ts": "1700000002.000100"})
    await workspace.settle()
    [answer] = workspace.channel()
    assert t(workspace, "nl", "help.intro") in text_of(answer)
    assert await workspace.member() is not None, "the person is a member, their profile follows later"
    assert workspace.fake.faults == {"timeout": 2}
