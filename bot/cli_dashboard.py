"""`klantpet dashboard …`: one-time sign-in links and the admin-set password fallback."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import fail, load_settings, ready_services, run_async

dashboard_app = typer.Typer(help="The CX dashboard.", no_args_is_help=True)


@dashboard_app.command("link")
def link(
    member: Annotated[str, typer.Argument(help="<platform>:<id>, #<member id> or the exact name.")],
) -> None:
    """Print a one-time sign-in link to the dashboard (valid 15 minutes)."""
    from bot.dashboard.auth import DashboardAuth
    from storage.repositories import Repos

    settings = load_settings()

    async def work() -> str:
        async with ready_services(settings) as services:
            async with services.database.transaction() as session:
                found = await Repos(session).members.find(member)
            if found is None:
                raise fail(f"no member {member!r}", 2)
            made: str = DashboardAuth(services).link(settings.base_url, found.id)
            return made

    typer.echo(run_async(work()))


@dashboard_app.command("password")
def password(
    member: Annotated[str, typer.Argument(help="<platform>:<id>, #<member id> or the exact name.")],
    login: Annotated[str, typer.Option(help="The username to sign in with (not case-sensitive).")],
    new_password: Annotated[
        str, typer.Option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    ],
) -> None:
    """Set the password fallback for a member (at least 12 characters); their open sessions end."""
    from bot.cli_privacy import operator
    from bot.dashboard.auth import DashboardAuth, PasswordRefused
    from storage.repositories import Repos

    settings = load_settings()

    async def work() -> str:
        async with ready_services(settings) as services:
            async with services.database.transaction() as session:
                found = await Repos(session).members.find(member)
            if found is None or not found.active:
                raise fail(f"no member {member!r}", 2)
            try:
                stored = await DashboardAuth(services).set_password(
                    found, login, new_password, via="cli", os_user=operator()
                )
            except PasswordRefused as error:
                raise fail(f"{error}; nothing was changed", 2) from None
            return f"{found.name} can now sign in as {stored!r}."

    typer.echo(run_async(work()))


def register(app: typer.Typer) -> None:
    app.add_typer(dashboard_app, name="dashboard")
