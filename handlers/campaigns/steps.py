"""What a campaign step does when it fires: post a story, ask a pulse, switch the ritual on, nudge leaders,
send a message.

Every send uses the idempotency key ``campaign:<campaign id>:<step key>:<planned local time>:<target>``
(target ``m<member>``, ``c<channel>``, ``round`` or ``ritual``), for the outbox and for the campaign's own
record alike, so a re-fired schedule, a catch-up or a second instance never sends anything twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.context import JobContext
from bot.errors import KlantpetError
from bot.messages import Buttons, Message, Text
from bot.messages import Context as Footer
from handlers.campaigns.audience import Recipients
from handlers.campaigns.cadence import duration_minutes
from handlers.campaigns.spec import CampaignSpec, StepSpec
from handlers.leadership.common import write_button
from handlers.pulses import Audience, RoundSpec, create_round
from handlers.ritual_schedule import sync_schedules
from handlers.story_cards import story_card
from handlers.story_slots import next_story, post_story
from storage.models import Channel, Member
from storage.models.campaigns import Campaign
from storage.models.stories import Story

log = logging.getLogger(__name__)
RESTORE = "campaign.restore"


def send_key(campaign: Campaign, step_key: str, occurrence: str, target: str) -> str:
    return f"campaign:{campaign.id}:{step_key}:{occurrence}:{target}"


@dataclass(frozen=True)
class Firing:
    """One send of one step: which campaign and step, its planned local time and when it goes out."""

    campaign: Campaign
    spec: CampaignSpec
    step: StepSpec
    occurrence: str
    at: datetime
    schedule_id: int | None = None

    def key(self, target: str) -> str:
        return send_key(self.campaign, self.step.key, self.occurrence, target)


async def _record(ctx: JobContext, firing: Firing, target: str, **values: Any) -> bool:
    recorded = await ctx.repo.campaigns.record_send(
        campaign_id=firing.campaign.id,
        step_key=firing.step.key,
        kind=firing.step.kind,
        occurrence=firing.occurrence,
        idempotency_key=firing.key(target),
        status=values.pop("status", "sent"),
        sent_at=ctx.now(),
        **values,
    )
    return recorded is not None


def footer(ctx: JobContext, locale: str, campaign: Campaign) -> Footer:
    return Footer(text=ctx.t(locale, "campaign.footer", name=campaign.name))


# --- Messages and leader nudges -------------------------------------------------------------------------------
def message_for(ctx: JobContext, firing: Firing, locale: str, member: Member | None = None) -> Message:
    """The exact message a ``message`` or ``snippet`` step sends in ``locale``."""
    step = firing.step
    text = step.text_for(locale)
    if step.kind == "snippet":
        name = member.name.split()[0] if member else ""
        intro = text or ctx.t(locale, "campaign.nudge.text", name=name, campaign=firing.campaign.name)
        blocks: tuple[Any, ...] = (
            Text(text=intro),
            Buttons(buttons=(write_button(ctx, locale),)),
            footer(ctx, locale, firing.campaign),
        )
        return Message(blocks=blocks, key="campaign.nudge.text")
    return Message(
        blocks=(Text(text=text or ""), footer(ctx, locale, firing.campaign)), key="campaign.message"
    )


async def _send_messages(ctx: JobContext, firing: Firing, found: Recipients) -> int:
    sent = 0
    for member in found.members:
        key = firing.key(f"m{member.id}")
        message = message_for(ctx, firing, ctx.locale_of(member), member)
        if await ctx.dm(member, message, key=key, topic="campaign", not_before=firing.at):
            sent += await _record(ctx, firing, f"m{member.id}", member_id=member.id, reach=1)
    for channel in found.channels:
        key = firing.key(f"c{channel.id}")
        message = message_for(ctx, firing, ctx.locale_of(channel=channel))
        if await ctx.post(channel, message, key=key, topic="campaign", not_before=firing.at):
            reach = len(await ctx.repo.channels.member_ids(channel.id))
            sent += await _record(ctx, firing, f"c{channel.id}", channel_id=channel.id, reach=reach)
    return sent


# --- Stories -----------------------------------------------------------------------------------------------------
async def story_for_member(ctx: JobContext, firing: Firing, member: Member) -> Story | None:
    """The story a member gets: the step's own story, or the next one in their language this campaign has
    not sent them yet (in library order, starting over when all were sent)."""
    locale = ctx.locale_of(member)
    if firing.step.story:
        return await ctx.repo.stories.by_slug(firing.step.story, locale) or await ctx.repo.stories.find(
            firing.step.story, locale
        )
    approved = list(await ctx.repo.stories.approved(locale))
    if not approved:
        return None
    count = await ctx.repo.campaigns.count_member_sends(firing.campaign.id, "story", member.id)
    return approved[count % len(approved)]


async def story_for_channel(ctx: JobContext, firing: Firing, channel: Channel) -> Story | None:
    if firing.step.story:
        return await ctx.repo.stories.find(firing.step.story, ctx.locale_of(channel=channel))
    return await next_story(ctx, channel)


async def _send_stories(ctx: JobContext, firing: Firing, found: Recipients) -> int:
    sent = 0
    for member in found.members:
        story = await story_for_member(ctx, firing, member)
        if story is None:
            continue
        card = story_card(ctx, story)
        message = Message(blocks=(*card.blocks, footer(ctx, story.locale, firing.campaign)), key=card.key)
        key = firing.key(f"m{member.id}")
        if await ctx.dm(member, message, key=key, topic="story", not_before=firing.at):
            sent += await _record(
                ctx, firing, f"m{member.id}", member_id=member.id, story_id=story.id, reach=1
            )
    for channel in found.channels:
        key = firing.key(f"c{channel.id}")
        if await ctx.repo.stories.post_by_key(key) is not None:
            continue
        story = await story_for_channel(ctx, firing, channel)
        if story is None:
            continue
        post = await post_story(
            ctx, story, channel, key=key, schedule_id=firing.schedule_id, fire_time=firing.at
        )
        if post is not None:
            sent += await _record(
                ctx, firing, f"c{channel.id}", channel_id=channel.id, story_id=story.id, reach=post.reach
            )
    return sent


# --- Pulses ---------------------------------------------------------------------------------------------------------
def pulse_audience(firing: Firing, member_ids: list[int] | None = None) -> Audience:
    if member_ids is not None:
        return Audience("members", member_ids=tuple(member_ids))
    audience = firing.spec.audience_of(firing.step)
    if audience.kind == "departments":
        return Audience("departments", audience.names)
    if audience.kind == "channels":
        return Audience("channels", audience.names)
    return Audience()


async def _is_baseline(ctx: JobContext, firing: Firing) -> bool:
    options = firing.step.pulse
    if options is None or options.baseline is False:
        return False
    if options.baseline is True:
        return True
    earlier = [
        send
        for send in await ctx.repo.campaigns.sends(firing.campaign.id, firing.step.key)
        if send.pulse_round_id
    ]
    return not earlier


async def ask_pulse(ctx: JobContext, firing: Firing, member_ids: list[int] | None = None) -> int:
    """Create (and, when its time has come, open) the step's pulse round; a refusal is recorded and the
    campaign's owner is told, the rest of the campaign carries on."""
    if await ctx.repo.campaigns.send_by_key(firing.key("round")) is not None:
        return 0
    options = firing.step.pulse
    quiet = firing.spec.quiet()
    owner = await _owner(ctx, firing.campaign)
    spec = RoundSpec(
        name=(options.name if options and options.name else firing.campaign.name),
        audience=pulse_audience(firing, member_ids),
        opens_at=max(firing.at, ctx.now()),
        duration_minutes=options.minutes if options else 7 * 24 * 60,
        question_ids=options.questions if options else (),
        likert_count=options.statements if options else 2,
        include_open=options.open_question if options else True,
        quiet_hours=(f"{quiet[0]:%H:%M}", f"{quiet[1]:%H:%M}") if quiet else ("00:00", "00:00"),
        baseline=await _is_baseline(ctx, firing),
        timezone=firing.spec.timezone,
    )
    try:
        async with ctx.session.begin_nested():
            pulse_round = await create_round(ctx, spec, owner)
    except KlantpetError as error:
        log.warning("campaign pulse refused", extra={"campaign_id": firing.campaign.id, "key": error.key})
        await _record(
            ctx, firing, "round", status="failed", detail={"reason": error.key, **_plain(error.params)}
        )
        await tell_owner(ctx, firing, error)
        return 0
    return await _record(
        ctx,
        firing,
        "round",
        pulse_round_id=pulse_round.id,
        reach=pulse_round.invited_count,
        detail={"baseline": pulse_round.baseline},
    )


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value if isinstance(value, int | float | str) else str(value) for key, value in params.items()
    }


