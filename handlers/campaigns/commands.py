"""What CX managers (and admins) say in chat: build a campaign with a guided form or from a template,
edit it, preview its next sends, pause, resume, archive, and read its figures. Everyone else is refused
politely by the router (every route here requires the ``cx_manager`` role)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.commands import ParsedCommand
from bot.context import Context
from bot.errors import InvalidInput, NotFound
from handlers.campaigns import forms, manage, service, step_form, templates, views
from handlers.campaigns.cadence import parse_moment
from handlers.campaigns.calendar import next_send
from handlers.campaigns.preview import preview
from handlers.campaigns.problems import SpecInvalid
from handlers.campaigns.routes import router
from handlers.campaigns.spec import CampaignSpec, validate
from handlers.campaigns.stats import campaign_stats
from handlers.ritual_schedule import format_moment
from handlers.story_files import slugify
from storage.models import Role
from storage.models.campaigns import Campaign

PREVIEW_DEFAULT = 5


async def _campaign(ctx: Context, reference: object) -> Campaign:
    text = str(reference or "").strip()
    campaign = await ctx.repo.campaigns.by_key(text) if text else None
    if campaign is None and text.lstrip("#").isdigit():
        campaign = await ctx.repo.campaigns.get(int(text.lstrip("#")))
    if campaign is None:
        raise NotFound("campaign.error.unknown_campaign", given=text or "—")
    return campaign


async def _from_command(ctx: Context, command: ParsedCommand) -> Campaign:
    if not command.args:
        raise InvalidInput("campaign.error.which_campaign")
    return await _campaign(ctx, command.args[0])


async def _from_click(ctx: Context, payload: dict[str, Any]) -> Campaign:
    campaign = await ctx.repo.campaigns.get(int(str(payload.get("campaign") or 0)))
    if campaign is None:
        raise NotFound("campaign.error.unknown_campaign", given=str(payload.get("campaign")))
    return campaign


async def _owner_name(ctx: Context, campaign: Campaign) -> str:
    owner = await ctx.repo.members.get(campaign.owner_member_id) if campaign.owner_member_id else None
    return owner.name if owner is not None else ""


async def _show(ctx: Context, campaign: Campaign) -> None:
    summary = views.summary(
        ctx, ctx.locale, campaign, service.spec_of(campaign), owner=await _owner_name(ctx, campaign)
    )
    await ctx.reply(summary, ephemeral=True)


def _start(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return parse_moment(text)[0]
    except ValueError:
        raise InvalidInput("campaign.error.moment", given=text) from None


# --- Listing and creating ------------------------------------------------------------------------------------
@router.command("campaigns", role=Role.cx_manager, help_key="campaign.help.list")
async def list_campaigns(ctx: Context, command: ParsedCommand) -> None:
    shown = []
    for campaign in await ctx.repo.campaigns.all(["draft", "active", "paused", "ended"]):
        upcoming = [
            schedule.next_fire_at
            for schedule in await ctx.repo.campaigns.schedules(campaign.id)
            if schedule.enabled and schedule.next_fire_at is not None
        ]
        moment = (
            format_moment(ctx, ctx.locale, min(upcoming), ctx.timezone_of(ctx.member)) if upcoming else "—"
        )
        shown.append((campaign, moment))
    await ctx.reply(views.list_message(ctx, ctx.locale, shown), ephemeral=True)


router.command("campaign list", role=Role.cx_manager)(list_campaigns)


@router.command("campaign new", role=Role.cx_manager, help_key="campaign.help.new")
async def new_campaign(ctx: Context, command: ParsedCommand) -> None:
    template = command.options.get("template") or command.options.get("sjabloon")
    if template:
        spec = templates.load(
            template,
            ctx.now(),
            ctx.settings.default_timezone,
            _start(command.options.get("starts") or command.options.get("start")),
            ctx.settings.public_holidays,
        )
        await _save(ctx, spec, None)
        return
    values = forms.basics_values(None, ctx, owner=ctx.member.name)
    await ctx.reply(forms.basics_form(ctx, values, {}, None, templates.names()), ephemeral=True)


@router.form(forms.BASICS, role=Role.cx_manager)
async def submit_basics(ctx: Context, submission: Any) -> None:
    fields = {name: str(submission.fields.get(name, ""))[:3000] for name in forms.BASIC_FIELDS}
    campaign_id = submission.value.get("campaign")
    existing = await _from_click(ctx, submission.value) if campaign_id else None
    template = fields.get("template", "none")
    if existing is not None:
        base = dict(existing.spec)
    elif template and template != "none":
        try:
            base = templates.load(
                template,
                ctx.now(),
                ctx.settings.default_timezone,
                _start(fields.get("starts")),
                ctx.settings.public_holidays,
            ).canonical()
        except SpecInvalid as invalid:
            await _basics_again(ctx, fields, invalid, None)
            return
    else:
        base = {}
    if existing is None and template and template != "none":
        # A template brings its own plan: only its name and key are taken from the form (the start, above).
        data = {
            **base,
            **{name: fields[name].strip() for name in ("name", "key") if fields.get(name, "").strip()},
        }
    else:
        data = forms.basics_data(fields, base)
    if existing is None and not data.get("key") and data.get("name"):
        data["key"] = slugify(str(data["name"]))[:60]
    try:
        spec = validate(data)
        await _save(ctx, spec, existing)
    except SpecInvalid as invalid:
        await _basics_again(ctx, fields, invalid, existing.id if existing else None)


async def _basics_again(
    ctx: Context, fields: dict[str, str], invalid: SpecInvalid, campaign_id: int | None
) -> None:
    errors = forms.basics_errors(ctx, invalid.problems)
    await ctx.reply(forms.basics_form(ctx, fields, errors, campaign_id, templates.names()), ephemeral=True)


async def _save(ctx: Context, spec: CampaignSpec, existing: Campaign | None) -> Campaign:
    """A new campaign or a draft stays a draft; a running campaign takes the change at once."""
    campaign = await manage.save(ctx, spec, ctx.member, existing)
    await _show(ctx, campaign)
    return campaign


# --- Steps ------------------------------------------------------------------------------------------------------
@router.button("campaign.add_step", role=Role.cx_manager)
async def add_step(ctx: Context, click: Any) -> None:
    campaign = await _from_click(ctx, click.value)
    await ctx.reply(step_form.step_form(ctx, step_form.step_values(None), {}, campaign.id), ephemeral=True)


@router.form(step_form.STEP, role=Role.cx_manager)
async def submit_step(ctx: Context, submission: Any) -> None:
    campaign = await _from_click(ctx, submission.value)
    fields = {name: str(submission.fields.get(name, ""))[:3000] for name in step_form.STEP_FIELDS}
    data = dict(campaign.spec)
    taken = {str(step["key"]) for step in data.get("steps", [])}
    kind = fields.get("kind") or "story"
    number = len(taken) + 1
    while f"{kind}-{number}" in taken:
        number += 1
    data["steps"] = [*data.get("steps", []), step_form.step_data(fields, f"{kind}-{number}")]
    try:
        await _save(ctx, validate(data), campaign)
    except SpecInvalid as invalid:
        errors = step_form.step_errors(ctx, invalid.problems, len(data["steps"]) - 1)
        await ctx.reply(step_form.step_form(ctx, fields, errors, campaign.id), ephemeral=True)


@router.action("campaign.remove_step", role=Role.cx_manager)
async def remove_step(ctx: Context, click: Any) -> None:
    campaign = await _from_click(ctx, click.value)
    data = dict(campaign.spec)
    kept = [step for step in data.get("steps", []) if step["key"] != click.value.get("step")]
    if len(kept) == len(data.get("steps", [])):
        raise NotFound("campaign.error.unknown_step", given=str(click.value.get("step")))
    if not kept and campaign.status != "draft":
        raise InvalidInput("campaign.error.last_step")
    await _save(ctx, validate({**data, "steps": kept}), campaign)


@router.button("campaign.edit_basics", role=Role.cx_manager)
async def edit_basics(ctx: Context, click: Any) -> None:
    campaign = await _from_click(ctx, click.value)
    values = forms.basics_values(service.spec_of(campaign), ctx, await _owner_name(ctx, campaign))
    await ctx.reply(forms.basics_form(ctx, values, {}, campaign.id, templates.names()), ephemeral=True)


@router.command("campaign edit", role=Role.cx_manager, help_key="campaign.help.edit")
async def edit_campaign(ctx: Context, command: ParsedCommand) -> None:
    await _show(ctx, await _from_command(ctx, command))


router.command("campaign show", role=Role.cx_manager)(edit_campaign)


# --- Preview, lifecycle, figures ---------------------------------------------------------------------------------
async def _preview(ctx: Context, campaign: Campaign, count: int) -> None:
    groups = await preview(ctx, campaign, count, ctx.locale)
    await ctx.reply(views.preview_message(ctx, ctx.locale, campaign, groups, count), ephemeral=True)


@router.command("campaign preview", role=Role.cx_manager, help_key="campaign.help.preview")
async def preview_command(ctx: Context, command: ParsedCommand) -> None:
    campaign = await _from_command(ctx, command)
    count = PREVIEW_DEFAULT
    if len(command.args) > 1:
        if not command.args[1].isdigit() or not 1 <= int(command.args[1]) <= 50:
            raise InvalidInput("campaign.error.preview_count", given=command.args[1])
        count = int(command.args[1])
    await _preview(ctx, campaign, count)


@router.button("campaign.preview", role=Role.cx_manager)
async def preview_button(ctx: Context, click: Any) -> None:
    await _preview(ctx, await _from_click(ctx, click.value), PREVIEW_DEFAULT)


async def _activate(ctx: Context, campaign: Campaign) -> None:
    if campaign.status != "draft":
        await _show(ctx, campaign)
        return
    result = await service.apply_campaign(ctx, service.spec_of(campaign), ctx.member)
    assert result.campaign is not None
    await ctx.reply(ctx.message("campaign.activated", name=campaign.name, next=_next(ctx, result.campaign)))
    await _show(ctx, result.campaign)


def _next(ctx: Context, campaign: Campaign) -> str:
    spec = service.spec_of(campaign)
    found = [
        send.at
        for step in spec.steps
        if not step.cadence.relative
        for send in [next_send(spec, step, spec.timezone, ctx.now(), inclusive=True)]
        if send is not None
    ]
    return format_moment(ctx, ctx.locale, min(found), spec.timezone) if found else "—"


@router.command("campaign activate", role=Role.cx_manager, help_key="campaign.help.activate")
async def activate_command(ctx: Context, command: ParsedCommand) -> None:
    await _activate(ctx, await _from_command(ctx, command))


@router.button("campaign.activate", role=Role.cx_manager)
async def activate_button(ctx: Context, click: Any) -> None:
    await _activate(ctx, await _from_click(ctx, click.value))


async def _lifecycle(ctx: Context, campaign: Campaign, action: manage.StateChange) -> None:
    name = campaign.name
    outcome = await manage.change_state(ctx, campaign, action, ctx.member)
    await ctx.reply(ctx.message(outcome, name=name))


for _action in ("pause", "resume", "archive"):

    def _bind(action: manage.StateChange) -> None:
        @router.command(f"campaign {action}", role=Role.cx_manager, help_key=f"campaign.help.{action}")
        async def lifecycle_command(ctx: Context, command: ParsedCommand) -> None:
            await _lifecycle(ctx, await _from_command(ctx, command), action)

        @router.button(f"campaign.{action}", role=Role.cx_manager)
        async def lifecycle_button(ctx: Context, click: Any) -> None:
            await _lifecycle(ctx, await _from_click(ctx, click.value), action)

    _bind(_action)


@router.command("campaign stats", role=Role.cx_manager, help_key="campaign.help.stats")
async def stats_command(ctx: Context, command: ParsedCommand) -> None:
    campaign = await _from_command(ctx, command)
    stats = await campaign_stats(ctx, campaign, ctx.member)
    await ctx.reply(views.stats_message(ctx, ctx.locale, stats), ephemeral=True)
