"""The weekly story slot: which channels get a story when, which story is next, and posting it.

A subscription is a ``story.slot`` schedule (ref ``channel:<id>``, payload ``{"channels": [id, …]}``);
campaigns may create their own ``story.slot`` schedules with several channels. Each slot posts, per
channel, the next approved story in the channel's language that was posted there least often (so
nothing repeats until the library is exhausted), preferring a story a colleague shared, then one
whose department, theme and journey stage differ from the last stories there. Posts go through the
outbox with the idempotency key ``story:<schedule id>:<fire time>:<channel id>``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import recurrence
from bot.commands import ParsedCommand
from bot.context import Context, JobContext
from bot.errors import InvalidInput, NotFound
from bot.messages import Message
from bot.router import Router
from handlers.story_cards import story_card
from storage.models import Channel, Role, Schedule
from storage.models.stories import Story, StoryPost
from storage.repositories.stories import PostHistory

log = logging.getLogger(__name__)
router = Router()

SLOT = "story.slot"
DEFAULT_WEEKDAY, DEFAULT_HOUR, DEFAULT_MINUTE = "MO", 9, 30
WEEKDAY_WORDS = {
    **dict.fromkeys(("mo", "mon", "monday", "ma", "maandag"), "MO"),
    **dict.fromkeys(("tu", "tue", "tuesday", "di", "dinsdag"), "TU"),
    **dict.fromkeys(("we", "wed", "wednesday", "wo", "woensdag"), "WE"),
    **dict.fromkeys(("th", "thu", "thursday", "do", "donderdag"), "TH"),
    **dict.fromkeys(("fr", "fri", "friday", "vr", "vrijdag"), "FR"),
    **dict.fromkeys(("sa", "sat", "saturday", "za", "zaterdag"), "SA"),
    **dict.fromkeys(("su", "sun", "sunday", "zo", "zondag"), "SU"),
}
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.hu]([0-5]\d)$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slot_key(schedule_id: int, fire_time: datetime, channel_id: int) -> str:
    return f"story:{schedule_id}:{fire_time.astimezone(UTC).isoformat()}:{channel_id}"


def subscription_ref(channel: Channel) -> str:
    return f"channel:{channel.id}"


# --- Subscriptions --------------------------------------------------------------------------------------
async def subscribe(
    ctx: JobContext,
    channel: Channel,
    weekday: str = DEFAULT_WEEKDAY,
    hour: int = DEFAULT_HOUR,
    minute: int = DEFAULT_MINUTE,
) -> Schedule:
    """A weekly story for ``channel`` on ``weekday`` at ``hour:minute`` in the channel's time zone."""
    return await ctx.services.scheduler.put(
        ctx.session,
        kind=SLOT,
        ref=subscription_ref(channel),
        timezone=ctx.timezone_of(channel=channel),
        starts_at=ctx.now(),
        rrule=recurrence.weekly([weekday], hour, minute),
        payload={"channels": [channel.id], "weekday": weekday, "time": f"{hour:02d}:{minute:02d}"},
    )


async def unsubscribe(ctx: JobContext, channel: Channel) -> bool:
    """Stop the weekly story for ``channel``; False when it had none."""
    schedule = await ctx.repo.schedules.by_ref(SLOT, subscription_ref(channel))
    if schedule is None or not schedule.enabled:
        return False
    schedule.enabled = False
    schedule.next_fire_at = None
    schedule.updated_at = ctx.now()
    ctx.services.scheduler.changed()
    return True


async def subscriptions(ctx: JobContext) -> list[tuple[Schedule, Channel]]:
    """Every enabled per-channel story slot with its channel."""
    found = []
    for schedule in await ctx.repo.schedules.of_kind(SLOT):
        if schedule.enabled and schedule.ref.startswith("channel:"):
            channel = await ctx.repo.channels.get(int(schedule.ref.removeprefix("channel:")))
            if channel is not None:
                found.append((schedule, channel))
    return found


