"""How campaigns look in chat: the summary card, the preview, the figures, the list."""

from __future__ import annotations

from bot.context import JobContext
from bot.messages import Block, Button, Buttons, Choice, Message, Option, Text
from bot.messages import Context as Footer
from handlers.campaigns.cadence import Cadence
from handlers.campaigns.calendar import campaign_window
from handlers.campaigns.preview import AudiencePreview
from handlers.campaigns.spec import AudienceSpec, CampaignSpec, StepSpec
from handlers.campaigns.stats import CampaignStats
from handlers.ritual_schedule import format_moment
from storage.models.campaigns import Campaign

MAX_TEXT = 160


def _days(ctx: JobContext, locale: str, days: list[str]) -> str:
    names = ctx.services.catalog.choices(locale, "campaign.weekdays")
    order = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    return ", ".join(names[order.index(day)] for day in days)


def cadence_text(ctx: JobContext, locale: str, cadence: Cadence) -> str:
    if cadence.weekly is not None:
        return ctx.t(
            locale,
            "campaign.cadence.weekly",
            days=_days(ctx, locale, cadence.weekly),
            time=cadence.time,
            every=cadence.every,
        )
    if isinstance(cadence.monthly, str):
        number, weekday = int(cadence.monthly[:-2]), cadence.monthly[-2:]
        nth = ctx.services.catalog.choices(locale, "campaign.ordinals")[number - 1 if number > 0 else 5]
        return ctx.t(
            locale,
            "campaign.cadence.monthly_weekday",
            nth=nth,
            day=_days(ctx, locale, [weekday]),
            time=cadence.time,
            every=cadence.every,
        )
    if cadence.monthly is not None:
        return ctx.t(
            locale,
            "campaign.cadence.monthly",
            day=str(cadence.monthly),
            time=cadence.time,
            every=cadence.every,
        )
    if cadence.after is not None:
        return ctx.t(locale, "campaign.cadence.after", days=int(cadence.after.rstrip("d")), time=cadence.time)
    return ctx.t(locale, "campaign.cadence.rrule", rule=cadence.rrule or "")


def audience_text(ctx: JobContext, locale: str, audience: AudienceSpec) -> str:
    names = ", ".join(audience.names)
    return ctx.t(locale, f"campaign.audience.{audience.kind}", names=names)


def step_line(ctx: JobContext, locale: str, spec: CampaignSpec, step: StepSpec, number: int) -> str:
    audience = f" · {audience_text(ctx, locale, step.audience)}" if step.audience is not None else ""
    return (
        ctx.t(
            locale,
            "campaign.card.step",
            number=number,
            slug=step.key,
            kind=ctx.t(locale, f"campaign.kinds.{step.kind}"),
            cadence=cadence_text(ctx, locale, step.cadence),
        )
        + audience
    )


def summary(
    ctx: JobContext,
    locale: str,
    campaign: Campaign,
    spec: CampaignSpec,
    *,
    owner: str = "",
    buttons: bool = True,
) -> Message:
    """The campaign at a glance (with its owner's name), with what a CX manager can do next."""
    starts, ends = campaign_window(spec)
    holidays = (
        ctx.t(
            locale,
            "campaign.card.holidays",
            country=spec.holidays.country
            + (f"-{spec.holidays.subdivision}" if spec.holidays.subdivision else ""),
            policy=ctx.t(locale, f"campaign.on_holiday.{spec.holidays.on_holiday}"),
        )
        if spec.holidays.country
        else ctx.t(locale, "campaign.card.no_holidays")
    )
    lines = [
        ctx.t(
            locale,
            "campaign.card.title",
            name=spec.name,
            slug=spec.key,
            status=ctx.t(locale, f"campaign.status.{campaign.status}"),
        ),
        ctx.t(
            locale,
            "campaign.card.frame",
            audience=audience_text(ctx, locale, spec.audience),
            timezone=spec.timezone,
            starts=format_moment(ctx, locale, starts, spec.timezone),
            ends=format_moment(ctx, locale, ends, spec.timezone) if ends else "—",
            days=_days(ctx, locale, spec.working_days),
            quiet=spec.quiet_hours or "—",
            holidays=holidays,
        ),
    ]
    if owner:
        lines.insert(1, ctx.t(locale, "campaign.card.owner", name=owner))
    if spec.goal:
        lines.insert(1, ctx.t(locale, "campaign.card.goal", goal=spec.goal))
    steps = [step_line(ctx, locale, spec, step, number) for number, step in enumerate(spec.steps, start=1)]
    lines.append(
        ctx.t(locale, "campaign.card.steps") + "\n" + "\n".join(steps)
        if steps
        else ctx.t(locale, "campaign.card.no_steps")
    )
    blocks: list[Block] = [Text(text="\n\n".join(lines))]
    if buttons and campaign.status != "archived":
        blocks.extend(_actions(ctx, locale, campaign, spec))
    return Message(blocks=tuple(blocks), key="campaign.card.title")


