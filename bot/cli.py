"""The `klantpet` command line (typer). Feature commands live in `bot/cli_*.py` and are added here."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from bot import logs
from bot.config import Settings, describe_errors

app = typer.Typer(help="Klantpet — a chat bot for a customer-centric culture.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
members_app = typer.Typer(help="Members and roles.", no_args_is_help=True)
web_app = typer.Typer(help="The built-in web chat.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(members_app, name="members")
app.add_typer(web_app, name="web")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"klantpet: {message}", err=True)
    return typer.Exit(code)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; invalid ones stop here with one line per problem."""
    try:
        settings = Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as error:
        for line in describe_errors(error):
            typer.echo(f"klantpet: invalid setting {line}", err=True)
        raise typer.Exit(2) from None
    logs.configure(settings.log_level, settings.log_format)
    return settings


def run_async[T](work: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(work)


def build_services(settings: Settings) -> Any:
    """The composition root; a damaged key file in the data folder is one clear line and exit 1."""
    from bot.app import Services

    try:
        return Services(settings)
    except ValueError as error:
        raise fail(_reason(error)) from None


@asynccontextmanager
async def ready_services(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Any]:
    """Services with a reachable, migrated database; an unreachable one is one clear line and exit 1."""
    from storage.migrate import upgrade

    settings = settings.model_copy(update={"background": False})
    services = build_services(settings)
    try:
        try:
            await services.database.ping()
        except Exception as error:
            where = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
            raise fail(f"cannot reach the database at {where}: {_reason(error)}") from None
        if migrate:
            await upgrade(services.database)
        yield services
    finally:
        await services.database.dispose()


async def one_member(repos: Any, reference: str) -> Any:
    """The one member ``reference`` names; nobody, or several people of that name, is one line and exit 2."""
    found = await repos.members.matching(reference)
    if not found:
        raise fail(f"no member {reference!r}", 2)
    if len(found) > 1:
        numbers = ", ".join(f"#{member.id}" for member in found)
        raise fail(
            f"{reference!r} is ambiguous: {len(found)} members have that name ({numbers}); use the #id", 2
        )
    return found[0]


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200]


@app.command()
def run(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Start the bot: migrations, (demo data), web server, scheduler and outbox."""
    settings = load_settings(host=host, port=port)
    run_async(_serve(settings))


async def _serve(settings: Settings) -> None:
    import uvicorn

    from bot import demo
    from bot.app import settle_heap
    from bot.server import create_app
    from storage.migrate import upgrade

    services = build_services(settings)
    try:
        await services.database.ping()
    except Exception as error:
        where = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
        await services.database.dispose()
        raise fail(f"cannot reach the database at {where}: {_reason(error)}") from None
    await upgrade(services.database)
    if settings.demo_mode and await demo.seed(services):
        typer.echo("Demo organisation created (13 people, 6 departments, 4 channels).")
    application = create_app(services, after_start=settle_heap)
    config = uvicorn.Config(
        application,
        host=settings.host,
        port=settings.port,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=5,  # open web-chat streams must not hold a shutdown up
    )
    server = uvicorn.Server(config)
    listening_everywhere = settings.host in ("0.0.0.0", "::")  # noqa: S104
    base = f"http://{'127.0.0.1' if listening_everywhere else settings.host}:{settings.port}"
    if "web" in services.platforms:
        typer.echo(f"Web chat:  {base}/chat")
    link = await _first_admin_link(application, services, base) if settings.demo_mode else None
    if link:
        typer.echo(f"Dashboard: {link}   (one-time sign-in link, valid 15 minutes)")
    else:
        typer.echo(f"Dashboard: {settings.public_url or base}/admin   ({_how_to_sign_in(settings)})")
    typer.echo(f"Health:    {base}/healthz   (Ctrl+C stops)")
    sys.stdout.flush()
    await server.serve()


def _how_to_sign_in(settings: Settings) -> str:
    link = 'a sign-in link: klantpet dashboard link "<name>"'
    if settings.oidc_provider is not None:
        provider = "Slack" if settings.oidc_provider == "slack" else "Microsoft"
        return f"sign in with {provider}, or {link}"
    return link


async def _first_admin_link(application: Any, services: Any, base: str) -> str | None:
    from storage.models import Role
    from storage.repositories import Repos

    async with services.database.transaction() as session:
        admins = await Repos(session).members.with_role(Role.admin)
    if not admins:
        return None
    link: str = application.state.dashboard_auth.link(base, admins[0].id)
    return link


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations."""
    settings = load_settings()

    async def work() -> None:
        async with ready_services(settings):
            pass

    run_async(work())
    typer.echo("Database is up to date.")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Argument(help="What the migration does.")],
    revision_id: Annotated[str, typer.Option("--id", help="Revision id, e.g. stories_0001.")],
) -> None:
    """Write a new migration from the models (for maintainers); review it before committing."""
    import tempfile

    from storage.migrate import new_revision

    with tempfile.TemporaryDirectory() as scratch:
        path = new_revision(message, revision_id, f"sqlite+aiosqlite:///{scratch}/scratch.db")
    typer.echo(f"Written: {path}")


