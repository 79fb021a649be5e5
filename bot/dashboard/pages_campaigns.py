"""Campaigns: the list; a form for the whole definition to create or edit one, from scratch or a template;
its preview (the campaigns feature's own: each audience's next sends in their time zone, after working days,
holidays and quiet hours); start, pause, resume and archive.

Everything is done by the campaigns feature itself (`handlers.campaigns`: `validate`, `manage.save`,
`manage.change_state`, `preview`), so its rules and audit entries are the same as in the chat and on the
command line. CX managers and admins only; every form carries the session's CSRF token.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.context import JobContext
from bot.dashboard.acting import DashboardContext, Outcome, act, done, reading
from bot.dashboard.auth import Manager, ManagerAction, Viewer
from bot.dashboard.campaign_choices import choices, preview_groups
from bot.dashboard.campaign_data import place, to_data
from bot.dashboard.campaign_form import CampaignForm, from_spec, new_form, read
from bot.dashboard.routes import page
from bot.errors import InvalidInput, KlantpetError, NotFound
from bot.messages import Text
from handlers.campaigns import Problem, SpecInvalid, campaign_stats, manage, spec_of, templates, validate
from handlers.campaigns.audience import check_references
from handlers.campaigns.preview import transient
from handlers.campaigns.views import stats_message
from storage.models import Role
from storage.models.campaigns import Campaign

ORDER = 20
NAV = [("dashboard.nav.campaigns", "/admin/campaigns", Role.cx_manager)]
SAVES = {"draft": False, "start": True, "save": False}


def _owner_ref(campaign: Campaign | None) -> str:
    return f"#{campaign.owner_member_id}" if campaign is not None and campaign.owner_member_id else ""


async def _render(
    request: Request,
    viewer: Viewer,
    form: CampaignForm,
    campaign: Campaign | None,
    *,
    status: int = 200,
    preview: list[dict[str, Any]] | None = None,
    problem: str | None = None,
    figures: str | None = None,
) -> Response:
    async with reading(request.app.state.services) as ctx:
        options = await choices(ctx, viewer.locale, form, campaign)
    return page(
        request,
        viewer,
        "campaign_form.html",
        status=status,
        form=form,
        campaign=campaign,
        preview=preview,
        problem=problem,
        figures=figures,
        templates=templates.names(),
        **options,
    )


async def _campaign(ctx: JobContext, campaign_id: int | None, *, known: bool = True) -> Campaign | None:
    """The campaign being edited (None for a new one); an unknown id raises `NotFound` unless ``known`` is
    False (a page that only shows the form then treats it as new)."""
    found = await ctx.repo.campaigns.get(campaign_id) if campaign_id is not None else None
    if found is None and campaign_id is not None and known:
        raise NotFound("campaign.error.unknown_campaign", given=str(campaign_id))
    return found


def _words(ctx: JobContext, locale: str) -> Any:
    def text(problem: Problem) -> str:
        return ctx.t(locale, problem.key, **problem.params)

    return text


async def _checked(
    ctx: JobContext, viewer: Viewer, form: CampaignForm, campaign: Campaign | None, *, references: bool
) -> Any:
    """The form's definition, or None with every problem placed next to its field."""
    data = to_data(form)
    if campaign is not None:
        data["key"] = campaign.key
        if form.values["owner"] == _owner_ref(campaign):
            data["owner"] = spec_of(campaign).owner  # the same owner: keep how the definition names them
    try:
        spec = validate(data)
    except SpecInvalid as invalid:
        problems = invalid.problems
        if not form.values["name"] and not form.values["key"]:
            problems = [problem for problem in problems if problem.path != ("key",)]
        place(form, problems, _words(ctx, viewer.locale))
        return None
    if references:
        found = [p for p in await check_references(ctx, spec) if p.key != "campaign.error.no_steps"]
        if found:
            place(form, found, _words(ctx, viewer.locale))
            return None
    return spec


async def _preview(request: Request, viewer: Viewer, form: CampaignForm, campaign_id: int | None) -> Response:
    async with reading(request.app.state.services) as ctx:
        campaign = await _campaign(ctx, campaign_id, known=False)
        spec = await _checked(ctx, viewer, form, campaign, references=True)
        groups = None
        if spec is not None:
            groups = await preview_groups(ctx, viewer.locale, campaign or transient(spec), spec)
    return await _render(request, viewer, form, campaign, status=422 if spec is None else 200, preview=groups)


async def _save(request: Request, viewer: Viewer, campaign_id: int | None) -> Response:
    posted = await request.form()
    form = read({name: [str(value) for value in posted.getlist(name)] for name in posted})
    wanted = str(posted.get("do", "save"))
    if wanted == "more":
        form.add_rows()
        async with reading(request.app.state.services) as ctx:
            campaign = await _campaign(ctx, campaign_id, known=False)
        return await _render(request, viewer, form, campaign)
    if wanted == "preview":
        return await _preview(request, viewer, form, campaign_id)
    problems: list[Problem] = []

    async def work(ctx: DashboardContext) -> str:
        campaign = await _campaign(ctx, campaign_id)
        spec = await _checked(ctx, viewer, form, campaign, references=False)
        if spec is None:
            raise InvalidInput("dashboard.campaigns.fix_form")
        try:
            saved = await manage.save(ctx, spec, ctx.member, campaign, start=SAVES.get(wanted, False))
        except SpecInvalid as invalid:
            problems.extend(invalid.problems)
            raise
        key = "dashboard.campaigns.started" if saved.status == "active" and wanted == "start" else ""
        return ctx.t(key or f"dashboard.campaigns.saved_{saved.status}", name=saved.name)

    outcome = await act(request.app.state.services, viewer, work)
    if outcome.ok:
        return done(request, "/admin/campaigns", Outcome(True, str(outcome.value)))
    async with reading(request.app.state.services) as ctx:
        campaign = await _campaign(ctx, campaign_id, known=False)
        if problems:
            to_data(form)  # which row each step came from, to place the problems
            place(form, problems, _words(ctx, viewer.locale))
        elif outcome.field:
            form.errors[outcome.field] = outcome.notice
    notice = None if problems or outcome.field or form.errors else outcome.notice
    return await _render(request, viewer, form, campaign, status=422, problem=notice)


