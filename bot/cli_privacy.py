"""``klantpet privacy …``: export or erase what is stored about a member, and read the audit log."""

from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli import fail, load_settings, ready_services, run_async

if TYPE_CHECKING:
    from storage.models import Member
    from storage.repositories import Repos

privacy_app = typer.Typer(help="Data rights: export, erasure, and the audit log.", no_args_is_help=True)
MEMBER_HELP = "<platform>:<id>, #<member id> or the exact name."
BY_HELP = "The admin who asks (recorded in the audit log with your system user name)."


def operator() -> str:
    """Who runs this command, as the operating system knows them (recorded in the audit log)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (some containers)
        return f"uid {os.getuid()}"


async def requester(repos: Repos, by: str | None) -> Member | None:
    """The admin named by ``--by`` (None without it); anyone else stops the command with exit code 2."""
    from storage.models import Role

    if by is None:
        return None
    found = await repos.members.find(by)
    if found is None or not found.active:
        raise fail(f"--by: no member {by!r}", 2)
    if not found.has_role(Role.admin):
        raise fail(f"--by: {found.name} is not an admin; only admins answer data requests", 2)
    return found


def register(app: typer.Typer) -> None:
    app.add_typer(privacy_app, name="privacy")


@privacy_app.command("export")
def export(
    member: Annotated[str, typer.Argument(help=MEMBER_HELP)],
    out: Annotated[
        Path | None, typer.Option("--out", help="The JSON file to write (default: stdout).")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help=BY_HELP)] = None,
) -> None:
    """Write everything stored about a member as JSON (anonymous answers cannot be linked, so are not in it)."""
    from rich.progress import Progress

    from handlers.privacy_export import SECTIONS, export_member, to_json
    from storage.repositories import Repos

    settings = load_settings()

    async def work() -> str:
        async with ready_services(settings) as services, services.database.transaction() as session:
            asker = await requester(Repos(session), by)
            found = await Repos(session).members.find(member)
            if found is None:
                raise fail(f"no member {member!r}", 2)
            ctx = services.job_context(session)
            with Progress(console=_stderr(), transient=True) as progress:
                task = progress.add_task("Exporting", total=len(SECTIONS))

                def step(section: str) -> None:
                    progress.update(task, advance=1, description=f"Exporting {section}")

                exported = await export_member(ctx, found, step)
            await ctx.audit(asker, "privacy.export", f"member:{found.id}", via="cli", os_user=operator())
            return to_json(exported)

    text = run_async(work())
    if out is None:
        typer.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    typer.echo(f"Written the export to {out}.", err=True)


@privacy_app.command("erase")
def erase(
    member: Annotated[str, typer.Argument(help=MEMBER_HELP)],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    by: Annotated[str | None, typer.Option("--by", help=BY_HELP)] = None,
) -> None:
    """Erase a member's personal data; aggregates (pulse results, silo counts, story stats) stay as they are."""
    from handlers.privacy_erase import erase_member, was_erased
    from storage.repositories import Repos

    settings = load_settings()

    async def work() -> tuple[str, dict[str, int]] | None:
        async with ready_services(settings) as services, services.database.transaction() as session:
            asker = await requester(Repos(session), by)
            found = await Repos(session).members.find(member)
            if found is None:
                raise fail(f"no member {member!r}", 2)
            ctx = services.job_context(session)
            if was_erased(ctx, found):
                raise fail(f"member #{found.id} was erased already", 2)
            if not yes and not typer.confirm(
                f"Erase everything personal about {found.name} (#{found.id})? This cannot be undone.",
                err=True,
            ):
                return None
            done = await erase_member(ctx, found, asker, os_user=operator())
            return found.name, done

    result = run_async(work())
    if result is None:
        raise fail("nothing erased", 1)
    name, done = result
    typer.echo(f"Erased; the member is now {name!r}.")
    for kind, count in done.items():
        typer.echo(f"  {kind}: {count}")


@privacy_app.command("audit")
def audit(
    actor: Annotated[str | None, typer.Option(help=f"Done by this member ({MEMBER_HELP})")] = None,
    action: Annotated[
        str | None, typer.Option(help="An action, or a prefix ending in a dot (feedback.).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="From this day (YYYY-MM-DD, UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to and including this day (YYYY-MM-DD, UTC).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
) -> None:
    """Print audit log entries, newest first, as tab-separated lines (time, actor, action, subject, detail)."""
    from storage.repositories import Repos

    start = _day(since, "--since")
    end = _day(until, "--until")
    settings = load_settings()

    async def work() -> list[str]:
        async with ready_services(settings) as services, services.database.transaction() as session:
            repos = Repos(session)
            actor_id = None
            if actor is not None:
                found = await repos.members.find(actor)
                if found is None:
                    raise fail(f"no member {actor!r}", 2)
                actor_id = found.id
            entries = await repos.audit.search(
                actor_member_id=actor_id,
                action=action,
                since=start,
                until=end + timedelta(days=1) if end else None,
                limit=limit,
            )
            names = await repos.members.names(entry.actor_member_id or 0 for entry in entries)
            return [
                "\t".join(
                    (
                        entry.at.isoformat(timespec="seconds"),
                        names.get(entry.actor_member_id, f"#{entry.actor_member_id}")
                        if entry.actor_member_id
                        else "system",
                        entry.action,
                        entry.subject or "-",
                        json.dumps(entry.detail, ensure_ascii=False, sort_keys=True),
                    )
                )
                for entry in entries
            ]

    for line in run_async(work()):
        typer.echo(line)


def _day(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise fail(f"{option}: use a date like 2026-12-31, not {text!r}", 2) from None


def _stderr() -> Any:
    from rich.console import Console

    return Console(file=sys.stderr)
