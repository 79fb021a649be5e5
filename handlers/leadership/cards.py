"""The messages of the snippet feature: the post itself, the snippet form and the scheduling form.

`post_message` is the single source of what appears in a company channel; the preview, the reviewer's
request and the posting all use it, so the leader sees exactly what will be posted.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.context import JobContext
from bot.messages import Block, Button, Form, Message, Text, Video
from bot.messages import Context as Footer
from bot.messages import Field_ as Field
from handlers.leadership.common import first_name
from handlers.leadership.snippet_input import MAX_STORY, MAX_TEXT, MAX_URL
from storage.models import Member
from storage.models.leadership import LeaderSnippet


def post_message(
    ctx: JobContext,
    snippet: LeaderSnippet,
    author: Member,
    locale: str,
    *,
    story_title: str | None,
    relay_note: str | None,
) -> Message:
    """The snippet as it appears in a company channel, in that channel's language (``story_title`` too)."""
    kind = "vlog" if snippet.video_url else "blog"
    blocks: list[Block] = [
        Text(text=ctx.t(locale, f"leadership.post.header_{kind}", name=author.name, title=author.title or ""))
    ]
    if snippet.text:
        blocks.append(Text(text=snippet.text))
    if snippet.video_url:
        blocks.append(
            Video(
                url=snippet.video_url, title=ctx.t(locale, "leadership.post.video", name=first_name(author))
            )
        )
    notes = []
    if story_title:
        notes.append(ctx.t(locale, "leadership.post.story", title=story_title))
    if relay_note:
        notes.append(relay_note)
    notes.append(ctx.t(locale, "leadership.post.footer", name=first_name(author)))
    blocks.append(Footer(text="\n".join(notes)))
    return Message(blocks=tuple(blocks), key="leadership.post")


def snippet_form(
    ctx: JobContext,
    locale: str,
    *,
    snippet: LeaderSnippet | None = None,
    story: str = "",
    contact_id: int | None = None,
) -> Message:
    """The form to write (or edit) a snippet (``story``: the reference of its customer story); submitting it
    shows the preview."""
    payload: dict[str, int] = {}
    if snippet is not None:
        payload["snippet"] = snippet.id
    if contact_id is not None:
        payload["contact"] = contact_id
    form = Form(
        action="leadership.snippet.submit",
        title=ctx.t(locale, "leadership.form.title"),
        submit_label=ctx.t(locale, "leadership.form.submit"),
        payload=payload,
        fields=(
            Field(
                name="text",
                label=ctx.t(locale, "leadership.form.text", limit=MAX_TEXT),
                style="textarea",
                required=False,
                max_length=MAX_TEXT,
                value=snippet.text if snippet else "",
                placeholder=ctx.t(locale, "leadership.form.text_placeholder"),
            ),
            Field(
                name="video",
                label=ctx.t(locale, "leadership.form.video"),
                required=False,
                max_length=MAX_URL,
                value=(snippet.video_url or "") if snippet else "",
                placeholder="https://",
            ),
            Field(
                name="story",
                label=ctx.t(locale, "leadership.form.story"),
                required=False,
                max_length=MAX_STORY,
                value=story,
            ),
        ),
    )
    intro = Text(text=ctx.t(locale, "leadership.form.intro"))
    return Message(blocks=(intro, form), key="leadership.form.intro")


def schedule_form(
    ctx: JobContext, locale: str, snippet: LeaderSnippet, suggested: datetime, zone: str
) -> Message:
    local = suggested.astimezone(ZoneInfo(zone))
    form = Form(
        action="leadership.snippet.schedule_at",
        title=ctx.t(locale, "leadership.schedule.title"),
        submit_label=ctx.t(locale, "leadership.schedule.submit"),
        payload={"snippet": snippet.id, "revision": snippet.revision},
        fields=(
            Field(
                name="date",
                label=ctx.t(locale, "leadership.schedule.date"),
                max_length=10,
                value=f"{local:%Y-%m-%d}",
                placeholder="2026-12-01",
            ),
            Field(
                name="time",
                label=ctx.t(locale, "leadership.schedule.time", timezone=zone),
                max_length=5,
                value=f"{local:%H:%M}",
                placeholder="09:00",
            ),
        ),
    )
    return Message(blocks=(form,), key="leadership.schedule.title")


def edit_and_cancel(ctx: JobContext, locale: str, snippet: LeaderSnippet) -> tuple[Button, Button]:
    """The Edit and Cancel buttons for a snippet that is not out yet."""
    payload = {"snippet": snippet.id, "revision": snippet.revision}
    return (
        Button(
            label=ctx.t(locale, "leadership.button_edit"), action="leadership.snippet.edit", payload=payload
        ),
        Button(
            label=ctx.t(locale, "leadership.button_cancel"),
            action="leadership.snippet.cancel",
            payload=payload,
            style="danger",
        ),
    )
