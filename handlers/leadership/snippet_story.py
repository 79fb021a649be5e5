"""The customer story a snippet is about: looked up in the story library when the leader names it, and shown
by its title in each company channel's language."""

from __future__ import annotations

from bot.context import JobContext
from bot.errors import InvalidInput
from storage.models.stories import Story, StoryStatus


async def linked_story(ctx: JobContext, reference: str | None, locale: str) -> int | None:
    """The id of the approved story ``reference`` names (``12``, ``#12`` or a slug; ``locale``'s version first).

    `InvalidInput` on the story field when no approved story answers to it: a draft is not public yet, so a
    company channel must not learn its title from a snippet.
    """
    if not reference:
        return None
    story = await ctx.repo.stories.find(reference, locale)
    if story is None or story.status != StoryStatus.approved.value:
        raise InvalidInput("leadership.snippet.unknown_story", field="story", given=reference[:80])
    return story.id


async def _in_language(ctx: JobContext, story_id: int, locale: str) -> Story | None:
    story = await ctx.repo.stories.get(story_id)
    if story is None or story.locale == locale:
        return story
    translation = await ctx.repo.stories.by_slug(story.slug, locale)
    approved = translation is not None and translation.status == StoryStatus.approved.value
    return translation if approved else story


async def story_title(ctx: JobContext, story_id: int | None, locale: str) -> str | None:
    """The title of the story in ``locale`` (its translation when there is an approved one); None when the
    snippet names no story or the story is gone."""
    if story_id is None:
        return None
    story = await _in_language(ctx, story_id, locale)
    return story.title if story is not None else None


async def story_reference(ctx: JobContext, story_id: int | None) -> str:
    """What the snippet form shows for the linked story: its short name (slug)."""
    story = await ctx.repo.stories.get(story_id) if story_id is not None else None
    return story.slug if story is not None else ""
