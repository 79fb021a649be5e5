"""Who a campaign step reaches, where, and in which time zones.

Stories and messages to ``channels`` are posted in those channels; to everyone or departments they go
by direct message. Leader nudges go to the leaders within the audience. Every recipient lives in a time
zone (a member's own, a channel's, or the organisation's), and a step's cadence is kept in each one:
"Monday 09:00" is nine o'clock for everybody. Pulse rounds and the ritual are organisation-wide moments
and follow the campaign's own time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.context import JobContext
from handlers.campaigns.problems import Path, Problem
from handlers.campaigns.spec import AudienceSpec, CampaignSpec, StepSpec
from handlers.pulses.library import all_questions
from storage.models import Channel, Member, Role

ORGANISATION_WIDE = ("pulse", "ritual")


@dataclass
class Recipients:
    members: list[Member] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.members) + len(self.channels)


async def _members(ctx: JobContext, audience: AudienceSpec) -> list[Member]:
    everyone = list(await ctx.repo.members.active())
    if audience.kind == "everyone":
        return everyone
    if audience.kind == "departments":
        wanted = {name.casefold() for name in audience.names}
        return [m for m in everyone if m.department_name and m.department_name.casefold() in wanted]
    if audience.kind == "channels":
        ids: set[int] = set()
        for channel in await _channels(ctx, audience):
            ids.update(await ctx.repo.channels.member_ids(channel.id))
        return [member for member in everyone if member.id in ids]
    return []


async def _channels(ctx: JobContext, audience: AudienceSpec) -> list[Channel]:
    found = []
    for name in audience.names:
        channel = await ctx.repo.channels.by_name(name)
        if channel is not None:
            found.append(channel)
    return found


async def recipients(ctx: JobContext, spec: CampaignSpec, step: StepSpec) -> Recipients:
    """Everyone a recurring ``step`` reaches now (journeys are per joiner; pulses and rituals are not sends)."""
    audience = spec.audience_of(step)
    if step.kind == "snippet":
        leaders = [member for member in await _members(ctx, audience) if Role.leader in member.role_names]
        return Recipients(members=leaders)
    if step.kind in ("story", "message"):
        if audience.kind == "channels":
            return Recipients(channels=await _channels(ctx, audience))
        return Recipients(members=await _members(ctx, audience))
    return Recipients()


async def audience_size(ctx: JobContext, spec: CampaignSpec, step: StepSpec) -> int:
    return len(await _members(ctx, spec.audience_of(step)))


def zone_of(ctx: JobContext, target: Member | Channel) -> str:
    if isinstance(target, Member):
        return ctx.timezone_of(target)
    return ctx.timezone_of(channel=target)


async def zones(ctx: JobContext, spec: CampaignSpec, step: StepSpec) -> list[str]:
    """The time zones a recurring step fires in: one per zone its recipients live in."""
    if step.kind in ORGANISATION_WIDE:
        return [spec.timezone]
    found = await recipients(ctx, spec, step)
    targets: list[Member | Channel] = [*found.members, *found.channels]
    return sorted({zone_of(ctx, target) for target in targets})


def in_zone(ctx: JobContext, found: Recipients, timezone: str) -> Recipients:
    return Recipients(
        members=[member for member in found.members if zone_of(ctx, member) == timezone],
        channels=[channel for channel in found.channels if zone_of(ctx, channel) == timezone],
    )


# --- References that must exist -------------------------------------------------------------------------------
async def check_references(ctx: JobContext, spec: CampaignSpec) -> list[Problem]:
    """Departments, channels, owner, stories, meetings and pulse questions the spec names must exist."""
    problems: list[Problem] = []
    departments = {department.name.casefold() for department in await ctx.repo.members.departments()}

    async def audience(value: AudienceSpec, path: Path) -> None:
        for name in value.names:
            if value.kind == "departments" and name.casefold() not in departments:
                problems.append(Problem(path, "campaign.error.unknown_department", {"given": name}))
            if value.kind == "channels" and await ctx.repo.channels.by_name(name) is None:
                problems.append(Problem(path, "campaign.error.unknown_channel", {"given": name}))

    if not spec.steps:
        problems.append(Problem(("steps",), "campaign.error.no_steps"))
    await audience(spec.audience, ("audience",))
    if spec.owner and await ctx.repo.members.find(spec.owner) is None:
        problems.append(Problem(("owner",), "campaign.error.unknown_member", {"given": spec.owner}))
    meetings = {meeting.name.casefold() for meeting in await ctx.repo.ritual.meetings()}
    questions = await all_questions(ctx.repo.pulses)
    for index, step in enumerate(spec.steps):
        if step.audience is not None:
            await audience(step.audience, ("steps", index, "audience"))
        if step.story and await ctx.repo.stories.find(step.story, ctx.settings.default_locale) is None:
            problems.append(
                Problem(("steps", index, "story"), "campaign.error.unknown_story", {"given": step.story})
            )
        if step.ritual is not None and step.ritual.meetings != "all":
            for name in step.ritual.meetings:
                if name.casefold() not in meetings:
                    problems.append(
                        Problem(
                            ("steps", index, "ritual", "meetings"),
                            "campaign.error.unknown_meeting",
                            {"given": name},
                        )
                    )
        if step.pulse is not None:
            unknown = [question for question in step.pulse.questions if question not in questions]
            if unknown:
                problems.append(
                    Problem(
                        ("steps", index, "pulse", "questions"),
                        "campaign.error.unknown_question",
                        {"given": ", ".join(unknown)},
                    )
                )
    return problems
