"""`klantpet meetings …` and `klantpet silos …`: set up ritual meetings and read the register from a shell."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import fail, load_settings, ready_services, run_async

meetings_app = typer.Typer(help="Meetings with the klantpet ritual.", no_args_is_help=True)
silos_app = typer.Typer(help="The silo-conflict register.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(meetings_app, name="meetings")
    app.add_typer(silos_app, name="silos")


@meetings_app.command("add")
def meetings_add(
    name: Annotated[str, typer.Option(help="The meeting's name.")],
    channel: Annotated[str, typer.Option(help="Channel name (or <platform>:<external id>) it is held in.")],
    days: Annotated[str, typer.Option(help="Weekdays, e.g. 'mo,we' or 'ma,wo'.")] = "",
    time: Annotated[str, typer.Option(help="Local start time, e.g. 10:00.")] = "",
    rrule: Annotated[
        str, typer.Option(help="An RRULE instead of --days (e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=MO).")
    ] = "",
    timezone: Annotated[str, typer.Option(help="IANA time zone; default: the organisation's.")] = "",
    duration: Annotated[int, typer.Option(help="Minutes; the debrief goes out at the end.")] = 60,
    lead: Annotated[int, typer.Option(help="Open the ritual this many minutes before the start.")] = 2,
    topic: Annotated[
        str, typer.Option(help="What the meeting is about (questions are tailored to it).")
    ] = "",
    participant: Annotated[
        list[str] | None, typer.Option(help="A participant (repeat); default: everyone in the channel.")
    ] = None,
) -> None:
    """Add a meeting with the klantpet ritual and schedule its opening and debrief."""
    from handlers.ritual_meeting_input import MeetingInput, apply_input, save

    given = MeetingInput(
        name=name,
        channel=channel,
        days=days,
        time=time,
        rrule=rrule,
        timezone=timezone,
        duration=str(duration),
        lead=str(lead),
        topic=topic,
        participants=",".join(participant or []),
    )
    settings = load_settings()

    async def work() -> str:
        async with ready_services(settings) as services, services.database.transaction() as session:
            ctx = services.job_context(session)
            draft, participants, errors = await apply_input(ctx, given, settings.default_timezone)
            if errors:
                lines = [
                    f"--{field}: {services.catalog.t('en', error.key, **error.params)}"
                    for field, error in errors.items()
                ]
                raise fail("the meeting was not added:\n  " + "\n  ".join(lines), 2)
            meeting = await save(ctx, draft, participants)
            await ctx.audit(None, "meeting.save", f"meeting:{meeting.id}", via="cli")
            return f"Added meeting #{meeting.id} {meeting.name!r} in #{channel} with {len(participants)} participants."

    typer.echo(run_async(work()))


@meetings_app.command("list")
def meetings_list() -> None:
    """List the meetings, their next occurrence and whether the ritual is on."""
    from handlers import ritual_schedule as timing

    settings = load_settings()

    async def work() -> list[str]:
        async with ready_services(settings) as services, services.database.transaction() as session:
            ctx = services.job_context(session)
            rows = []
            for meeting in await ctx.repo.ritual.meetings():
                upcoming = timing.next_occurrence(meeting, ctx.now())
                when = timing.format_moment(ctx, "en", upcoming, meeting.timezone) if upcoming else "-"
                channel = meeting.channel.name if meeting.channel else "-"
                ritual = "on" if meeting.ritual_enabled else "off"
                rows.append(f"#{meeting.id}\t{meeting.name}\t#{channel}\tnext {when}\tritual {ritual}")
            return rows

    for line in run_async(work()):
        typer.echo(line)


@meetings_app.command("ritual")
def meetings_ritual(meeting_id: int, state: Annotated[str, typer.Argument(help="on or off")]) -> None:
    """Switch a meeting's ritual on or off."""
    from handlers.ritual_meeting_input import set_ritual

    if state not in ("on", "off"):
        raise fail("use 'on' or 'off'", 2)
    settings = load_settings()

    async def work() -> str:
        async with ready_services(settings) as services, services.database.transaction() as session:
            ctx = services.job_context(session)
            meeting = await ctx.repo.ritual.meeting(meeting_id)
            if meeting is None:
                raise fail(f"no meeting #{meeting_id}", 2)
            await set_ritual(ctx, meeting, state == "on")
            return f"Meeting #{meeting.id} {meeting.name!r}: ritual {state}."

    typer.echo(run_async(work()))


@silos_app.command("list")
def silos_list(
    status: Annotated[str, typer.Option(help="open, discussed, resolved, escalated or all.")] = "unresolved",
) -> None:
    """List silo conflicts (default: the unresolved ones)."""
    from storage.models.ritual import SiloStatus
    from storage.repositories.ritual import UNRESOLVED

    statuses = {"unresolved": UNRESOLVED, "all": None} | {s.value: [s.value] for s in SiloStatus}
    if status not in statuses:
        raise fail(f"unknown status {status!r}", 2)
    settings = load_settings()

    async def work() -> list[str]:
        async with ready_services(settings) as services, services.database.transaction() as session:
            ctx = services.job_context(session)
            return [
                f"#{c.id}\t{c.pair}\t{c.status}\t{c.created_at:%Y-%m-%d}\t{c.owner.name if c.owner else '-'}"
                for c in await ctx.repo.ritual.conflicts(statuses=statuses[status], limit=10_000)
            ]

    for line in run_async(work()):
        typer.echo(line)


@silos_app.command("map")
def silos_map() -> None:
    """The silo map: conflicts per department pair, as a tab-separated matrix."""
    settings = load_settings()

    async def work() -> list[str]:
        async with ready_services(settings) as services, services.database.transaction() as session:
            matrix = await services.job_context(session).repo.ritual.matrix()
            header = "\t".join(["", *matrix.departments])
            rows = [
                "\t".join([name, *map(str, row)])
                for name, row in zip(matrix.departments, matrix.counts, strict=True)
            ]
            return [header, *rows]

    for line in run_async(work()):
        typer.echo(line)
