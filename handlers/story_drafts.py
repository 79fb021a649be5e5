"""New stories from raw material: a CX manager's verbatim drafted into the house format (by the LLM when
there is one, from a template otherwise), and stories any employee shares for a CX manager to approve.

Personal data is redacted from the verbatim before it is stored or sent anywhere (the LLM included), and
the LLM's answer is redacted again before it is saved.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, ValidationError

from bot.commands import ParsedCommand
from bot.context import Context, JobContext
from bot.messages import Field_, Form, Message
from bot.redaction import Redacted, redact
from bot.router import Click, Router, Submission
from handlers.story_cards import (
    SHARED,
    language_options,
    redaction_labels,
    redaction_note,
    review_card,
    story_form,
)
from handlers.story_files import STAGES, StoryFields
from handlers.story_library import form_errors, save_story
from storage.models import Role
from storage.models.stories import Story

router = Router()
MAX_VERBATIM = 4000
_SOURCE_OPTION = re.compile(r"""(?:^|\s)--source(?:=|\s+)(?:"[^"]*"|'[^']*'|\S+)""", re.IGNORECASE)


def without_source_option(text: str) -> str:
    """The verbatim of ``stories draft <verbatim> --source X`` without the option (it is not the customer's)."""
    return _SOURCE_OPTION.sub(" ", text).strip()


class StoryDraft(BaseModel):
    """What the LLM must answer for ``prompts/llm/story_draft.yaml``."""

    title: str = Field(min_length=3, max_length=120)
    story: str = Field(min_length=20, max_length=3000)
    quote: str = Field(min_length=1, max_length=600)
    quote_author: str = Field("", max_length=120)
    meaning: str = Field(min_length=10, max_length=1200)
    question: str = Field(min_length=5, max_length=300)
    stage: str = Field("", max_length=40)
    department: str = Field("", max_length=80)
    theme: str = Field("", max_length=80)


def template_draft(ctx: JobContext, verbatim: str, locale: str) -> StoryDraft:
    """The deterministic draft when there is no LLM (or it failed): the verbatim framed in the house format."""
    first_line = verbatim.strip().splitlines()[0] if verbatim.strip() else ""
    words = first_line.split()
    title = " ".join(words[:8]).strip(" .,;:!?") + ("…" if len(words) > 8 else "")
    return StoryDraft(
        title=ctx.t(locale, "stories.draft.template.title", start=title or "…")[:120],
        story=ctx.t(locale, "stories.draft.template.story", verbatim=verbatim.strip())[:3000],
        quote=verbatim.strip()[:600],
        quote_author=ctx.t(locale, "stories.draft.template.quote_author"),
        meaning=ctx.t(locale, "stories.draft.template.meaning"),
        question=ctx.t(locale, "stories.draft.template.question"),
    )


async def draft_story(
    ctx: JobContext, verbatim: str, locale: str, *, source: str = ""
) -> tuple[Story, Redacted, bool]:
    """Redact ``verbatim``, draft a story from it and save it as a draft; returns (story, redaction, by LLM)."""
    labels = redaction_labels(ctx, locale)
    cleaned = redact(verbatim[:MAX_VERBATIM], labels)
    variables = {
        "verbatim": cleaned.text,
        "locale": locale,
        "stages": ", ".join(STAGES),
        "organisation": ctx.settings.organisation,
    }
    draft, by_llm = await ctx.llm.structured(
        "story_draft", variables, StoryDraft, lambda: template_draft(ctx, cleaned.text, locale)
    )
    values = {name: redact(str(value), labels).text for name, value in draft.model_dump().items()}
    if values["stage"] not in STAGES:
        values["stage"] = ""
    fields = StoryFields.model_validate(
        {**values, "locale": locale, "source": source or ctx.t(locale, "stories.draft.source")}
    )
    story = await save_story(ctx, fields, origin="draft")
    return story, cleaned, by_llm


def _draft_form(ctx: Context, errors: dict[str, str] | None = None) -> Message:
    form = Form(
        action="stories.draft",
        title=ctx.t("stories.draft.form_title"),
        fields=(
            Field_(
                name="verbatim",
                label=ctx.t("stories.draft.verbatim"),
                style="textarea",
                max_length=MAX_VERBATIM,
            ),
            Field_(
                name="source",
                label=ctx.t("stories.form.source"),
                required=False,
                max_length=300,
                placeholder=ctx.t("stories.form.hint.source"),
            ),
            Field_(
                name="locale",
                label=ctx.t("stories.form.locale"),
                style="select",
                options=language_options(ctx, ctx.locale),
                value=ctx.locale,
            ),
        ),
        submit_label=ctx.t("stories.draft.submit"),
        errors=errors or {},
    )
    return Message(blocks=(form,), key="stories.draft.form_title")


