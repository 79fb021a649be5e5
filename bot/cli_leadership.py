"""`klantpet leadership …`: the CX relay and leaders' customer contacts, from the command line.

An operator tool, like every `klantpet` command: its framing lines are plain English (``Baton: … since …``);
what the organisation wrote (names, titles, challenges) is shown as written.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    leadership = typer.Typer(
        help="Leader snippets, the CX relay and leaders' customer contacts.", no_args_is_help=True
    )
    app.add_typer(leadership, name="leadership")

    @leadership.command("relay")
    def relay() -> None:
        """Show the CX relay: the chain so far and who holds the baton."""
        for line in _run(_relay_lines()):
            typer.echo(line)

    @leadership.command("contacts")
    def contacts(
        months: Annotated[int, typer.Option(min=1, max=12, help="How many calendar months.")] = 3,
    ) -> None:
        """Customer contacts per leader per month (tab-separated, organisation time zone)."""
        for line in _run(_contact_lines(months)):
            typer.echo(line)


def _run[T](work: Coroutine[Any, Any, T]) -> T:
    from bot.cli import run_async

    return run_async(work)


async def _relay_lines() -> list[str]:
    from bot.cli import load_settings, ready_services
    from handlers.leadership.common import local_date, who
    from handlers.leadership.relay_chain import chain_text

    settings = load_settings()
    async with ready_services(settings) as services, services.database.transaction() as session:
        ctx = services.job_context(session)
        relay = await ctx.repo.leadership.latest_relay()
        if relay is None:
            return ["No CX relay yet."]
        lines = [await chain_text(ctx, relay)]
        current = list(await ctx.repo.leadership.legs(relay.id))[-1]
        zone = settings.default_timezone
        if relay.running:
            holder = who(await ctx.repo.members.get(current.holder_member_id))
            state = (
                f"shared on {local_date(current.shared_at, zone)}, choosing the next leader"
                if current.shared_at
                else f"challenge: {current.challenge}"
            )
            lines.append(f"Baton: {holder} since {local_date(current.received_at, zone)} ({state})")
        else:
            lines.append(
                f"{relay.status.capitalize()} on {local_date(relay.ended_at or relay.started_at, zone)}"
            )
        return lines


async def _contact_lines(months: int) -> list[str]:
    from bot.cli import load_settings, ready_services
    from handlers.leadership.common import leaders
    from handlers.leadership.contacts import month_starts
    from storage.repositories.leadership import month_key

    settings = load_settings()
    zone = settings.default_timezone
    async with ready_services(settings) as services, services.database.transaction() as session:
        ctx = services.job_context(session)
        starts = month_starts(ctx.now(), zone, months)
        counts = await ctx.repo.leadership.monthly_contacts(starts[0], starts[-1], zone)
        keys = [month_key(start, zone) for start in starts[:-1]]
        lines = ["\t".join(["leader", *keys])]
        for member in await leaders(ctx):
            per_month = counts.get(member.id, {})
            lines.append("\t".join([member.name, *(str(per_month.get(key, 0)) for key in keys)]))
        return lines
