"""``klantpet campaign …``: apply a campaign file or template (with a dry run), preview, pause, resume,
archive, export and read the figures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli import fail, load_settings, ready_services, run_async

if TYPE_CHECKING:
    from bot.context import JobContext
    from handlers.campaigns.problems import SpecInvalid
    from storage.models.campaigns import Campaign

campaign_app = typer.Typer(
    help="Campaigns: stories, pulses, rituals and messages on a schedule.", no_args_is_help=True
)
LOCALE = "en"


def register(app: typer.Typer) -> None:
    app.add_typer(campaign_app, name="campaign")


def _problems(ctx: JobContext, name: str, invalid: SpecInvalid) -> typer.Exit:
    for problem in invalid.problems:
        where = f"{name}:{problem.line}" if problem.line else name
        typer.echo(f"{where}: {problem.where}: {ctx.t(LOCALE, problem.key, **problem.params)}", err=True)
    return typer.Exit(1)


def _work[T](work: Callable[[JobContext], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction; expected errors become one clear line and exit code 1."""
    from bot.errors import KlantpetError

    settings = load_settings()

    async def run() -> T:
        async with ready_services(settings) as services, services.database.transaction() as session:
            ctx = services.job_context(session)
            try:
                return await work(ctx)
            except KlantpetError as error:
                raise fail(ctx.t(LOCALE, error.key, **error.params)) from None

    return run_async(run())


async def _campaign(ctx: JobContext, key: str) -> Campaign:
    from bot.errors import NotFound

    campaign = await ctx.repo.campaigns.by_key(key)
    if campaign is None:
        raise NotFound("campaign.error.unknown_campaign", given=key)
    return campaign


@campaign_app.command("apply")
def apply(
    file: Annotated[Path | None, typer.Argument(help="A campaign YAML file.")] = None,
    template: Annotated[
        str | None, typer.Option(help="Apply a template instead: klantweek, onboarding, enps.")
    ] = None,
    starts: Annotated[str | None, typer.Option(help="With --template: the first day (YYYY-MM-DD).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Show what would change; change nothing.")] = False,
) -> None:
    """Create or update the campaign the file describes (by its `key`). Applying the same file twice
    changes nothing. Problems are reported as FILE:LINE: field: what is wrong (exit code 1)."""
    from handlers.campaigns import apply_campaign, preview, templates
    from handlers.campaigns.cadence import parse_moment
    from handlers.campaigns.files import load_yaml_with_lines
    from handlers.campaigns.preview import transient
    from handlers.campaigns.problems import Path as SpecPath
    from handlers.campaigns.problems import SpecInvalid, locate

    if (file is None) == (template is None):
        raise fail("give a campaign FILE or --template NAME (not both)", 2)
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise fail(f"cannot read {file}: {error}", 2) from None
        name = file.name
    else:
        name = f"template {template}"

    async def work(ctx: JobContext) -> list[str]:
        lines_of: dict[SpecPath, int] = {}
        try:
            if file is not None:
                spec, lines_of = load_yaml_with_lines(text, holidays=ctx.settings.public_holidays)
            else:
                first_day: date | None = parse_moment(starts)[0] if starts else None
                spec = templates.load(
                    str(template),
                    ctx.now(),
                    ctx.settings.default_timezone,
                    first_day,
                    ctx.settings.public_holidays,
                )
            result = await apply_campaign(ctx, spec, None, dry_run=dry_run)
        except SpecInvalid as invalid:
            raise _problems(ctx, name, SpecInvalid(locate(invalid.problems, lines_of))) from None
        lines = [f"{'Would be ' if dry_run else ''}{result.action}: {spec.key} ({spec.name})"]
        lines += [
            f"  {change.field}: {change.before or '—'} → {change.after or '—'}" for change in result.changes
        ]
        if dry_run and result.action != "unchanged":
            campaign = result.campaign or transient(spec)
            lines.append("Next sends:")
            lines += _preview_lines(await preview(ctx, campaign, 3, LOCALE, spec))
        return lines

    for line in _work(work):
        typer.echo(line)


