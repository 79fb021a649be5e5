"""How stories look: the card everyone sees, the review card CX managers act on, and the story forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.context import JobContext
from bot.messages import Block, Button, Buttons, ButtonStyle, Field_, Form, Image, Message, Quote, Text, Video
from bot.messages import Context as Footer
from bot.redaction import KINDS, Redacted
from handlers.story_files import STAGES
from storage.models.stories import Story, StoryStatus


def story_card(ctx: JobContext, story: Story, *, key: str = "story.card") -> Message:
    """The story in the house format, in the story's own language."""
    locale = story.locale
    blocks: list[Block] = [Text(text=f"**{story.title}**"), Text(text=story.story)]
    if story.quote:
        blocks.append(Quote(text=story.quote, author=story.quote_author or None))
    if story.meaning:
        blocks.append(Text(text=ctx.t(locale, "story.card.meaning", meaning=story.meaning)))
    if story.question:
        blocks.append(Text(text=ctx.t(locale, "story.card.question", question=story.question)))
    if story.video_url:
        blocks.append(Video(url=story.video_url, title=story.title))
    if story.image_url:
        blocks.append(Image(url=story.image_url, alt=story.title))
    footer = [part for part in (story.source, _credit(ctx, story)) if part]
    if footer:
        blocks.append(Footer(text=" · ".join(footer)))
    return Message(blocks=tuple(blocks), key=key)


def _credit(ctx: JobContext, story: Story) -> str:
    return ctx.t(story.locale, "story.card.credit", credit=story.credit) if story.credit else ""


def review_card(
    ctx: JobContext, story: Story, locale: str, *, notes: tuple[str, ...] = (), key: str = "stories.review"
) -> Message:
    """The story as a CX manager reviews it: status, tags, any notes, and what they can do with it."""
    card = story_card(ctx, story)
    tags = ", ".join(tag for tag in (story.stage, story.department, story.theme) if tag) or "—"
    status = ctx.t(locale, f"stories.status.{story.status}")
    header = Footer(
        text=ctx.t(
            locale,
            "stories.review.header",
            id=story.id,
            slug=story.slug,
            language=story.locale,
            status=status,
            tags=tags,
        )
    )
    blocks: list[Block] = [header, *card.blocks]
    blocks.extend(Text(text=note) for note in notes)
    actions: tuple[tuple[str, ButtonStyle, bool], ...] = (
        ("approve", "primary", story.status != StoryStatus.approved),
        ("edit", "default", True),
        ("archive", "danger", story.status != StoryStatus.archived),
    )
    buttons = [
        Button(
            label=ctx.t(locale, f"stories.review.{name}"),
            action=f"stories.{name}",
            payload={"story_id": story.id},
            style=style,
        )
        for name, style, offered in actions
        if offered
    ]
    blocks.append(Buttons(buttons=tuple(buttons)))
    return Message(blocks=tuple(blocks), key=key)


def redaction_note(ctx: JobContext, locale: str, redacted: Redacted) -> str | None:
    """A sentence like "I removed 1 e-mail address, 2 names" — or None when nothing was found."""
    if not redacted.changed:
        return None
    parts = [
        ctx.t(locale, f"stories.redaction.{kind}", count=redacted.found[kind])
        for kind in KINDS
        if redacted.found.get(kind)
    ]
    return ctx.t(locale, "stories.redaction.note", found=", ".join(parts))


def redaction_labels(ctx: JobContext, locale: str) -> dict[str, str]:
    return {kind: ctx.t(locale, f"stories.redaction.label.{kind}") for kind in KINDS}


EDITABLE = (
    ("title", "text", True, 200),
    ("story", "textarea", True, 6000),
    ("quote", "textarea", False, 1000),
    ("quote_author", "text", False, 200),
    ("meaning", "textarea", False, 2000),
    ("question", "text", False, 500),
    ("source", "text", False, 300),
    ("stage", "select", False, 40),
    ("department", "text", False, 80),
    ("theme", "text", False, 80),
    ("locale", "select", True, 8),
    ("image_url", "text", False, 500),
    ("video_url", "text", False, 500),
    ("credit", "text", False, 200),
)
SHARED = ("title", "story", "quote", "meaning")
"""What an employee fills in when they share a story (a CX manager completes the rest)."""


def story_form(
    ctx: JobContext,
    locale: str,
    *,
    action: str,
    title_key: str,
    names: tuple[str, ...] | None = None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    payload: dict[str, Any] | None = None,
) -> Message:
    """A form over the story fields ``names``, filled with ``values`` and showing ``errors``."""
    values = values or {}
    fields = []
    for name, style, required, limit in EDITABLE:
        if names is not None and name not in names:
            continue
        options: tuple[tuple[str, str], ...] = ()
        if name == "stage":
            options = tuple((stage, ctx.t(locale, f"stories.stages.{stage}")) for stage in STAGES)
        elif name == "locale":
            options = language_options(ctx, locale)
        fields.append(
            Field_(
                name=name,
                label=ctx.t(locale, f"stories.form.{name}"),
                style=style,
                required=required,
                max_length=limit,
                options=options,
                value=str(values.get(name) or ""),
                placeholder=ctx.t(locale, f"stories.form.hint.{name}"),
            )
        )
    form = Form(
        action=action,
        title=ctx.t(locale, title_key),
        fields=tuple(fields),
        submit_label=ctx.t(locale, "stories.form.submit"),
        payload=payload or {},
        errors=dict(errors or {}),
    )
    return Message(blocks=(form,), key=title_key)


def language_options(ctx: JobContext, locale: str) -> tuple[tuple[str, str], ...]:
    """The story languages for a picker, each named in its own language (``Nederlands``, ``English``)."""
    return tuple((code, ctx.t(locale, f"stories.languages_native.{code}")) for code in ("nl", "en"))


def values_of(story: Story) -> dict[str, str]:
    return {name: str(getattr(story, name) or "") for name, *_ in EDITABLE}
