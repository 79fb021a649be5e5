"""`klantpet slack …`: the app manifest, and syncing members from the workspace."""

from __future__ import annotations

import json
from typing import Annotated

import typer
import yaml

from bot.cli import fail, load_settings, ready_services, run_async

slack_app = typer.Typer(help="Slack: app manifest and member sync.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(slack_app, name="slack")


@slack_app.command("manifest")
def manifest(
    socket_mode: Annotated[
        bool | None,
        typer.Option("--socket-mode/--http", help="Default: Socket Mode when SLACK_APP_TOKEN is set."),
    ] = None,
    output: Annotated[str, typer.Option("--format", help="json or yaml.")] = "json",
) -> None:
    """Print the Slack app manifest for KLANTPET_PUBLIC_URL (paste it when creating the app)."""
    from bot.platforms.slack_manifest import manifest as build

    if output not in ("json", "yaml"):
        raise fail("--format must be json or yaml", 2)
    settings = load_settings()
    found = build(settings, socket_mode=socket_mode)
    if not found["settings"]["socket_mode_enabled"] and not settings.public_url:
        typer.echo(
            "klantpet: note: KLANTPET_PUBLIC_URL is not set; the manifest points at "
            f"{settings.base_url}, which Slack cannot reach.",
            err=True,
        )
    if output == "yaml":
        typer.echo(yaml.safe_dump(found, sort_keys=False, allow_unicode=True), nl=False)
    else:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))


@slack_app.command("sync")
def sync(
    department_field: Annotated[
        str | None,
        typer.Option(
            "--department-field", help="Id of the profile field with the department, e.g. Xf0123ABCD."
        ),
    ] = None,
) -> None:
    """Bring every workspace member into Klantpet; deactivated users become inactive."""
    from slack_sdk.errors import SlackApiError

    from bot.platforms.slack import SlackPlatform
    from bot.platforms.slack_members import sync_all

    settings = load_settings()
    if settings.slack_bot_token is None:
        raise fail("SLACK_BOT_TOKEN is not set", 2)

    async def work() -> list[str]:
        async with ready_services(settings) as services:
            platform = services.platforms["slack"]
            assert isinstance(platform, SlackPlatform)
            field = department_field or settings.slack_department_field
            try:
                report = await sync_all(services, platform.client, field)
            except SlackApiError as error:
                raise fail(f"Slack refused: {error.response.get('error')}") from None
        lines = [f"Slack members synced: {report.summary()}."]
        if report.deactivated:
            lines.append("Marked inactive: " + ", ".join(report.deactivated))
        return lines

    for line in run_async(work()):
        typer.echo(line)