def _actions(ctx: JobContext, locale: str, campaign: Campaign, spec: CampaignSpec) -> list[Block]:
    payload = {"campaign": campaign.id}

    def button(action: str, label: str, style: str = "default") -> Button:
        return Button(label=ctx.t(locale, label), action=action, payload=payload, style=style)

    row = [
        button("campaign.add_step", "campaign.button.add_step"),
        button("campaign.edit_basics", "campaign.button.edit"),
    ]
    if spec.steps:
        row.append(button("campaign.preview", "campaign.button.preview"))
    if campaign.status == "draft" and spec.steps:
        row.append(button("campaign.activate", "campaign.button.activate", "primary"))
    elif campaign.status == "active":
        row.append(button("campaign.pause", "campaign.button.pause"))
    elif campaign.status == "paused":
        row.append(button("campaign.resume", "campaign.button.resume", "primary"))
    label = "campaign.button.discard" if campaign.status == "draft" else "campaign.button.archive"
    row.append(button("campaign.archive", label, "danger"))
    blocks: list[Block] = [Buttons(buttons=tuple(row))]
    if spec.steps:
        blocks.append(
            Choice(
                action="campaign.remove_step",
                label=ctx.t(locale, "campaign.button.remove_step"),
                options=tuple(
                    Option(label=step.key, payload={"campaign": campaign.id, "step": step.key})
                    for step in spec.steps
                ),
            )
        )
    return blocks


def preview_message(
    ctx: JobContext, locale: str, campaign: Campaign, groups: list[AudiencePreview], count: int
) -> Message:
    parts = [ctx.t(locale, "campaign.preview.title", name=campaign.name, count=count)]
    if not groups:
        parts.append(ctx.t(locale, "campaign.preview.nothing"))
    for group in groups:
        lines = [f"**{group.label}**"]
        for send in group.sends:
            when = format_moment(ctx, locale, send.at, send.timezone) if send.at else "—"
            text = " ".join(send.text.split())
            text = text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
            lines.append(f"- {when} · `{send.step_key}` · {text}")
        parts.append("\n".join(lines))
    footer = Footer(text=ctx.t(locale, "campaign.preview.footer"))
    return Message(blocks=(Text(text="\n\n".join(parts)), footer), key="campaign.preview.title")


def _signed(value: int | None) -> str:
    return "—" if value is None else f"{value:+d}"


def stats_message(ctx: JobContext, locale: str, stats: CampaignStats) -> Message:
    lines = [
        ctx.t(
            locale,
            "campaign.stats.title",
            name=stats.name,
            status=ctx.t(locale, f"campaign.status.{stats.status}"),
        ),
        ctx.t(
            locale,
            "campaign.stats.reach",
            sends=stats.sends,
            failed=stats.failed,
            delivered=stats.delivered,
            reached=stats.reached,
            people=stats.people,
        ),
        ctx.t(
            locale,
            "campaign.stats.engagement",
            rate="—" if stats.engagement is None else f"{stats.engagement}%",
            replies=stats.story_replies,
            reactions=stats.story_reactions,
            snippets=stats.snippets_posted,
            responded=stats.pulse_responded,
            invited=stats.pulse_invited,
        ),
    ]
    if stats.joiners:
        lines.append(
            ctx.t(
                locale,
                "campaign.stats.joiners",
                joiners=stats.joiners,
                planned=stats.journey.get("planned", 0),
                sent=stats.journey.get("sent", 0),
                waiting=stats.journey.get("waiting", 0),
            )
        )
    for figures in stats.rounds:
        if figures.responded is None:
            lines.append(
                ctx.t(locale, "campaign.stats.round_open", name=figures.name, invited=figures.invited)
            )
            continue
        line = ctx.t(
            locale,
            "campaign.stats.round",
            name=figures.name,
            baseline=figures.baseline,
            enps=_signed(figures.enps),
            rate="—" if figures.response_rate is None else f"{figures.response_rate}%",
        )
        if figures.baseline_name is not None:
            line += " " + ctx.t(
                locale,
                "campaign.stats.versus",
                change=_signed(figures.enps_change),
                baseline=figures.baseline_name,
            )
        lines.append(line)
    for step in stats.steps:
        lines.append(
            ctx.t(
                locale,
                "campaign.stats.step",
                slug=step.step_key,
                sends=step.sends,
                reach=step.reach,
                failed=step.failed,
            )
        )
    return Message(blocks=(Text(text="\n".join(lines)),), key="campaign.stats.title")


def list_message(ctx: JobContext, locale: str, campaigns: list[tuple[Campaign, str]]) -> Message:
    if not campaigns:
        return Message.text(ctx.t(locale, "campaign.list.none"), key="campaign.list.none")
    lines = [ctx.t(locale, "campaign.list.title")]
    for campaign, next_send in campaigns:
        lines.append(
            ctx.t(
                locale,
                "campaign.list.line",
                slug=campaign.key,
                name=campaign.name,
                status=ctx.t(locale, f"campaign.status.{campaign.status}"),
                next=next_send,
            )
        )
    return Message(blocks=(Text(text="\n".join(lines)),), key="campaign.list.title")
