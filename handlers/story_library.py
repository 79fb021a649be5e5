"""The story library as a service: the starter set, saving, importing and approving stories.

Campaigns, the CLI and the chat handlers all go through these functions, so the rules live in one place:
slugs are unique per language, approval is audited and the person who shared a story hears about it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from bot.context import JobContext
from bot.messages import Message
from handlers.story_files import StoryFields, problems, slugify, starter_library
from storage.models import Member
from storage.models.stories import Story, StoryStatus

STARTER_CREDIT_ORIGIN = "starter"


async def ensure_starter(ctx: JobContext) -> int:
    """Add the shipped starter stories (approved) that are not in the library yet; returns how many."""
    now = ctx.now()
    rows = []
    for fields in starter_library():
        rows.append(
            {
                **fields.columns(),
                "status": StoryStatus.approved.value,
                "origin": STARTER_CREDIT_ORIGIN,
                "approved_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    return await ctx.repo.stories.insert_missing(rows)


async def _free_slug(ctx: JobContext, wanted: str, locale: str, story: Story | None) -> str:
    slug = slugify(wanted)
    candidate, number = slug, 2
    while True:
        existing = await ctx.repo.stories.by_slug(candidate, locale)
        if existing is None or existing is story:
            return candidate
        candidate, number = f"{slug[:75]}-{number}", number + 1


async def save_story(
    ctx: JobContext,
    fields: StoryFields,
    story: Story | None = None,
    *,
    origin: str = "chat",
    status: StoryStatus | None = None,
    submitted_by: Member | None = None,
) -> Story:
    """Create a story (a draft unless ``status`` says otherwise) or update ``story`` with ``fields``."""
    now = ctx.now()
    columns = fields.columns()
    if story is None:
        columns["slug"] = await _free_slug(ctx, fields.slug or fields.title, fields.locale, None)
        story = Story(
            **columns,
            status=(status or StoryStatus.draft).value,
            origin=origin,
            submitted_by_member_id=submitted_by.id if submitted_by else None,
            approved_at=now if status is StoryStatus.approved else None,
            created_at=now,
            updated_at=now,
        )
        return await ctx.repo.stories.add(story)
    if (columns["locale"], columns["slug"]) != (story.locale, story.slug):
        columns["slug"] = await _free_slug(ctx, columns["slug"], columns["locale"], story)
    for name, value in columns.items():
        setattr(story, name, value)
    story.updated_at = now
    if status is not None:
        _set(story, status, now)
    await ctx.session.flush()
    return story


def _set(story: Story, status: StoryStatus, now: object) -> None:
    if status is StoryStatus.approved and story.status != StoryStatus.approved:
        story.approved_at = now  # type: ignore[assignment]
    story.status = status.value


async def set_status(ctx: JobContext, story: Story, status: StoryStatus, actor: Member | None) -> bool:
    """Approve, archive or return a story to draft; False when it had that status already."""
    if story.status == status.value:
        return False
    _set(story, status, ctx.now())
    story.updated_at = ctx.now()
    await ctx.audit(actor, f"story.{status.value}", f"story:{story.id}")
    if status is StoryStatus.approved and story.submitted_by_member_id:
        submitter = await ctx.repo.members.get(story.submitted_by_member_id)
        if submitter is not None and submitter.active:
            locale = ctx.locale_of(submitter)
            await ctx.dm(
                submitter,
                Message.text(
                    ctx.t(locale, "story.share.approved", title=story.title), key="story.share.approved"
                ),
                key=f"story-approved:{story.id}",
                topic="stories",
            )
    return True


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0


async def import_stories(
    ctx: JobContext, stories: Iterable[StoryFields], *, approve: bool = False
) -> ImportResult:
    """Add or update (by slug and language) imported stories. A new story is a draft unless its row or
    ``approve`` says otherwise; an existing story keeps its status unless its row or ``approve`` names
    one (so re-importing a corrected file does not pull approved stories out of rotation)."""
    result = ImportResult()
    for fields in stories:
        named = StoryStatus.approved if approve else StoryStatus(fields.status) if fields.status else None
        existing = await ctx.repo.stories.by_slug(fields.slug, fields.locale)
        if existing is None:
            await save_story(ctx, fields, origin="import", status=named or StoryStatus.draft)
            result.added += 1
        else:
            await save_story(ctx, fields, existing, status=named)
            result.updated += 1
    return result


def form_errors(ctx: JobContext, locale: str, error: ValidationError) -> dict[str, str]:
    """Per form field, a sentence saying what is wrong with it."""
    messages: dict[str, str] = {}
    for name, kind in problems(error):
        if kind in ("missing", "string_too_short"):
            messages[name] = ctx.t(locale, "error.field_required")
        elif kind == "string_too_long":
            messages[name] = ctx.t(locale, "stories.form.too_long")
        elif kind == "literal_error" or name == "stage":
            messages[name] = ctx.t(locale, "stories.form.pick_one")
        else:
            messages[name] = ctx.t(locale, "stories.form.bad_link")
    return messages