# --- Choosing and posting -------------------------------------------------------------------------------
def _likeness(story: Story, recent: list[Story]) -> float:
    """How much ``story`` resembles the last stories posted (the latest weighs most)."""
    score = 0.0
    for weight, other in zip((1.0, 0.5, 0.25), recent, strict=False):
        if story.department and story.department != "all" and story.department == other.department:
            score += 2 * weight
        if story.theme and story.theme == other.theme:
            score += 2 * weight
        if story.stage and story.stage == other.stage:
            score += weight
    return score


def choose(candidates: list[Story], history: dict[int, PostHistory], recent: list[Story]) -> Story | None:
    """The least-posted candidate; among those a colleague's own story first (they wait to see it), then
    the one least like the recent posts, then the one posted longest ago, then library order."""
    if not candidates:
        return None
    times = {story.id: history[story.id].times if story.id in history else 0 for story in candidates}
    fewest = min(times.values())
    pool = [story for story in candidates if times[story.id] == fewest]
    order = {story.id: index for index, story in enumerate(candidates)}
    return min(
        pool,
        key=lambda story: (
            story.origin != "submission",
            _likeness(story, recent),
            history[story.id].last_posted_at if story.id in history else _EPOCH,
            order[story.id],
        ),
    )


async def next_story(ctx: JobContext, channel: Channel) -> Story | None:
    """The story the channel gets next (None when no approved story exists in its language)."""
    candidates = list(await ctx.repo.stories.approved(ctx.locale_of(channel=channel)))
    history = await ctx.repo.stories.history(channel.id)
    recent = [post.story for post in await ctx.repo.stories.recent_posts(channel.id)]
    return choose(candidates, history, recent)


async def post_story(
    ctx: JobContext, story: Story, channel: Channel, *, key: str, schedule_id: int | None, fire_time: datetime
) -> StoryPost | None:
    """Post ``story`` in ``channel`` under ``key``; None when that key was posted before."""
    if not await ctx.post(channel, story_card(ctx, story), key=key, topic="story"):
        return None
    reach = len(await ctx.repo.channels.member_ids(channel.id))
    post = await ctx.repo.stories.record_post(
        story=story,
        channel_id=channel.id,
        schedule_id=schedule_id,
        fire_time=fire_time,
        delivery_key=key,
        reach=reach,
        now=ctx.now(),
    )
    if story.submitted_by_member_id:
        sharer = await ctx.repo.members.get(story.submitted_by_member_id)
        if sharer is not None and sharer.active:
            text = ctx.t(ctx.locale_of(sharer), "story.share.posted", title=story.title, channel=channel.name)
            message = Message.text(text, key="story.share.posted")
            await ctx.dm(sharer, message, key=f"story-credited:{post.id}", topic="stories")
    return post


@router.schedule(SLOT)
async def story_slot(ctx: JobContext, schedule: Schedule, fire_time: datetime) -> None:
    """Post the next story in every channel of the slot (a re-fired slot posts nothing twice)."""
    for channel_id in schedule.payload.get("channels", []):
        channel = await ctx.repo.channels.get(int(channel_id))
        if channel is None:
            continue
        key = slot_key(schedule.id, fire_time, channel.id)
        if await ctx.repo.stories.post_by_key(key) is not None:
            continue
        story = await next_story(ctx, channel)
        if story is None:
            await _tell_managers_library_is_empty(ctx, channel, key)
            continue
        await post_story(ctx, story, channel, key=key, schedule_id=schedule.id, fire_time=fire_time)


async def _tell_managers_library_is_empty(ctx: JobContext, channel: Channel, key: str) -> None:
    language = ctx.locale_of(channel=channel)
    log.warning("no approved story to post", extra={"channel_id": channel.id, "locale": language})
    for manager in await ctx.repo.members.with_role(Role.cx_manager):
        locale = ctx.locale_of(manager)
        text = ctx.t(
            locale,
            "stories.slot.empty",
            channel=channel.name,
            language=ctx.t(locale, f"stories.languages.{language}"),
        )
        message = Message.text(text, key="stories.slot.empty")
        await ctx.dm(manager, message, key=f"story-empty:{key}:{manager.id}", topic="stories")