async def _owner(ctx: JobContext, campaign: Campaign) -> Member | None:
    return await ctx.repo.members.get(campaign.owner_member_id) if campaign.owner_member_id else None


async def tell_owner(ctx: JobContext, firing: Firing, error: KlantpetError) -> None:
    owner = await _owner(ctx, firing.campaign)
    if owner is None or not owner.active:
        return
    locale = ctx.locale_of(owner)
    text = ctx.t(
        locale,
        "campaign.step_failed",
        campaign=firing.campaign.name,
        step=firing.step.key,
        reason=ctx.t(locale, error.key, **error.params),
    )
    await ctx.dm(
        owner, Message.text(text, key="campaign.step_failed"), key=firing.key("owner"), topic="campaign"
    )


# --- The ritual -----------------------------------------------------------------------------------------------------
async def _ritual(ctx: JobContext, firing: Firing) -> int:
    if await ctx.repo.campaigns.send_by_key(firing.key("ritual")) is not None:
        return 0
    options = firing.step.ritual
    wanted = (
        None if options is None or options.meetings == "all" else {n.casefold() for n in options.meetings}
    )
    switched: list[int] = []
    reach = 0
    for meeting in await ctx.repo.ritual.meetings():
        if wanted is not None and meeting.name.casefold() not in wanted:
            continue
        reach += len(meeting.participant_ids)
        if not meeting.ritual_enabled:
            meeting.ritual_enabled = True
            await sync_schedules(ctx, meeting)
            switched.append(meeting.id)
        channel = await ctx.repo.channels.get(meeting.channel_id) if meeting.channel_id else None
        if channel is not None:
            locale = ctx.locale_of(channel=channel)
            text = ctx.t(locale, "campaign.ritual_on", campaign=firing.campaign.name, meeting=meeting.name)
            await ctx.post(
                channel,
                Message(
                    blocks=(Text(text=text), footer(ctx, locale, firing.campaign)), key="campaign.ritual_on"
                ),
                key=firing.key(f"c{channel.id}"),
                topic="campaign",
            )
    if options is not None and options.duration and switched:
        await ctx.services.scheduler.put(
            ctx.session,
            kind=RESTORE,
            ref=f"campaign:{firing.campaign.id}:{firing.step.key}:{firing.occurrence}",
            timezone=firing.spec.timezone,
            starts_at=max(firing.at, ctx.now()) + timedelta(minutes=duration_minutes(options.duration)),
            payload={"campaign_id": firing.campaign.id, "meetings": switched},
        )
    return await _record(ctx, firing, "ritual", reach=reach, detail={"switched_on": switched})


async def restore_ritual(ctx: JobContext, meeting_ids: list[int]) -> None:
    """Switch the ritual off again in the meetings a campaign switched it on in."""
    for meeting_id in meeting_ids:
        meeting = await ctx.repo.ritual.meeting(int(meeting_id))
        if meeting is not None and meeting.ritual_enabled:
            meeting.ritual_enabled = False
            await sync_schedules(ctx, meeting)


# --- Dispatch ----------------------------------------------------------------------------------------------------------
async def run(ctx: JobContext, firing: Firing, found: Recipients) -> int:
    """Do what ``firing``'s step does for ``found``; returns how many new sends were made."""
    kind = firing.step.kind
    if kind == "pulse":
        return await ask_pulse(ctx, firing)
    if kind == "ritual":
        return await _ritual(ctx, firing)
    if kind == "story":
        return await _send_stories(ctx, firing, found)
    return await _send_messages(ctx, firing, found)
