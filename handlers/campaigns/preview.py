"""The next sends of a campaign, per audience: when exactly (in their time zone) and what they will read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.context import JobContext
from handlers.campaigns import steps
from handlers.campaigns.audience import audience_size, recipients, zone_of
from handlers.campaigns.cadence import duration_minutes, offset_days
from handlers.campaigns.calendar import planned_sends
from handlers.campaigns.spec import CampaignSpec, StepSpec
from handlers.story_slots import next_story
from storage.models import Channel, Member
from storage.models.campaigns import Campaign

MAX_SENDS = 50


@dataclass(frozen=True)
class PreviewSend:
    at: datetime | None
    """None for a journey step nobody is on yet (``text`` says when it comes)."""
    timezone: str
    step_key: str
    kind: str
    text: str


@dataclass
class AudiencePreview:
    label: str
    timezone: str
    locale: str
    size: int
    sends: list[PreviewSend] = field(default_factory=list)


def transient(spec: CampaignSpec) -> Campaign:
    """An unsaved campaign for previewing a definition that is not applied yet (a dry run)."""
    return Campaign(id=0, key=spec.key, name=spec.name, timezone=spec.timezone, version=0)


async def preview(
    ctx: JobContext,
    campaign: Campaign,
    count: int = 5,
    locale: str | None = None,
    spec: CampaignSpec | None = None,
) -> list[AudiencePreview]:
    """The next ``count`` sends for every audience the campaign reaches (channel, or people sharing a
    time zone and a language), with the exact text in that audience's language."""
    spec = spec or CampaignSpec.model_validate(campaign.spec)
    viewer = locale or ctx.settings.default_locale
    count = max(1, min(count, MAX_SENDS))
    now = ctx.now()
    groups: dict[tuple[object, ...], AudiencePreview] = {}
    for step in spec.steps:
        if step.cadence.relative:
            continue
        for group, example in await _groups(ctx, spec, step, viewer, groups):
            planned = planned_sends(spec, step, group.timezone, now, count, inclusive=True)
            for index, send in enumerate(planned):
                firing = steps.Firing(campaign, spec, step, send.occurrence, send.at)
                text = await _describe(ctx, firing, group, example, index)
                group.sends.append(PreviewSend(send.at, group.timezone, step.key, step.kind, text))
    journey = await _journeys(ctx, campaign, spec, viewer, count)
    found = [group for group in groups.values() if group.sends]
    for group in found:
        group.sends = sorted(group.sends, key=lambda send: (send.at or now, send.step_key))[:count]
    return found + ([journey] if journey is not None else [])


async def _groups(
    ctx: JobContext,
    spec: CampaignSpec,
    step: StepSpec,
    viewer: str,
    groups: dict[tuple[object, ...], AudiencePreview],
) -> list[tuple[AudiencePreview, Member | Channel | None]]:
    if step.kind in ("pulse", "ritual"):
        key: tuple[object, ...] = ("organisation", spec.timezone)
        if key not in groups:
            groups[key] = AudiencePreview(
                ctx.t(viewer, "campaign.preview.organisation", timezone=spec.timezone),
                spec.timezone,
                ctx.settings.default_locale,
                await audience_size(ctx, spec, step),
            )
        return [(groups[key], None)]
    found = await recipients(ctx, spec, step)
    chosen: dict[tuple[object, ...], tuple[AudiencePreview, Member | Channel | None]] = {}
    for channel in found.channels:
        key = ("channel", channel.id)
        if key not in groups:
            members = len(await ctx.repo.channels.member_ids(channel.id))
            groups[key] = AudiencePreview(
                f"#{channel.name}", zone_of(ctx, channel), ctx.locale_of(channel=channel), members
            )
        chosen[key] = (groups[key], channel)
    people: dict[tuple[str, str], list[Member]] = {}
    for member in found.members:
        people.setdefault((zone_of(ctx, member), ctx.locale_of(member)), []).append(member)
    for (zone, language), group_members in sorted(people.items()):
        key = ("people", step.kind == "snippet", zone, language)
        label_key = "campaign.preview.leaders" if step.kind == "snippet" else "campaign.preview.people"
        if key not in groups:
            groups[key] = AudiencePreview(
                ctx.t(viewer, label_key, count=len(group_members), timezone=zone, language=language),
                zone,
                language,
                len(group_members),
            )
        chosen[key] = (groups[key], group_members[0])
    return list(chosen.values())


