"""Weekly customer stories: this week's story for everyone, and the library for CX managers.

Related modules: `story_slots` (the weekly posting and subscriptions), `story_drafts` (drafting from a
verbatim, employees sharing a story), `story_engagement` (replies, reactions and `stories stats`),
`story_library` (the service functions), `story_cards` (how it all looks), `story_files` (import formats).
"""

from __future__ import annotations

from pydantic import ValidationError

from bot.commands import ParsedCommand
from bot.context import Context, JobContext
from bot.errors import InvalidInput, NotFound
from bot.messages import Button, Buttons, Message
from bot.router import Click, Router, Submission
from handlers.story_cards import review_card, story_card, story_form, values_of
from handlers.story_files import StoryFields
from handlers.story_library import ensure_starter, form_errors, save_story, set_status
from handlers.story_slots import next_story, post_this_week, subscribe
from storage.models import Role
from storage.models.stories import Story, StoryStatus

router = Router()
LIST_LIMIT = 40


async def on_start(ctx: JobContext) -> None:
    """Every start: the shipped starter stories that are missing are added (approved)."""
    await ensure_starter(ctx)


async def seed_demo(ctx: JobContext) -> None:
    """The tour: the starter library, #klantverhalen subscribed, and this week's story already posted."""
    await ensure_starter(ctx)
    channel = await ctx.repo.channels.by_name("klantverhalen")
    if channel is not None:
        schedule = await subscribe(ctx, channel)
        await post_this_week(ctx, schedule)


# --- Everyone ------------------------------------------------------------------------------------------------
async def this_weeks_story(ctx: JobContext, locale: str) -> Story | None:
    """The story posted most recently in ``locale``; before any post, the one the library offers first."""
    post = await ctx.repo.stories.latest_post(locale)
    if post is not None:
        return post.story
    approved = await ctx.repo.stories.approved(locale)
    return approved[0] if approved else None


@router.command("story", help_key="help.commands.story")
async def show_story(ctx: Context, command: ParsedCommand) -> None:
    story = await this_weeks_story(ctx, ctx.locale)
    if story is None:
        await ctx.reply(ctx.message("story.none"), ephemeral=True)
        return
    card = story_card(ctx, story, key="story.week")
    share = Buttons(buttons=(Button(label=ctx.t("story.share.button"), action="story.share"),))
    await ctx.reply(Message(blocks=(*card.blocks, share), key=card.key), ephemeral=True)


# --- CX managers: the library ------------------------------------------------------------------------------
async def _story(ctx: Context, command: ParsedCommand) -> Story:
    if not command.args:
        raise InvalidInput("stories.error.which_story")
    story = await ctx.repo.stories.find(command.args[0], ctx.locale)
    if story is None:
        raise NotFound("stories.error.no_story", reference=command.args[0])
    return story


async def _story_of(ctx: Context, payload: dict[str, object]) -> Story:
    story = await ctx.repo.stories.get(int(str(payload.get("story_id", 0))))
    if story is None:
        raise NotFound("stories.error.no_story", reference=str(payload.get("story_id")))
    return story


def status_of(ctx: JobContext, word: str) -> StoryStatus:
    """A status from its name in either language (``goedgekeurd`` = ``approved``)."""
    wanted = word.strip().lower()
    for status in StoryStatus:
        names = {status.value} | {
            name.lower()
            for locale in ("nl", "en")
            for name in ctx.services.catalog.choices(locale, f"stories.status.{status.value}")
        }
        if wanted in names:
            return status
    raise InvalidInput("stories.error.bad_status", given=word[:40])


@router.command("stories", role=Role.cx_manager, help_key="help.commands.stories")
async def list_default(ctx: Context, command: ParsedCommand) -> None:
    await list_stories(ctx, command)


@router.command("stories list", role=Role.cx_manager, help_key="help.commands.stories_list")
async def list_stories(ctx: Context, command: ParsedCommand) -> None:
    """``stories list [draft|approved|archived] [--locale en]`` (the status also in Dutch: ``goedgekeurd``)."""
    status = status_of(ctx, command.args[0]).value if command.args else None
    locale = command.options.get("locale")
    if locale is not None and locale not in ("nl", "en"):
        raise InvalidInput("error.unknown_language", given=locale)
    stories = await ctx.repo.stories.listing(status=status, locale=locale, limit=LIST_LIMIT)
    counts = await ctx.repo.stories.counts()
    summary = ctx.t(
        "stories.list.summary",
        **{state.value: sum(n for (_, s), n in counts.items() if s == state.value) for state in StoryStatus},
    )
    if not stories:
        await ctx.reply(
            Message.text(summary + "\n\n" + ctx.t("stories.list.empty"), key="stories.list.empty")
        )
        return
    lines = [
        ctx.t(
            "stories.list.line",
            id=story.id,
            title=story.title,
            language=story.locale,
            status=ctx.t(f"stories.status.{story.status}"),
            tags=", ".join(tag for tag in (story.stage, story.department, story.theme) if tag) or "—",
        )
        for story in stories
    ]
    more = ctx.t("stories.list.more", limit=LIST_LIMIT) if len(stories) == LIST_LIMIT else ""
    text = "\n".join([summary, "", *lines, more]).strip()
    await ctx.reply(Message.text(text, key="stories.list.intro"))