@router.command("stories draft", role=Role.cx_manager, help_key="help.commands.stories_draft")
async def draft_command(ctx: Context, command: ParsedCommand) -> None:
    """``stories draft <verbatim>`` drafts at once; without text it asks for the verbatim in a form."""
    verbatim = without_source_option(command.rest)
    if not verbatim:
        await ctx.reply(_draft_form(ctx))
        return
    await _draft_and_show(ctx, verbatim, ctx.locale, command.options.get("source", ""))


@router.form("stories.draft", role=Role.cx_manager)
async def draft_form_submitted(ctx: Context, submission: Submission) -> None:
    verbatim = submission.fields.get("verbatim", "").strip()
    locale = submission.fields.get("locale") or ctx.locale
    if not verbatim or locale not in ("nl", "en"):
        await ctx.update(
            submission.message_ref, _draft_form(ctx, {"verbatim": ctx.t("error.field_required")})
        )
        return
    await _draft_and_show(ctx, verbatim, locale, submission.fields.get("source", ""))


async def _draft_and_show(ctx: Context, verbatim: str, locale: str, source: str) -> None:
    story, cleaned, by_llm = await draft_story(ctx, verbatim, locale, source=source.strip())
    notes = [ctx.t("stories.draft.by_llm" if by_llm else "stories.draft.by_template")]
    note = redaction_note(ctx, ctx.locale, cleaned)
    if note:
        notes.insert(0, note)
    await ctx.audit(ctx.member, "story.draft", f"story:{story.id}", llm=by_llm, redacted=dict(cleaned.found))
    await ctx.reply(review_card(ctx, story, ctx.locale, notes=tuple(notes)))


# --- Employees share a story -------------------------------------------------------------------------------
@router.command("story share", help_key="help.commands.story_share")
async def share_command(ctx: Context, command: ParsedCommand) -> None:
    await ctx.reply(
        story_form(ctx, ctx.locale, action="story.submit", title_key="story.share.form_title", names=SHARED)
    )


@router.action("story.share")
async def share_button(ctx: Context, click: Click) -> None:
    await ctx.reply(
        story_form(ctx, ctx.locale, action="story.submit", title_key="story.share.form_title", names=SHARED)
    )


@router.form("story.submit")
async def share_submitted(ctx: Context, submission: Submission) -> None:
    """An employee's story: redacted, saved as a draft credited to them, sent to the CX managers."""
    labels = redaction_labels(ctx, ctx.locale)
    found: dict[str, int] = {}
    values: dict[str, str] = {}
    for name in SHARED:
        cleaned = redact(submission.fields.get(name, ""), labels)
        values[name] = cleaned.text
        for kind, count in cleaned.found.items():
            found[kind] = found.get(kind, 0) + count
    try:
        fields = StoryFields.model_validate({**values, "locale": ctx.locale, "credit": ctx.member.name})
    except ValidationError as error:
        form = story_form(
            ctx,
            ctx.locale,
            action="story.submit",
            title_key="story.share.form_title",
            names=SHARED,
            values=submission.fields,
            errors=form_errors(ctx, ctx.locale, error),
        )
        await ctx.update(submission.message_ref, form)
        return
    fields = fields.model_copy(
        update={"source": ctx.t("story.share.source", department=ctx.member.department_name or "")}
    )
    story = await save_story(ctx, fields, origin="submission", submitted_by=ctx.member)
    redacted = Redacted(story.story, found)
    await ctx.audit(ctx.member, "story.submit", f"story:{story.id}")
    thanks = [ctx.t("story.share.thanks")]
    note = redaction_note(ctx, ctx.locale, redacted)
    if note:
        thanks.append(note)
    await ctx.update(submission.message_ref, "\n\n".join(thanks))
    for manager in await ctx.repo.members.with_role(Role.cx_manager):
        if manager.id == ctx.member.id or not manager.active:
            continue
        locale = ctx.locale_of(manager)
        notes = [ctx.t(locale, "stories.review.shared_by", name=ctx.member.name)]
        manager_note = redaction_note(ctx, locale, redacted)
        if manager_note:
            notes.append(manager_note)
        await ctx.dm(
            manager,
            review_card(ctx, story, locale, notes=tuple(notes)),
            key=f"story-review:{story.id}:{manager.id}",
            topic="stories",
        )