async def _describe(
    ctx: JobContext,
    firing: steps.Firing,
    group: AudiencePreview,
    example: Member | Channel | None,
    index: int,
) -> str:
    step = firing.step
    locale = group.locale
    if step.kind in ("message", "snippet"):
        member = example if isinstance(example, Member) else None
        return steps.message_for(ctx, firing, locale, member).plain_text
    if step.kind == "story":
        title = await _story_title(ctx, firing, example, index)
        return ctx.t(
            locale, "campaign.preview.story", title=title or ctx.t(locale, "campaign.preview.no_story")
        )
    if step.kind == "pulse":
        options = step.pulse
        minutes = options.minutes if options else 7 * 24 * 60
        baseline = bool(
            options and (options.baseline is True or (options.baseline == "first" and index == 0))
        )
        return ctx.t(
            locale,
            "campaign.preview.pulse",
            name=(options.name if options and options.name else firing.campaign.name),
            days=_days(minutes),
            people=group.size,
            baseline=baseline,
        )
    ritual = step.ritual
    meetings = list(await ctx.repo.ritual.meetings())
    if ritual is not None and ritual.meetings != "all":
        wanted = {name.casefold() for name in ritual.meetings}
        meetings = [meeting for meeting in meetings if meeting.name.casefold() in wanted]
    days = _days(duration_minutes(ritual.duration)) if ritual and ritual.duration else None
    return ctx.t(locale, "campaign.preview.ritual", meetings=len(meetings), days=days)


def _days(minutes: int) -> float | int:
    days = round(minutes / (24 * 60), 1)
    return int(days) if days == int(days) else days


async def _story_title(
    ctx: JobContext, firing: steps.Firing, example: Member | Channel | None, index: int
) -> str | None:
    if isinstance(example, Member):
        if firing.step.story:
            story = await steps.story_for_member(ctx, firing, example)
            return story.title if story else None
        approved = list(await ctx.repo.stories.approved(ctx.locale_of(example)))
        if not approved:
            return None
        done = await ctx.repo.campaigns.count_member_sends(firing.campaign.id, "story", example.id)
        return approved[(done + index) % len(approved)].title
    if isinstance(example, Channel):
        if firing.step.story:
            story = await steps.story_for_channel(ctx, firing, example)
            return story.title if story else None
        if index == 0:
            story = await next_story(ctx, example)
            return story.title if story else None
        return ctx.t(ctx.locale_of(channel=example), "campaign.preview.next_story")
    return None


async def _journeys(
    ctx: JobContext, campaign: Campaign, spec: CampaignSpec, viewer: str, count: int
) -> AudiencePreview | None:
    journey = [step for step in spec.steps if step.cadence.relative]
    if not journey:
        return None
    rows = (list(await ctx.repo.campaigns.journey_steps(campaign.id, ["planned"])) if campaign.id else [])[
        :count
    ]
    joiners = await ctx.repo.campaigns.joiners(campaign.id) if campaign.id else 0
    group = AudiencePreview(
        ctx.t(viewer, "campaign.preview.joiners", count=joiners), spec.timezone, viewer, joiners
    )
    kinds = {step.key: step.kind for step in journey}
    for row in rows:
        member = await ctx.repo.members.get(row.member_id)
        if member is None:
            continue
        what = ctx.t(viewer, f"campaign.kinds.{kinds.get(row.step_key, 'message')}")
        group.sends.append(
            PreviewSend(
                row.due_at,
                zone_of(ctx, member),
                row.step_key,
                kinds.get(row.step_key, ""),
                f"{member.name}: {what}",
            )
        )
    if not group.sends:
        for step in journey:
            assert step.cadence.after is not None
            text = ctx.t(
                viewer,
                "campaign.preview.journey_step",
                days=offset_days(step.cadence.after),
                time=step.cadence.time,
                kind=ctx.t(viewer, f"campaign.kinds.{step.kind}"),
            )
            group.sends.append(PreviewSend(None, spec.timezone, step.key, step.kind, text))
    return group
