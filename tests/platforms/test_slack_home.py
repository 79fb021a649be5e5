"""The Slack App Home: each member's own page, composed from every feature, with working buttons."""

from __future__ import annotations

from typing import Any

from bot.markup import to_slack
from bot.platforms.slack_members import sync_all
from bot.recurrence import weekly
from storage.models import Meeting, MeetingParticipant, Role
from storage.repositories import Repos
from tests.fakes.slack_api import block_actions_body
from tests.platforms.conftest import ANNA, ANNA_DM, BART, Workspace, button, dm_event, text_of

BART_DM = "D0000BART"


def t(workspace: Workspace, locale: str, key: str, **params: object) -> str:
    return workspace.services.catalog.t(locale, key, organisation="Testbedrijf", **params)


async def test_the_app_home_shows_recent_messages_and_quick_actions(workspace: Workspace) -> None:
    await workspace.command("help", channel=ANNA_DM)
    await workspace.settle()
    home = await open_home(workspace)
    shown = text_of(home)
    assert t(workspace, "nl", "home.greeting", name="Anna") in shown
    assert t(workspace, "nl", "help.intro") in shown, "the latest message is there, with its buttons"
    assert to_slack(t(workspace, "nl", "home.manager_title")) not in shown, "quick actions for managers only"

    await workspace.post(home_click(home, t(workspace, "nl", "help.button_ritual")))
    await workspace.settle()
    assert "klantpet" in text_of(workspace.dm()[-1]).lower(), "a click on the home answers in the DM"
    assert len(workspace.fake.calls_to("views.publish")) == 2, "and the home is refreshed"


async def test_a_cx_manager_sees_their_commands_on_the_home(workspace: Workspace) -> None:
    await workspace.command("help", channel=ANNA_DM)
    await workspace.settle()
    await workspace.grant(Role.admin)
    shown = text_of(await open_home(workspace))
    assert to_slack(t(workspace, "nl", "home.manager_title")) in shown and "rol geef" in shown


async def test_the_home_lists_the_members_meetings_with_the_ritual(workspace: Workspace) -> None:
    await workspace.command("help", channel=ANNA_DM)
    await workspace.settle()
    now = workspace.clock.now()
    async with workspace.services.database.transaction() as session:
        anna = await Repos(session).members.by_identity("slack", ANNA)
        assert anna is not None
        for name, enabled in (("Weekstart", True), ("Borrel", False)):
            session.add(
                Meeting(
                    name=name,
                    rrule=weekly(["WE"], 10, 0),
                    timezone="Europe/Amsterdam",
                    starts_at=now,
                    ritual_enabled=enabled,
                    created_at=now,
                    participants=[MeetingParticipant(member_id=anna.id)],
                )
            )
    shown = text_of(await open_home(workspace))
    assert "Weekstart* — 25-11 10:00" in shown and "Borrel" not in shown


async def test_the_first_visit_to_the_messages_tab_is_welcomed_once(workspace: Workspace) -> None:
    opened = {"type": "app_home_opened", "user": BART, "channel": "D0000BART", "tab": "messages"}
    await workspace.event({**opened, "event_ts": "1700000001.000100"})
    await workspace.event({**opened, "event_ts": "1700000002.000100"})
    await workspace.settle()
    [welcome] = workspace.dm(BART)
    assert text_of(welcome).startswith(t(workspace, "en", "welcome.text", name="Bart")[:12])


