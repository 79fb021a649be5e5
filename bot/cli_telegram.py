"""`klantpet telegram …`: invitations that link a member's Telegram account, and the webhook's state."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

import typer

from bot.cli import fail, load_settings, ready_services, run_async

telegram_app = typer.Typer(help="Telegram: invitations and the webhook.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(telegram_app, name="telegram")


@telegram_app.command("invite")
def invite(
    member: Annotated[str, typer.Argument(help="<platform>:<id>, #<member id> or the exact name.")],
    days: Annotated[int, typer.Option(min=1, max=90, help="Days the link stays valid.")] = 7,
) -> None:
    """Print a single-use link that connects a member's Telegram account to Klantpet."""
    from telegram.error import TelegramError

    from bot.platforms.telegram import TelegramPlatform
    from storage.repositories import Repos

    settings = load_settings()

    async def work() -> tuple[str, str]:
        async with ready_services(settings) as services:
            platform = services.platforms.get("telegram")
            if not isinstance(platform, TelegramPlatform):
                raise fail("Telegram is not configured (set TELEGRAM_BOT_TOKEN)", 2)
            async with services.database.transaction() as session:
                found = await Repos(session).members.find(member)
            if found is None or not found.active:
                raise fail(f"no active member {member!r}", 2)
            try:
                async with platform.application.bot:  # getMe: the link needs the bot's @username
                    link = await platform.invitations.create(found.id, days)
            except TelegramError as error:
                raise fail(f"cannot reach Telegram: {error.message}") from None
            return found.name, link

    name, link = run_async(work())
    typer.echo(f"Send this link to {name} (works once, for {days} days):")
    typer.echo(link)


@telegram_app.command("invites")
def invites() -> None:
    """List invitations not used yet and still valid."""
    from storage.repositories import Repos

    settings = load_settings()

    async def work() -> list[str]:
        async with ready_services(settings) as services, services.database.transaction() as session:
            repos = Repos(session)
            rows = []
            for open_invite in await repos.telegram.open_invites(services.clock.now()):
                member = await repos.members.get(open_invite.member_id)
                until = open_invite.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
                rows.append(
                    f"#{open_invite.member_id}\t{member.name if member else '?'}\tvalid until {until}"
                )
            return rows

    rows = run_async(work())
    for row in rows:
        typer.echo(row)
    if not rows:
        typer.echo("No open invitations.")


@telegram_app.command("status")
def status() -> None:
    """Show the bot's @username and the webhook Telegram has registered."""
    from telegram.error import TelegramError

    from bot.platforms.telegram import TelegramPlatform

    settings = load_settings()

    async def work() -> list[str]:
        async with ready_services(settings, migrate=False) as services:
            platform = services.platforms.get("telegram")
            if not isinstance(platform, TelegramPlatform):
                raise fail("Telegram is not configured (set TELEGRAM_BOT_TOKEN)", 2)
            try:
                async with platform.application.bot as bot:
                    info = await bot.get_webhook_info()
            except TelegramError as error:
                raise fail(f"cannot reach Telegram: {error.message}") from None
            lines = [f"Bot:      @{bot.username}", f"Mode:     {settings.telegram_mode}"]
            lines.append(f"Webhook:  {info.url or '(none)'}  pending updates: {info.pending_update_count}")
            if info.last_error_message:
                lines.append(f"Last error from Telegram: {info.last_error_message}")
            return lines

    for line in run_async(work()):
        typer.echo(line)
