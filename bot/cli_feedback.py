"""`klantpet feedback …`: the state of the inbox and the feedback settings, from the command line.

Texts are sealed at rest and never printed here; this is for operators, not for reading feedback.
"""

from __future__ import annotations

from typing import Annotated

import typer

feedback_app = typer.Typer(help="Feedback: inbox state and settings.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(feedback_app, name="feedback")


@feedback_app.command("status")
def status() -> None:
    """Items per status, the relay queue, and the settings."""
    from bot.cli import load_settings, ready_services, run_async
    from handlers.feedback_settings import read_settings

    settings = load_settings()

    async def work() -> list[str]:
        async with ready_services(settings) as services, services.database.transaction() as session:
            ctx = services.job_context(session)
            counts = await ctx.repo.feedback.counts_by_status()
            current = await read_settings(ctx)
            channel = await ctx.repo.channels.get(current.channel_id) if current.channel_id else None
            lines = [
                f"{name}\t{counts.get(name, 0)}"
                for name in ("new", "acknowledged", "planned", "done", "wont_do")
            ]
            lines.append(f"relay queue\t{await ctx.repo.feedback.relay_backlog()}")
            lines.append(
                f"answer within\t{current.sla_days} working days (+{current.escalate_days} to escalate)"
            )
            lines.append(f"public channel\t#{channel.name}" if channel else "public channel\t-")
            return lines

    for line in run_async(work()):
        typer.echo(line)


@feedback_app.command("settings")
def change_settings(
    sla_days: Annotated[int | None, typer.Option(min=1, max=30, help="Working days to answer.")] = None,
    escalate_days: Annotated[
        int | None, typer.Option(min=0, max=30, help="Working days after the owner's reminder.")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="Channel for public summaries, or 'off'.")] = None,
) -> None:
    """Change the answer time, the escalation, or the public channel."""
    from bot.cli import fail, load_settings, ready_services, run_async
    from handlers.feedback_settings import FeedbackSettings, read_settings, write_settings

    settings = load_settings()

    async def work() -> FeedbackSettings:
        async with ready_services(settings) as services, services.database.transaction() as session:
            ctx = services.job_context(session)
            current = await read_settings(ctx)
            channel_id = current.channel_id
            if channel is not None:
                found = None if channel.lower() == "off" else await ctx.repo.channels.by_name(channel)
                if found is None and channel.lower() != "off":
                    raise fail(f"no channel {channel!r}", 2)
                channel_id = found.id if found else None
            changed = FeedbackSettings(
                sla_days if sla_days is not None else current.sla_days,
                escalate_days if escalate_days is not None else current.escalate_days,
                channel_id,
            )
            await write_settings(ctx, changed)
            await ctx.repo.audit.record(None, "feedback.settings", "feedback", **changed.payload())
            return changed

    changed = run_async(work())
    typer.echo(
        f"Feedback is answered within {changed.sla_days} working days; "
        f"CX managers are reminded {changed.escalate_days} working days after the owner."
    )
