"""The basics as dialogues through the web chat: welcome, help, language, refusals, bad input."""

from __future__ import annotations

from storage.models import Role
from tests.harness import Chat


async def test_new_member_is_welcomed_once(chat: Chat) -> None:
    anna = await chat.member("Anna de Vries")
    await anna.opens_chat()
    await anna.opens_chat()
    welcomes = await anna.replies_with("welcome.text")
    assert len(welcomes) == 1
    assert welcomes[0].text.startswith(chat.t("nl", "welcome.text", name="Anna")[:10])


async def test_help_lists_commands_and_its_buttons_answer(chat: Chat) -> None:
    anna = await chat.member("Anna")
    await anna.says("hulp")
    reply = await anna.last_reply()
    assert reply.key == "help.intro"
    assert "hulp" in reply.text or "help" in reply.text
    await anna.clicks(chat.t("nl", "help.button_ritual"))
    assert (await anna.last_reply()).key == "help.topics.ritual"


async def test_unknown_command_gets_help_in_the_members_language(chat: Chat) -> None:
    emma = await chat.member("Emma", locale="en")
    await emma.says("/frobnicate now")
    reply = await emma.last_reply()
    assert reply.key == "help.unknown"
    assert chat.t("en", "help.intro") in reply.text


async def test_switching_language_changes_the_replies(chat: Chat) -> None:
    anna = await chat.member("Anna")
    await anna.says("taal en")
    assert (await anna.last_reply()).key == "core.language_set"
    assert (await anna.last_reply()).text == chat.t("en", "core.language_set")
    await anna.says("help")
    assert chat.t("en", "help.intro") in (await anna.last_reply()).text


async def test_bad_language_is_refused_and_changes_nothing(chat: Chat) -> None:
    anna = await chat.member("Anna")
    outcome = await anna.says("taal fr")
    assert outcome.error is not None and outcome.error.key == "error.unknown_language"
    await anna.says("help")
    assert chat.t("nl", "help.intro") in (await anna.last_reply()).text


async def test_role_refusal_is_polite_and_changes_nothing(chat: Chat) -> None:
    anna = await chat.member("Anna")
    bram = await chat.member("Bram")
    outcome = await anna.says(f"rol geef #{bram.member.id} cx_manager")
    assert outcome.error is not None and outcome.error.key == "error.not_allowed"
    assert (await anna.last_reply()).key == "error.not_allowed"
    await bram.says("ik")
    assert chat.t("nl", "roles.cx_manager") not in (await bram.last_reply()).text


async def test_admin_grants_a_role_in_chat(chat: Chat) -> None:
    lars = await chat.member("Lars", roles=[Role.admin])
    bram = await chat.member("Bram")
    await lars.says(f"rol geef #{bram.member.id} cx_manager")
    assert (await lars.last_reply()).key == "core.role_granted"
    await bram.says("ik")
    assert chat.t("nl", "roles.cx_manager") in (await bram.last_reply()).text


async def test_the_same_click_twice_counts_once(chat: Chat) -> None:
    anna = await chat.member("Anna")
    await anna.says("help")
    label = chat.t("nl", "help.button_anonymity")
    message = await anna.latest_with_button(label)
    first = await anna.clicks(label, message, event_id="click-0001")
    second = await anna.clicks(label, message, event_id="click-0001")
    assert not first.duplicate and second.duplicate
    assert len(await anna.replies_with("help.topics.anonymity")) == 1
