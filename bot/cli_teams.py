"""``klantpet teams …``: Microsoft Teams helpers (the app package to upload)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

teams_app = typer.Typer(help="Microsoft Teams.", no_args_is_help=True)


@teams_app.command("package")
def teams_package(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the zip.")] = Path(
        "klantpet-teams.zip"
    ),
    version: Annotated[
        str, typer.Option(help="App version (raise it for every upload of a change).")
    ] = "1.0.0",
    name: Annotated[str, typer.Option(help="The app's name in Teams.")] = "Klantpet",
) -> None:
    """Write the Teams app package (manifest.json, its Dutch or English strings file, icons) for the
    configured app id and public URL."""
    from bot.cli import fail, load_settings
    from bot.i18n import Catalog
    from bot.platforms.teams_package import package

    settings = load_settings()
    if not settings.teams_client_id:
        raise fail(
            "set CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID (the Azure Bot's app id) first", 2
        )
    if not settings.public_url or not settings.public_url.startswith("https://"):
        raise fail("set KLANTPET_PUBLIC_URL to the bot's public https address first", 2)
    if not version.count(".") == 2 or not all(part.isdigit() for part in version.split(".")):
        raise fail("--version must look like 1.0.0", 2)
    data = package(
        app_id=settings.teams_client_id,
        public_url=settings.public_url,
        organisation=settings.organisation,
        catalog=Catalog(settings.default_locale),
        version=version,
        name=name,
    )
    output.write_bytes(data)
    typer.echo(
        f"Written: {output} — upload it in Teams: Apps → Manage your apps → Upload an app "
        "(see docs/teams.md, 'Sideload the app')."
    )


def register(app: typer.Typer) -> None:
    app.add_typer(teams_app, name="teams")