def register(routes: APIRouter) -> None:
    @routes.get("/campaigns", response_class=HTMLResponse)
    async def campaigns(request: Request, viewer: Manager) -> Response:
        async with reading(request.app.state.services) as ctx:
            rows = await manage.overview(ctx)
        return page(request, viewer, "campaigns.html", rows=rows)

    @routes.get("/campaigns/new", response_class=HTMLResponse)
    async def new(request: Request, viewer: Manager, template: str | None = None) -> Response:
        services = request.app.state.services
        zone = viewer.member.timezone or services.settings.default_timezone
        today = services.clock.now().astimezone(ZoneInfo(zone)).date()
        form = new_form(zone, today, f"#{viewer.member.id}", services.settings.public_holidays)
        if template:
            try:
                spec = templates.load(
                    template, services.clock.now(), zone, None, services.settings.public_holidays
                )
            except KlantpetError as error:
                message = services.catalog.t(viewer.locale, error.key, **error.params)
                return await _render(request, viewer, form, None, status=404, problem=message)
            form = from_spec(spec, f"#{viewer.member.id}")
        return await _render(request, viewer, form, None)

    @routes.post("/campaigns/preview", response_class=HTMLResponse)
    async def show_preview(request: Request, viewer: ManagerAction) -> Response:
        posted = await request.form()
        form = read({name: [str(value) for value in posted.getlist(name)] for name in posted})
        campaign_id = request.query_params.get("id")
        return await _preview(
            request, viewer, form, int(campaign_id) if campaign_id and campaign_id.isdigit() else None
        )

    @routes.post("/campaigns", response_class=HTMLResponse)
    async def create(request: Request, viewer: ManagerAction) -> Response:
        return await _save(request, viewer, None)

    @routes.get("/campaigns/{campaign_id}/edit", response_class=HTMLResponse)
    async def edit(request: Request, campaign_id: int, viewer: Manager) -> Response:
        async with reading(request.app.state.services) as ctx:
            campaign = await ctx.repo.campaigns.get(campaign_id)
            if campaign is not None:
                spec = spec_of(campaign)
                form = from_spec(spec, _owner_ref(campaign))
                groups = await preview_groups(ctx, viewer.locale, campaign, spec)
                figures = await _figures(ctx, viewer, campaign)
        if campaign is None:
            return done(request, "/admin/campaigns", Outcome(False, _unknown(request, viewer, campaign_id)))
        return await _render(request, viewer, form, campaign, preview=groups, figures=figures)

    @routes.get("/campaigns/{campaign_id:int}")
    async def show(request: Request, campaign_id: int, viewer: Manager) -> Response:
        """The campaign's own address (e.g. where the language switch returns to after a refused save)."""
        return RedirectResponse(f"/admin/campaigns/{campaign_id}/edit", status_code=303)

    @routes.post("/campaigns/{campaign_id}", response_class=HTMLResponse)
    async def update(request: Request, campaign_id: int, viewer: ManagerAction) -> Response:
        return await _save(request, viewer, campaign_id)

    @routes.post("/campaigns/{campaign_id}/state")
    async def change_state(request: Request, campaign_id: int, viewer: ManagerAction) -> Response:
        change = str((await request.form()).get("change", ""))

        async def work(ctx: DashboardContext) -> str:
            campaign = await _campaign(ctx, campaign_id)
            assert campaign is not None
            if change not in manage.STATE_CHANGES:
                raise InvalidInput("dashboard.campaigns.unknown_change")
            name = campaign.name
            outcome = await manage.change_state(ctx, campaign, change, ctx.member)
            return ctx.t(outcome, name=name, next="—")

        outcome = await act(request.app.state.services, viewer, work)
        notice = str(outcome.value) if outcome.ok else outcome.notice
        return done(request, "/admin/campaigns", Outcome(outcome.ok, notice))


async def _figures(ctx: JobContext, viewer: Viewer, campaign: Campaign) -> str | None:
    """What the campaign did so far, as in `campagne cijfers` (reading them is audited); none for a draft."""
    if campaign.status == "draft":
        return None
    stats = await campaign_stats(ctx, campaign, viewer.member)
    return "\n\n".join(
        block.text for block in stats_message(ctx, viewer.locale, stats).blocks if isinstance(block, Text)
    )


def _unknown(request: Request, viewer: Viewer, campaign_id: int) -> str:
    catalog = request.app.state.services.catalog
    return str(catalog.t(viewer.locale, "campaign.error.unknown_campaign", given=str(campaign_id)))