@router.command("stories show", role=Role.cx_manager, help_key="help.commands.stories_show")
async def show(ctx: Context, command: ParsedCommand) -> None:
    await ctx.reply(review_card(ctx, await _story(ctx, command), ctx.locale))


@router.command("stories next", role=Role.cx_manager, help_key="help.commands.stories_next")
async def show_next(ctx: Context, command: ParsedCommand) -> None:
    """Which story a channel (``#name``, or this one) gets at its next slot."""
    name = command.args[0] if command.args else None
    channel = await ctx.repo.channels.by_name(name) if name else ctx.channel
    if channel is None:
        raise (
            InvalidInput("stories.subscribe.which_channel")
            if not name
            else NotFound("stories.subscribe.no_channel", channel=name)
        )
    story = await next_story(ctx, channel)
    if story is None:
        raise NotFound("stories.next.none", channel=channel.name)
    notes = (ctx.t("stories.next.intro", channel=channel.name),)
    await ctx.reply(review_card(ctx, story, ctx.locale, notes=notes))


@router.command("stories add", role=Role.cx_manager, help_key="help.commands.stories_add")
async def add(ctx: Context, command: ParsedCommand) -> None:
    form = story_form(
        ctx,
        ctx.locale,
        action="stories.save",
        title_key="stories.form.add_title",
        values={"locale": ctx.locale},
    )
    await ctx.reply(form)


@router.command("stories edit", role=Role.cx_manager, help_key="help.commands.stories_edit")
async def edit(ctx: Context, command: ParsedCommand) -> None:
    story = await _story(ctx, command)
    await ctx.reply(_edit_form(ctx, story))


def _edit_form(ctx: Context, story: Story) -> Message:
    return story_form(
        ctx,
        ctx.locale,
        action="stories.save",
        title_key="stories.form.edit_title",
        values=values_of(story),
        payload={"story_id": story.id},
    )


@router.action("stories.edit", role=Role.cx_manager)
async def edit_button(ctx: Context, click: Click) -> None:
    await ctx.reply(_edit_form(ctx, await _story_of(ctx, click.value)))


@router.form("stories.save", role=Role.cx_manager)
async def save(ctx: Context, submission: Submission) -> None:
    """The add/edit form: invalid input shows the form again with what is wrong; nothing is saved."""
    story = await _story_of(ctx, submission.value) if submission.value.get("story_id") else None
    try:
        fields = StoryFields.model_validate({**(values_of(story) if story else {}), **submission.fields})
    except ValidationError as error:
        form = story_form(
            ctx,
            ctx.locale,
            action="stories.save",
            title_key="stories.form.edit_title" if story else "stories.form.add_title",
            values=submission.fields,
            errors=form_errors(ctx, ctx.locale, error),
            payload=dict(submission.value),
        )
        await ctx.update(submission.message_ref, form)
        return
    if story is not None:  # the slug follows the title only for new stories
        fields = fields.model_copy(update={"slug": story.slug})
    saved = await save_story(ctx, fields, story, origin="chat")
    await ctx.audit(ctx.member, "story.edit" if story else "story.add", f"story:{saved.id}")
    await ctx.update(
        submission.message_ref, review_card(ctx, saved, ctx.locale, notes=(ctx.t("stories.form.saved"),))
    )


async def _change(ctx: Context, story: Story, status: StoryStatus, message_ref: str | None) -> None:
    changed = await set_status(ctx, story, status, ctx.member)
    note = ctx.t(
        f"stories.changed.{status.value}" if changed else "stories.changed.unchanged", title=story.title
    )
    await ctx.update(message_ref, review_card(ctx, story, ctx.locale, notes=(note,)))


@router.command("stories approve", role=Role.cx_manager, help_key="help.commands.stories_approve")
async def approve(ctx: Context, command: ParsedCommand) -> None:
    await _change(ctx, await _story(ctx, command), StoryStatus.approved, None)


@router.command("stories archive", role=Role.cx_manager, help_key="help.commands.stories_archive")
async def archive(ctx: Context, command: ParsedCommand) -> None:
    await _change(ctx, await _story(ctx, command), StoryStatus.archived, None)


@router.action("stories.approve", role=Role.cx_manager)
async def approve_button(ctx: Context, click: Click) -> None:
    await _change(ctx, await _story_of(ctx, click.value), StoryStatus.approved, click.message_ref)


@router.action("stories.archive", role=Role.cx_manager)
async def archive_button(ctx: Context, click: Click) -> None:
    await _change(ctx, await _story_of(ctx, click.value), StoryStatus.archived, click.message_ref)