async def open_home(workspace: Workspace, user: str = ANNA) -> dict[str, Any]:
    """Open the Home tab, as Slack tells the app; returns the view published for ``user``."""
    opened = {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"}
    await workspace.event({**opened, "event_ts": "1700000001.000100"})
    await workspace.settle()
    return workspace.fake.home_views[user]


def home_click(home: dict[str, Any], label: str, user: str = ANNA) -> str:
    """The request Slack sends when ``user`` clicks the button labelled ``label`` on their Home."""
    element = button(home["blocks"], label)
    return block_actions_body(
        element["action_id"], element["value"], user_id=user, view={"id": home["id"], "type": "home"}
    )


async def test_a_cx_manager_starts_work_from_the_quick_action_buttons(workspace: Workspace) -> None:
    await workspace.command("help", channel=ANNA_DM)
    await workspace.settle()
    await workspace.grant(Role.cx_manager)
    home = await open_home(workspace)
    assert to_slack(t(workspace, "nl", "home.manager_actions")) in text_of(home)
    await workspace.post(home_click(home, t(workspace, "nl", "home.quick.story")))
    await workspace.settle()
    form = workspace.dm()[-1]
    assert button(form["blocks"], t(workspace, "nl", "stories.form.add_title")), "the story form arrives"


async def test_an_employee_gets_no_manager_buttons_and_cannot_borrow_them(workspace: Workspace) -> None:
    await workspace.command("help", channel=ANNA_DM)
    await workspace.command("help", user=BART, channel=BART_DM)
    await workspace.settle()
    await workspace.grant(Role.cx_manager)
    manager_home = await open_home(workspace)
    bart_home = await open_home(workspace, BART)
    assert to_slack(t(workspace, "en", "home.manager_actions")) not in text_of(bart_home)

    # Bart replays the button of Anna's Home (its token is no secret once shown): the role still counts.
    borrowed = button(manager_home["blocks"], t(workspace, "nl", "home.quick.story"))
    await workspace.post(
        block_actions_body(
            borrowed["action_id"], borrowed["value"], user_id=BART, view={"id": "V0BART", "type": "home"}
        )
    )
    await workspace.settle()
    refusal = text_of(workspace.dm(BART)[-1])
    assert refusal == t(workspace, "en", "error.not_allowed", role=t(workspace, "en", "roles.cx_manager"))


async def test_the_home_shows_the_members_open_pulses_and_how_far_they_are(workspace: Workspace) -> None:
    for number in range(3):
        workspace.fake.add_user(f"U00000C{number}", f"collega{number}", f"Collega {number}")
    await sync_all(workspace.services, workspace.slack.client, "Xf01")
    await workspace.grant(Role.cx_manager)
    await workspace.event(
        dm_event("peiling nieuw --naam Decemberpeiling --dagen 5 --stellingen 1 --zonder-open")
    )
    await workspace.settle()
    await workspace.services.scheduler.run_due()
    await workspace.settle()
    colleague = "U00000C0"  # in Amsterdam, where it is morning: the first card has arrived

    home = text_of(await open_home(workspace, colleague))
    assert "Decemberpeiling" in home and "0 van 2 vragen beantwoord" in home
    assert to_slack(t(workspace, "nl", "home.pulse_anonymous")) in home

    await workspace.click(workspace.dm(colleague)[-1], "8", user=colleague)
    await workspace.settle()
    home = text_of(await open_home(workspace, colleague))
    assert "1 van 2 vragen beantwoord" in home and " 8" not in home, "how far, never what"

    cards_before = len(workspace.dm(colleague))
    go = t(workspace, "nl", "home.pulse_go")
    await workspace.post(home_click(workspace.fake.home_views[colleague], go, colleague))
    await workspace.settle()
    assert len(workspace.dm(colleague)) == cards_before + 1, "the next question arrives in the DM"


async def test_the_home_shows_the_members_feedback_with_its_status_and_thread(workspace: Workspace) -> None:
    await workspace.command("help", channel=ANNA_DM)
    await workspace.settle()
    await workspace.grant(Role.cx_manager)
    await workspace.event(dm_event("feedback Klanten wachten te lang aan de telefoon op maandag", user=BART))
    await workspace.settle()
    await workspace.click(workspace.dm(BART)[-1], t(workspace, "en", "feedback.button.named"), user=BART)
    await workspace.settle()
    await workspace.click(workspace.dm(BART)[-1], t(workspace, "en", "feedback.category.customer"), user=BART)
    await workspace.settle()
    async with workspace.services.database.transaction() as session:
        [item] = await Repos(session).feedback.of_giver((await workspace.member(BART)).id)  # type: ignore[union-attr]
    await workspace.event(dm_event(f"feedback {item.id} antwoord Dank je, we kijken ernaar."))
    await workspace.settle()

    home = await open_home(workspace, BART)
    shown = text_of(home)
    assert f"#{item.id}" in shown and "1 reply" in shown and "Klanten wachten te lang" in shown
    assert to_slack(t(workspace, "en", "home.feedback_anonymous")) in shown
    await workspace.post(home_click(home, t(workspace, "en", "feedback.button.open", id=item.id), BART))
    await workspace.settle()
    assert "Dank je, we kijken ernaar." in text_of(workspace.dm(BART)[-1]), "the thread opens in the DM"


async def test_a_member_without_feedback_can_give_it_from_the_home(workspace: Workspace) -> None:
    home = await open_home(workspace, BART)
    assert to_slack(t(workspace, "en", "home.feedback_none")) in text_of(home)
    await workspace.post(home_click(home, t(workspace, "en", "home.feedback_give"), BART))
    await workspace.settle()
    assert workspace.dm(BART)[-1]["blocks"], "the feedback form arrives in the DM"
