"""What a snippet's post shows: the customer story it is about (from the story library, by title, in each
channel's language), and a preview of every company channel's language."""

from __future__ import annotations

from storage.models.leadership import LeaderSnippet
from tests.handlers.leadership_people import (
    COMPANY,
    company_channel,
    count,
    draft_story,
    leader,
    library_story,
    snippets,
    two_language_chat,
)
from tests.harness import Chat

__all__ = ["two_language_chat"]  # the fixture, imported for pytest
GENERAL = "channel:general"


def nl(chat: Chat, key: str, **params: object) -> str:
    return chat.t("nl", key, **params)


async def test_a_snippet_about_a_library_story_shows_the_story_title(chat: Chat) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    anna = await chat.member("Anna de Vries")
    await company_channel(chat, lars, anna)
    dutch = await library_story(chat, "ritz-carlton-2000-dollars", "nl")
    english = await library_story(chat, "ritz-carlton-2000-dollars", "en")
    about = nl(chat, "leadership.post.story", title=dutch.title)

    await lars.says(f"blog Vertrouwen geven loont. --story {dutch.slug}")
    preview = await lars.last_reply()
    assert about in preview.text
    await lars.clicks(nl(chat, "leadership.button_send"))
    [post] = await anna.replies_with("leadership.post", COMPANY)
    assert about in post.text and dutch.slug not in post.text

    # By number, even the English version's: the Dutch channel shows the Dutch title.
    await lars.says(f"blog Nog een keer. --story #{english.id}")
    assert about in (await lars.last_reply()).text
    # Editing keeps the story, shown by its short name.
    await lars.clicks(nl(chat, "leadership.button_edit"))
    assert f'value="{dutch.slug}"' in (await lars.latest_form()).html
    assert [snippet.story_id for snippet in await snippets(chat)] == [dutch.id, english.id]


async def test_an_unknown_or_unapproved_story_is_refused_and_nothing_is_stored(chat: Chat) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    await company_channel(chat, lars)
    draft = await draft_story(chat, "De klant die twee keer belde")
    for reference in ("bestaat-niet", "#999999", draft.slug, str(draft.id)):
        outcome = await lars.says(f"blog Een goed verhaal. --story {reference}")
        assert outcome.error is not None and outcome.error.key == "leadership.snippet.unknown_story", (
            reference
        )
        assert (await lars.last_reply()).text == nl(chat, "leadership.snippet.unknown_story", given=reference)
    await lars.says("blog")
    outcome = await lars.submits({"text": "Een goed verhaal.", "video": "", "story": "bestaat-niet"})
    assert outcome.error is not None and outcome.error.key == "leadership.snippet.unknown_story"
    assert await count(chat, LeaderSnippet) == 0

    # An edit to an unknown story changes nothing either.
    await lars.says("blog Een goed verhaal.")
    await lars.clicks(nl(chat, "leadership.button_edit"))
    outcome = await lars.submits({"text": "Anders.", "video": "", "story": draft.slug})
    assert outcome.error is not None and outcome.error.key == "leadership.snippet.unknown_story"
    assert [(s.text, s.story_id, s.revision) for s in await snippets(chat)] == [
        ("Een goed verhaal.", None, 1)
    ]


async def test_the_preview_shows_the_post_in_each_company_channel_language(two_language_chat: Chat) -> None:
    chat = two_language_chat
    lars = await leader(chat, "Lars Hendriks", "CEO")
    anna = await chat.member("Anna de Vries")
    emma = await chat.member("Emma Smit", locale="en")
    await company_channel(chat, lars, anna)
    await chat.channel("general", [lars, emma], locale="en")
    dutch = await library_story(chat, "bolcom-premature-baby", "nl")
    english = await library_story(chat, "bolcom-premature-baby", "en")

    await lars.says(f"blog Klanten onthouden hoe je je voelde. --story {dutch.slug}")
    preview = await lars.last_reply()
    dutch_part = nl(chat, "leadership.preview.language", channels="#algemeen", language="Nederlands")
    english_part = nl(chat, "leadership.preview.language", channels="#general", language="Engels")
    assert dutch_part in preview.text and english_part in preview.text
    assert preview.text.index(dutch_part) < preview.text.index(english_part)

    await lars.clicks(nl(chat, "leadership.button_send"))
    [dutch_post] = await anna.replies_with("leadership.post", COMPANY)
    [english_post] = await emma.replies_with("leadership.post", GENERAL)
    assert nl(chat, "leadership.post.story", title=dutch.title) in dutch_post.text
    assert chat.t("en", "leadership.post.story", title=english.title) in english_post.text
    # The leader saw exactly both posts.
    assert dutch_post.html in preview.html and english_post.html in preview.html
