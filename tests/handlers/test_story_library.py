"""The story library as dialogues: editing a story in chat, listing by status in either language, and the
refusals of `verhalen bekijk` and `verhalen volgende`; and the starter library's shape."""

from __future__ import annotations

from collections import defaultdict

from bot.app import Services
from handlers.story_files import STAGES, starter_library
from storage.repositories import Repos
from tests.handlers.story_dialogue import manager
from tests.harness import Chat

RITZ = "ritz-carlton-2000-dollars"


async def _ritz(services: Services) -> tuple[int, str, str, str, str]:
    async with services.database.transaction() as session:
        story = await Repos(session).stories.by_slug(RITZ, "nl")
        assert story is not None
        return story.id, story.slug, story.status, story.title, story.stage


async def test_a_story_is_edited_in_chat_and_keeps_its_slug_and_status(
    chat: Chat, services: Services
) -> None:
    chloe = await manager(chat)
    story_id, slug, status, title, stage = await _ritz(services)
    assert status == "approved"
    await chloe.says(f"verhalen bewerk {story_id}")
    form = await chloe.latest_form()
    assert form.key == "stories.form.edit_title" and f'value="{title}"' in form.html

    await chloe.submits(
        {"title": "Tweeduizend dollar vertrouwen", "video_url": "geen-link", "stage": "ergens"}
    )
    again = await chloe.latest_form()
    assert chat.t("nl", "stories.form.bad_link") in again.text
    assert chat.t("nl", "stories.form.pick_one") in again.text
    assert await _ritz(services) == (story_id, slug, status, title, stage), "nothing changed"

    await chloe.submits(
        {"title": "Tweeduizend dollar vertrouwen", "video_url": "", "stage": "complaint"}, again
    )
    review = await chloe.last_reply()
    assert review.key == "stories.review" and chat.t("nl", "stories.form.saved") in review.text
    assert await _ritz(services) == (story_id, slug, "approved", "Tweeduizend dollar vertrouwen", "complaint")

    await chloe.clicks(chat.t("nl", "stories.review.edit"), review)  # the Edit button opens the same form
    form = await chloe.latest_form()
    assert form.key == "stories.form.edit_title" and 'value="Tweeduizend dollar vertrouwen"' in form.html


async def test_the_library_is_listed_by_status_in_either_language(chat: Chat, services: Services) -> None:
    chloe = await manager(chat)
    _, _, _, title, _ = await _ritz(services)
    await chloe.says(f"verhalen archiveer {RITZ}")
    await chloe.says("verhalen lijst gearchiveerd")
    archived = await chloe.last_reply()
    assert archived.key == "stories.list.intro"
    lines = [line for line in archived.text.splitlines() if " · nl · " in line]
    assert len(lines) == 1 and title in lines[0]
    await chloe.says("verhalen lijst archived")
    assert (await chloe.last_reply()).text == archived.text
    await chloe.says("verhalen lijst concept")
    assert (await chloe.last_reply()).key == "stories.list.empty"
    outcome = await chloe.says("verhalen lijst goedgekeurd --locale fr")
    assert outcome.error is not None and outcome.error.key == "error.unknown_language"
    outcome = await chloe.says("verhalen lijst gewist")
    assert outcome.error is not None and outcome.error.key == "stories.error.bad_status"


async def test_showing_a_story_or_a_channels_next_one_needs_one_that_exists(chat: Chat) -> None:
    chloe = await manager(chat)
    for command, key in (
        ("verhalen bekijk", "stories.error.which_story"),
        ("verhalen bekijk 99999", "stories.error.no_story"),
        ("verhalen volgende", "stories.subscribe.which_channel"),
        ("verhalen volgende #nergens", "stories.subscribe.no_channel"),
    ):
        outcome = await chloe.says(command)
        assert outcome.error is not None and outcome.error.key == key, command
    await chloe.says(f"verhalen bekijk {RITZ}")
    assert (await chloe.last_reply()).key == "stories.review"


def test_every_starter_story_is_told_in_dutch_and_in_english() -> None:
    languages: dict[str, set[str]] = defaultdict(set)
    for fields in starter_library():
        languages[fields.slug].add(fields.locale)
        assert fields.stage in (*STAGES, ""), fields.slug
    assert len(languages) >= 12
    assert {slug: found for slug, found in languages.items() if found != {"nl", "en"}} == {}
