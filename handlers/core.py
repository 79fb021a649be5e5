"""The basics every member meets: welcome, help, language, and who am I."""

from __future__ import annotations

from bot.commands import ParsedCommand
from bot.context import Context
from bot.errors import InvalidInput, NotFound
from bot.events import MemberJoined
from bot.i18n import LOCALES
from bot.messages import Button, Buttons, Message, Text
from bot.messages import Context as Footer
from bot.router import Click, Router
from storage.models import Role

router = Router()


def _help_lines(ctx: Context) -> list[str]:
    lines = []
    catalog = ctx.services.catalog
    for path, route in sorted(ctx.services.routes.commands.items()):
        if route.help_key and ctx.member.has_role(route.role):
            words = [
                catalog.choices(ctx.locale, f"commands.aliases.{word}")[0]
                if catalog.has(ctx.locale, f"commands.aliases.{word}")
                else word
                for word in path
            ]
            lines.append(f"- `{' '.join(words)}` — {ctx.t(route.help_key)}")
    return lines


def help_message(ctx: Context, unknown: str | None = None) -> Message:
    blocks: list[Text | Buttons | Footer] = []
    if unknown:
        blocks.append(Text(text=ctx.t("help.unknown", text=unknown[:80])))
    blocks.append(Text(text=ctx.t("help.intro") + "\n" + "\n".join(_help_lines(ctx))))
    blocks.append(
        Buttons(
            buttons=(
                Button(label=ctx.t("help.button_ritual"), action="help.topic", payload={"topic": "ritual"}),
                Button(
                    label=ctx.t("help.button_anonymity"), action="help.topic", payload={"topic": "anonymity"}
                ),
                Button(
                    label=ctx.t("help.button_language"),
                    action="core.language",
                    payload={"locale": _other(ctx)},
                ),
            )
        )
    )
    blocks.append(Footer(text=ctx.t("help.footer")))
    return Message(blocks=tuple(blocks), key="help.unknown" if unknown else "help.intro")


def _other(ctx: Context) -> str:
    return next(locale for locale in LOCALES if locale != ctx.locale)


@router.command("help", help_key="help.commands.help")
async def show_help(ctx: Context, command: ParsedCommand) -> None:
    unknown = command.rest if command.options.get("unknown") else None
    await ctx.reply(help_message(ctx, unknown))


@router.action("help.topic")
async def help_topic(ctx: Context, click: Click) -> None:
    topic = str(click.value.get("topic"))
    if topic not in ("ritual", "anonymity"):
        raise InvalidInput("error.expired_action")
    await ctx.reply(Message.text(ctx.t(f"help.topics.{topic}"), key=f"help.topics.{topic}"))


@router.command("language", help_key="help.commands.language")
async def language(ctx: Context, command: ParsedCommand) -> None:
    wanted = (command.args[0] if command.args else "").lower()
    if wanted not in LOCALES:
        raise InvalidInput("error.unknown_language", given=wanted or "—")
    await _set_language(ctx, wanted)


@router.action("core.language")
async def language_button(ctx: Context, click: Click) -> None:
    wanted = str(click.value.get("locale"))
    if wanted not in LOCALES:
        raise InvalidInput("error.unknown_language", given=wanted)
    await _set_language(ctx, wanted)


async def _set_language(ctx: Context, locale: str) -> None:
    ctx.member.locale = locale
    ctx.locale = locale
    await ctx.reply(ctx.message("core.language_set"))


@router.command("me", help_key="help.commands.me")
async def whoami(ctx: Context, command: ParsedCommand) -> None:
    roles = ", ".join(ctx.t(f"roles.{role.value}") for role in sorted(ctx.member.role_names))
    platforms = ", ".join(sorted(identity.platform for identity in ctx.member.identities))
    await ctx.reply(
        ctx.message(
            "core.me",
            name=ctx.member.name,
            department=ctx.member.department_name or "—",
            roles=roles,
            platforms=platforms or "—",
            timezone=ctx.timezone_of(ctx.member),
        ),
        ephemeral=True,
    )


@router.joined()
async def welcome(ctx: Context, event: MemberJoined) -> None:
    first_name = ctx.member.name.split()[0]
    await ctx.dm(
        ctx.member,
        Message(
            blocks=(
                Text(text=ctx.t("welcome.text", name=first_name)),
                Buttons(
                    buttons=(
                        Button(label=ctx.t("welcome.button_help"), action="core.help", style="primary"),
                        Button(
                            label=ctx.t("help.button_language"),
                            action="core.language",
                            payload={"locale": _other(ctx)},
                        ),
                    )
                ),
            ),
            key="welcome.text",
        ),
        key=f"welcome:{ctx.member.id}",
    )


@router.action("core.help")
async def help_button(ctx: Context, click: Click) -> None:
    await ctx.reply(help_message(ctx))


async def _role_change(ctx: Context, command: ParsedCommand, *, grant: bool) -> None:
    if len(command.args) != 2:
        raise InvalidInput("error.role_usage")
    reference, role_name = command.args
    try:
        role = Role(role_name.lower())
    except ValueError:
        raise InvalidInput("error.unknown_role", given=role_name) from None
    member = await ctx.repo.members.find(reference)
    if member is None:
        raise NotFound("error.member_not_found", reference=reference)
    changed = await (ctx.repo.members.grant(member, role) if grant else ctx.repo.members.revoke(member, role))
    await ctx.audit(
        ctx.member, "role.grant" if grant else "role.revoke", f"member:{member.id}", role=role.value
    )
    key = ("core.role_granted" if grant else "core.role_revoked") if changed else "core.role_unchanged"
    await ctx.reply(ctx.message(key, name=member.name, role=ctx.t(f"roles.{role.value}")))


@router.command("role grant", role=Role.admin, help_key="help.commands.role_grant")
async def grant_role(ctx: Context, command: ParsedCommand) -> None:
    await _role_change(ctx, command, grant=True)


@router.command("role revoke", role=Role.admin, help_key="help.commands.role_revoke")
async def revoke_role(ctx: Context, command: ParsedCommand) -> None:
    await _role_change(ctx, command, grant=False)