@members_app.command("grant")
def members_grant(
    member: Annotated[str, typer.Argument(help="<platform>:<id>, #<member id> or the exact name.")],
    role: Annotated[str, typer.Argument(help="employee, leader, cx_manager or admin.")],
) -> None:
    """Give a member a role."""
    _change_role(member, role, grant=True)


@members_app.command("revoke")
def members_revoke(member: str, role: str) -> None:
    """Take a role away from a member."""
    _change_role(member, role, grant=False)


def _change_role(reference: str, role_name: str, *, grant: bool) -> None:
    from storage.models import Role
    from storage.repositories import Repos

    try:
        role = Role(role_name)
    except ValueError:
        raise fail(f"unknown role {role_name!r} (use {', '.join(r.value for r in Role)})", 2) from None
    settings = load_settings()

    async def work() -> str:
        async with ready_services(settings) as services, services.database.transaction() as session:
            repos = Repos(session)
            member = await one_member(repos, reference)
            changed = await (
                repos.members.grant(member, role) if grant else repos.members.revoke(member, role)
            )
            await repos.audit.record(
                None, "role.grant" if grant else "role.revoke", f"member:{member.id}", role=role.value
            )
            verb = "now has" if grant else "no longer has"
            return (
                f"{member.name} {verb} the role {role.value}."
                if changed
                else f"{member.name}: nothing changed."
            )

    typer.echo(run_async(work()))


@members_app.command("list")
def members_list() -> None:
    """List members with their roles and platforms."""
    from storage.repositories import Repos

    settings = load_settings()

    async def work() -> list[str]:
        async with ready_services(settings) as services, services.database.transaction() as session:
            rows = []
            for member in await Repos(session).members.active():
                roles = ",".join(sorted(role.value for role in member.role_names))
                platforms = ",".join(f"{i.platform}:{i.external_id}" for i in member.identities)
                rows.append(
                    f"#{member.id}\t{member.name}\t{member.department_name or '-'}\t{roles}\t{platforms}"
                )
            return rows

    for line in run_async(work()):
        typer.echo(line)


@web_app.command("link")
def web_link(member: str, minutes: Annotated[int, typer.Option(min=1, max=1440)] = 30) -> None:
    """Print a one-time sign-in link to the web chat for a member."""
    from storage.repositories import Repos

    settings = load_settings()

    async def work() -> str:
        async with ready_services(settings) as services:
            if services.web is None:
                raise fail("the web chat is off (KLANTPET_WEB_CHAT=true switches it on)", 2)
            async with services.database.transaction() as session:
                found = await one_member(Repos(session), member)
            link: str = services.web.sign_in_link(found.id, minutes)
            return link

    typer.echo(run_async(work()))


def _load_feature_commands() -> None:
    for module_info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module_info.name.startswith("cli_"):
            module = importlib.import_module(f"bot.{module_info.name}")
            register: Callable[[typer.Typer], None] | None = getattr(module, "register", None)
            if register is not None:
                register(app)


_load_feature_commands()


def main() -> None:
    app()
