"""`klantpet members import FILE.csv`: departments and titles from an HR export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli import fail, load_settings, ready_services, run_async


def register(app: typer.Typer) -> None:
    members = next(group.typer_instance for group in app.registered_groups if group.name == "members")
    assert members is not None
    members.command("import")(members_import)


def members_import(
    file: Annotated[Path, typer.Argument(help="CSV with slack_id/email/name and department/title columns.")],
    skip_unknown: Annotated[
        bool, typer.Option("--skip-unknown", help="Import the other rows when some match no member.")
    ] = False,
) -> None:
    """Set members' departments and titles from a CSV file (all or nothing)."""
    from bot.members_import import CsvImportError, apply, read_rows
    from storage.repositories import Repos

    try:
        rows = read_rows(file.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise fail(f"cannot read {file}: {error.strerror or error}", 2) from None
    except (CsvImportError, UnicodeDecodeError, ValueError) as error:
        raise fail(f"{file}: {error}", 2) from None
    settings = load_settings()

    async def work() -> str:
        async with ready_services(settings) as services:
            try:
                async with services.database.transaction() as session:
                    report = await apply(Repos(session), rows, skip_unknown=skip_unknown)
            except CsvImportError as error:
                raise fail(f"{file}: {error}", 2) from None
        lines = [f"{report.updated} updated, {report.unchanged} unchanged, {len(report.skipped)} skipped."]
        lines += report.skipped
        return "\n".join(lines)

    typer.echo(run_async(work()))
