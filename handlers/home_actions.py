"""Quick actions: a button (on a member's Home) runs a command of the shared grammar as if it were typed.

The button names the command (``{"command": "stories add"}``, see `bot.home.command_button`); the command's
own role check applies, so a button never lets anyone do more than typing the command would.
"""

from __future__ import annotations

from bot.commands import ParsedCommand
from bot.context import Context
from bot.errors import InvalidInput, NotAllowed
from bot.home import RUN_COMMAND
from bot.router import Click, Router

router = Router()


@router.action(RUN_COMMAND)
async def run_command(ctx: Context, click: Click) -> None:
    path = tuple(str(click.value.get("command") or "").split())
    route = ctx.services.routes.commands.get(path)
    if route is None:
        raise InvalidInput("error.expired_action")
    if not ctx.member.has_role(route.role):
        raise NotAllowed("error.not_allowed", role=ctx.t(f"roles.{route.role.value}"))
    await route.handler(ctx, ParsedCommand(path=path))