async def post_this_week(ctx: JobContext, schedule: Schedule) -> int:
    """Fire the slot's latest occurrence of the past week now (a new subscription catches up once)."""
    now = ctx.now()
    week_ago = now - timedelta(days=7)
    past = recurrence.occurrences(schedule.rrule, schedule.timezone, week_ago, week_ago, now)
    if not past:
        return 0
    await story_slot(ctx, schedule, past[-1])
    return 1


# --- Commands ---------------------------------------------------------------------------------------------
def _parse_when(words: list[str]) -> tuple[str, int, int]:
    weekday, hour, minute = DEFAULT_WEEKDAY, DEFAULT_HOUR, DEFAULT_MINUTE
    for word in words:
        time = _TIME.match(word)
        if word.lower() in WEEKDAY_WORDS:
            weekday = WEEKDAY_WORDS[word.lower()]
        elif time:
            hour, minute = int(time.group(1)), int(time.group(2))
        else:
            raise InvalidInput("stories.subscribe.bad_when", given=word)
    return weekday, hour, minute


async def _channel_and_rest(ctx: Context, command: ParsedCommand) -> tuple[Channel, list[str]]:
    words = list(command.args)
    if words and words[0].startswith("#"):
        channel = await ctx.repo.channels.by_name(words[0])
        if channel is None:
            raise NotFound("stories.subscribe.no_channel", channel=words[0])
        return channel, words[1:]
    if ctx.channel is None:
        raise InvalidInput("stories.subscribe.which_channel")
    return ctx.channel, words


def _local(moment: datetime | None, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") if moment else "—"


@router.command("stories subscribe", role=Role.cx_manager, help_key="help.commands.stories_subscribe")
async def subscribe_command(ctx: Context, command: ParsedCommand) -> None:
    channel, rest = await _channel_and_rest(ctx, command)
    weekday, hour, minute = _parse_when(rest)
    schedule = await subscribe(ctx, channel, weekday, hour, minute)
    await ctx.audit(
        ctx.member,
        "story.subscribe",
        f"channel:{channel.id}",
        weekday=weekday,
        time=f"{hour:02d}:{minute:02d}",
    )
    await ctx.reply(
        ctx.message(
            "stories.subscribe.done",
            channel=channel.name,
            weekday=ctx.t(f"stories.weekdays.{weekday}"),
            time=f"{hour:02d}:{minute:02d}",
            timezone=schedule.timezone,
            next=_local(schedule.next_fire_at, schedule.timezone),
            language=ctx.t(f"stories.languages.{ctx.locale_of(channel=channel)}"),
        )
    )


@router.command("stories unsubscribe", role=Role.cx_manager, help_key="help.commands.stories_unsubscribe")
async def unsubscribe_command(ctx: Context, command: ParsedCommand) -> None:
    channel, rest = await _channel_and_rest(ctx, command)
    if rest:
        raise InvalidInput("stories.subscribe.bad_when", given=rest[0])
    stopped = await unsubscribe(ctx, channel)
    if stopped:
        await ctx.audit(ctx.member, "story.unsubscribe", f"channel:{channel.id}")
    await ctx.reply(
        ctx.message(
            "stories.unsubscribe.done" if stopped else "stories.unsubscribe.none", channel=channel.name
        )
    )


@router.command("stories channels", role=Role.cx_manager, help_key="help.commands.stories_channels")
async def channels_command(ctx: Context, command: ParsedCommand) -> None:
    found = await subscriptions(ctx)
    if not found:
        await ctx.reply(ctx.message("stories.channels.none"))
        return
    lines = [
        ctx.t(
            "stories.channels.line",
            channel=channel.name,
            weekday=ctx.t(f"stories.weekdays.{schedule.payload.get('weekday', DEFAULT_WEEKDAY)}"),
            time=schedule.payload.get("time", "09:30"),
            timezone=schedule.timezone,
            next=_local(schedule.next_fire_at, schedule.timezone),
        )
        for schedule, channel in found
    ]
    await ctx.reply(
        Message.text(ctx.t("stories.channels.intro") + "\n" + "\n".join(lines), key="stories.channels.intro")
    )
