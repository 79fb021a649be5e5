"""`klantpet stories …`: import stories from files and list the library."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli import fail, load_settings, ready_services, run_async

if TYPE_CHECKING:
    from handlers.story_files import StoryFields

stories_app = typer.Typer(help="The customer story library.", no_args_is_help=True)
BATCH = 50


def register(app: typer.Typer) -> None:
    app.add_typer(stories_app, name="stories")


@stories_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A .yaml/.yml, .csv or .md (front matter) file.")],
    file_format: Annotated[
        str | None, typer.Option("--format", help="yaml, csv or markdown (default: from the file name).")
    ] = None,
    locale: Annotated[str | None, typer.Option(help="Language for rows that name none: nl or en.")] = None,
    approve: Annotated[bool, typer.Option(help="Approve every valid story at once.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Only check the file; change nothing.")] = False,
) -> None:
    """Add or update stories (by slug and language). Invalid rows are reported by line; valid ones are kept.

    Imported stories are drafts unless the row says `status: approved` or --approve is given.
    """
    from handlers.story_files import FORMATS, detect_format, parse

    fmt = file_format or detect_format(file)
    if fmt not in FORMATS:
        raise fail(f"cannot tell the format of {file.name}; use --format yaml, csv or markdown", 2)
    if locale is not None and locale not in ("nl", "en"):
        raise fail(f"unknown language {locale!r} (use nl or en)", 2)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"cannot read {file}: {error}", 2) from None
    parsed = parse(text, fmt, default_locale=locale)
    if parsed.error:
        raise fail(f"{file.name}: {parsed.error}", 2)
    for row in parsed.invalid:
        typer.echo(f"{file.name}:{row.line}: {row.error}", err=True)
    valid = [row.fields for row in parsed.valid if row.fields is not None]
    if dry_run:
        typer.echo(f"{len(valid)} valid, {len(parsed.invalid)} invalid; nothing imported (dry run).")
        raise typer.Exit(1 if parsed.invalid else 0)
    added, updated = run_async(_import(valid, approve))
    typer.echo(f"Imported {added} new and {updated} updated stories; {len(parsed.invalid)} invalid skipped.")
    if parsed.invalid:
        raise typer.Exit(1)


async def _import(valid: list[StoryFields], approve: bool) -> tuple[int, int]:
    from handlers.story_library import import_stories

    settings = load_settings()
    added = updated = 0
    async with ready_services(settings) as services:
        with typer.progressbar(length=len(valid), label="Importing", file=sys.stderr) as progress:
            for start in range(0, len(valid), BATCH):
                batch = valid[start : start + BATCH]
                async with services.database.transaction() as session:
                    result = await import_stories(services.job_context(session), batch, approve=approve)
                added += result.added
                updated += result.updated
                progress.update(len(batch))
    return added, updated


@stories_app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help="draft, approved or archived.")] = None,
    locale: Annotated[str | None, typer.Option(help="nl or en.")] = None,
) -> None:
    """List stories: id, language, status, slug and title."""
    from storage.models.stories import StoryStatus
    from storage.repositories import Repos

    if status is not None and status not in StoryStatus.__members__:
        raise fail(f"unknown status {status!r} (use draft, approved or archived)", 2)
    if locale is not None and locale not in ("nl", "en"):
        raise fail(f"unknown language {locale!r} (use nl or en)", 2)
    settings = load_settings()

    async def work() -> list[str]:
        async with ready_services(settings) as services, services.database.transaction() as session:
            stories = await Repos(session).stories.listing(status=status, locale=locale, limit=10_000)
            return [f"{s.id}\t{s.locale}\t{s.status}\t{s.slug}\t{s.title}" for s in stories]

    for line in run_async(work()):
        typer.echo(line)