def _preview_lines(groups: list[Any]) -> list[str]:
    lines = []
    for group in groups:
        lines.append(f"  {group.label}")
        for send in group.sends:
            when = (
                f"{send.at.astimezone(_zone(send.timezone)):%a %Y-%m-%d %H:%M} {send.timezone}"
                if send.at
                else "—"
            )
            text = " ".join(send.text.split())
            lines.append(f"    {when}\t{send.step_key}\t{text[:120]}")
    return lines


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


@campaign_app.command("preview")
def preview_command(
    key: Annotated[str, typer.Argument(help="The campaign's key.")],
    count: Annotated[int, typer.Option("--count", "-n", min=1, max=50, help="Sends per audience.")] = 5,
) -> None:
    """The exact times and messages of the next sends, per audience."""
    from handlers.campaigns import preview

    async def work(ctx: JobContext) -> list[str]:
        campaign = await _campaign(ctx, key)
        return [
            f"{campaign.name} ({campaign.key}, {campaign.status})",
            *_preview_lines(await preview(ctx, campaign, count, LOCALE)),
        ]

    for line in _work(work):
        typer.echo(line)


@campaign_app.command("list")
def list_campaigns() -> None:
    """Every campaign: key, status, start, end, name."""

    async def work(ctx: JobContext) -> list[str]:
        def day(moment: Any, zone: str) -> str:
            return f"{moment.astimezone(_zone(zone)):%Y-%m-%d}" if moment else "—"

        return [
            f"{c.key}\t{c.status}\t{day(c.starts_at, c.timezone)}\t{day(c.ends_at, c.timezone)}\t{c.name}"
            for c in await ctx.repo.campaigns.all()
        ]

    for line in _work(work):
        typer.echo(line)


def _lifecycle(action: str, key: str) -> None:
    from handlers.campaigns import archive, pause, resume

    change = {"pause": pause, "resume": resume, "archive": archive}[action]

    async def work(ctx: JobContext) -> str:
        campaign = await _campaign(ctx, key)
        await change(ctx, campaign, None)
        return f"{key}: {campaign.status if campaign.status != 'draft' else 'discarded'}"

    typer.echo(_work(work))


@campaign_app.command("pause")
def pause_command(key: Annotated[str, typer.Argument(help="The campaign's key.")]) -> None:
    """Stop sending; sends planned during the pause are not made up."""
    _lifecycle("pause", key)


@campaign_app.command("resume")
def resume_command(key: Annotated[str, typer.Argument(help="The campaign's key.")]) -> None:
    """Carry on from now."""
    _lifecycle("resume", key)


@campaign_app.command("archive")
def archive_command(key: Annotated[str, typer.Argument(help="The campaign's key.")]) -> None:
    """Stop for good; the figures are kept."""
    _lifecycle("archive", key)


@campaign_app.command("export")
def export(key: Annotated[str, typer.Argument(help="The campaign's key.")]) -> None:
    """Print the campaign as a YAML file (edit it and `apply` it again)."""
    from handlers.campaigns import spec_of
    from handlers.campaigns.files import dump_yaml

    async def work(ctx: JobContext) -> str:
        return dump_yaml(spec_of(await _campaign(ctx, key)))

    typer.echo(_work(work), nl=False)


@campaign_app.command("templates")
def list_templates() -> None:
    """The shipped templates (prompts/campaigns/)."""
    from handlers.campaigns import templates

    for name in templates.names():
        typer.echo(name)


@campaign_app.command("stats")
def stats_command(key: Annotated[str, typer.Argument(help="The campaign's key.")]) -> None:
    """Sent, reached, engagement and pulse results against the baseline (tab-separated)."""
    from handlers.campaigns import campaign_stats

    async def work(ctx: JobContext) -> list[str]:
        stats = await campaign_stats(ctx, await _campaign(ctx, key), None)
        lines = [
            f"{name}\t{value}"
            for name, value in stats.to_dict().items()
            if isinstance(value, int | str) or value is None
        ]
        lines += [
            f"step\t{step.step_key}\t{step.kind}\t{step.sends}\t{step.reach}\t{step.failed}"
            for step in stats.steps
        ]
        lines += [
            f"round\t{r.round_id}\t{r.name}\t{r.status}\t{'baseline' if r.baseline else ''}\t{r.enps}\t{r.enps_change}"
            for r in stats.rounds
        ]
        return lines

    for line in _work(work):
        typer.echo(line)
