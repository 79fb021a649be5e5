"""The CX relay: a leader passes the baton to a peer with a challenge; the peer seeks customer contact,
shares a snippet, and passes it on. Only leaders give and hold the baton. The follow-up (weekly reminders until
the holder shared and then passed it on, and the stall escalation) is in `relay_reminders`."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from bot.commands import ParsedCommand
from bot.context import Context, JobContext
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.messages import Button, Buttons, Form, Message, Text
from bot.messages import Field_ as Field
from bot.router import Router, Submission
from handlers.leadership import relay_reminders as reminders
from handlers.leadership.common import (
    is_leader,
    leaders,
    local_date,
    pass_button,
    require_leader,
    who,
    write_button,
)
from handlers.leadership.relay_chain import chain, chain_text, eligible_peers, people
from storage.models import Member, Role
from storage.models.leadership import LeaderSnippet, Relay, RelayLeg

router = Router()
MAX_CHALLENGE = 500


# --- Reading the relay ---------------------------------------------------------------------------------
async def relay_note(ctx: JobContext, author: Member, locale: str) -> str | None:
    """A line for a snippet posted by the baton holder: whose baton and which challenge."""
    leg = await ctx.repo.leadership.open_leg_of(author.id)
    if leg is None or leg.passed_by_member_id is None:
        return None
    giver = await ctx.repo.members.get(leg.passed_by_member_id)
    return ctx.t(
        locale, "leadership.relay.post_note", giver=giver.name if giver else "?", challenge=leg.challenge
    )


@router.command("relay", help_key="leadership.help.relay")
async def show_relay(ctx: Context, command: ParsedCommand) -> None:
    """Everyone may see the chain so far."""
    relay = await ctx.repo.leadership.latest_relay()
    buttons: list[Button] = []
    if relay is None:
        lines = [ctx.t("leadership.relay.none")]
        if is_leader(ctx.member):
            buttons.append(pass_button(ctx, ctx.locale, "leadership.relay.button_start"))
    else:
        legs = list(await ctx.repo.leadership.legs(relay.id))
        names = await people(ctx, legs)
        lines = [ctx.t("leadership.relay.chain", chain=chain(legs, names))]
        current = legs[-1]
        holder = names.get(current.holder_member_id)
        zone = ctx.timezone_of(ctx.member)
        if relay.running and current.shared_at is None:
            days = (ctx.now() - current.received_at).days
            lines.append(
                ctx.t(
                    "leadership.relay.holding",
                    holder=who(holder),
                    since=local_date(current.received_at, zone),
                    days=days,
                    challenge=current.challenge,
                )
            )
            if current.holder_member_id == ctx.member.id:
                buttons.append(write_button(ctx, ctx.locale))
        elif relay.running:
            lines.append(ctx.t("leadership.relay.choosing", holder=who(holder)))
            if current.holder_member_id == ctx.member.id:
                buttons.append(pass_button(ctx, ctx.locale))
        else:
            ended = local_date(relay.ended_at or relay.started_at, zone)
            lines.append(ctx.t(f"leadership.relay.ended_{relay.status}", date=ended))
            if is_leader(ctx.member):
                buttons.append(pass_button(ctx, ctx.locale, "leadership.relay.button_start"))
    blocks: list[Text | Buttons] = [Text(text="\n".join(lines))]
    if buttons:
        blocks.append(Buttons(buttons=tuple(buttons)))
    await ctx.reply(Message(blocks=tuple(blocks), key="leadership.relay.chain"))


# --- Passing the baton -----------------------------------------------------------------------------------
@router.command("relay pass", role=Role.leader, help_key="leadership.help.relay_pass")
async def pass_command(ctx: Context, command: ParsedCommand) -> None:
    require_leader(ctx)
    if not command.rest:
        await _reply_pass_form(ctx)
        return
    peer, challenge = await _peer_and_challenge(ctx, command.rest)
    await _pass_and_confirm(ctx, peer, challenge)


@router.action("leadership.relay.open_pass", role=Role.leader)
async def open_pass_form(ctx: Context, _: object) -> None:
    require_leader(ctx)
    await _reply_pass_form(ctx)


async def _reply_pass_form(ctx: Context) -> None:
    relay = await ctx.repo.leadership.running_relay()
    if relay is not None:
        await _check_may_pass(ctx, relay, ctx.member)
    peers = await eligible_peers(ctx, ctx.member, relay)
    if not peers:
        raise Conflict("leadership.relay.no_peers")
    form = Form(
        action="leadership.relay.pass",
        title=ctx.t("leadership.relay.form_title"),
        submit_label=ctx.t("leadership.relay.form_submit"),
        fields=(
            Field(
                name="peer",
                label=ctx.t("leadership.relay.form_peer"),
                style="select",
                options=tuple((str(member.id), who(member)) for member in peers),
            ),
            Field(
                name="challenge",
                label=ctx.t("leadership.relay.form_challenge"),
                style="textarea",
                max_length=MAX_CHALLENGE,
                value=ctx.t("leadership.relay.default_challenge"),
            ),
        ),
    )
    await ctx.reply(Message(blocks=(form,), key="leadership.relay.form_title"), ephemeral=True)


@router.form("leadership.relay.pass", role=Role.leader)
async def pass_form(ctx: Context, submission: Submission) -> None:
    require_leader(ctx)
    reference = submission.fields.get("peer", "").strip()
    peer = await ctx.repo.members.get(int(reference)) if reference.isdigit() else None
    if peer is None:
        raise InvalidInput("leadership.relay.pick_peer", field="peer")
    await _pass_and_confirm(ctx, peer, submission.fields.get("challenge", ""))


async def _peer_and_challenge(ctx: Context, rest: str) -> tuple[Member, str]:
    """``#12 challenge``, ``"Karin Peters" challenge``, ``Karin Peters challenge`` or ``Karin challenge``."""
    text = rest.strip()
    if text.startswith('"') and '"' in text[1:]:
        name, _, challenge = text[1:].partition('"')
        found = await ctx.repo.members.find(name)
        if found is None:
            raise NotFound("leadership.relay.peer_not_found", reference=name[:80])
        return found, challenge
    words = text.split()
    for length in range(min(len(words), 4), 0, -1):
        found = await ctx.repo.members.find(" ".join(words[:length]))
        if found is not None:
            return found, " ".join(words[length:])
    by_first_name = [
        member for member in await leaders(ctx) if member.name.split()[0].lower() == words[0].lower()
    ]
    if len(by_first_name) == 1:
        return by_first_name[0], " ".join(words[1:])
    raise NotFound("leadership.relay.peer_not_found", reference=words[0][:80])


async def _check_may_pass(ctx: JobContext, relay: Relay, giver: Member) -> RelayLeg:
    current = list(await ctx.repo.leadership.legs(relay.id))[-1]
    if current.holder_member_id != giver.id:
        holder = await ctx.repo.members.get(current.holder_member_id)
        raise Conflict("leadership.relay.not_your_baton", holder=who(holder))
    if current.shared_at is None:
        raise Conflict("leadership.relay.share_first")
    return current


async def pass_baton(ctx: JobContext, giver: Member, peer: Member, challenge: str) -> RelayLeg:
    """Hand the baton from ``giver`` to ``peer`` with a challenge, starting a relay when none runs.

    Only leaders give and receive it. The peer hears it by DM; weekly reminders and the stall escalation are
    planned. Raises `NotAllowed` / `InvalidInput` / `Conflict` (and changes nothing) when the pass is not
    allowed, also when another pass or start got in first at the same moment.
    """
    if not is_leader(giver):
        raise NotAllowed("leadership.leaders_only")
    if peer.id == giver.id:
        raise InvalidInput("leadership.relay.not_yourself")
    if not is_leader(peer):
        raise InvalidInput("leadership.relay.not_a_leader", name=peer.name)
    challenge = challenge.strip() or ctx.t(ctx.locale_of(giver), "leadership.relay.default_challenge")
    if len(challenge) > MAX_CHALLENGE:
        raise InvalidInput("error.field_too_long", field="challenge", limit=MAX_CHALLENGE)
    now = ctx.now()
    repo = ctx.repo.leadership
    relay = await repo.running_relay()
    current = await _check_may_pass(ctx, relay, giver) if relay is not None else None
    if relay is not None and peer.id in {leg.holder_member_id for leg in await repo.legs(relay.id)}:
        raise Conflict("leadership.relay.already_ran", name=peer.name)
    try:
        # One running relay and one leg per position (unique constraints): a start or pass by someone else
        # at the same moment makes this one lose, politely.
        async with ctx.session.begin_nested():
            if relay is None:
                relay = await repo.start_relay(giver.id, now)
            leg = await repo.add_leg(relay, peer.id, giver.id, challenge, now)
    except IntegrityError:
        raise Conflict("leadership.relay.changed_meanwhile") from None
    if current is not None:
        current.passed_at = now
        await reminders.stop(ctx, current)
    await reminders.plan(ctx, leg, peer, since=now)
    locale = ctx.locale_of(peer)
    text = ctx.t(
        locale,
        "leadership.relay.received",
        giver=who(giver),
        challenge=challenge,
        chain=await chain_text(ctx, relay),
    )
    button = write_button(ctx, locale)
    await ctx.dm(
        peer,
        Message(blocks=(Text(text=text), Buttons(buttons=(button,))), key="leadership.relay.received"),
        key=f"relay-baton:{leg.id}",
    )
    await ctx.audit(giver, "relay.pass", f"relay:{relay.id}", to=peer.id)
    return leg


async def _pass_and_confirm(ctx: Context, peer: Member, challenge: str) -> None:
    leg = await pass_baton(ctx, ctx.member, peer, challenge)
    relay = await ctx.repo.leadership.running_relay()
    assert relay is not None and relay.id == leg.relay_id
    await ctx.reply(
        ctx.message("leadership.relay.passed", name=peer.name, chain=await chain_text(ctx, relay))
    )


# --- The holder shares: thank them and ask them to pass it on --------------------------------------------
async def snippet_shared(ctx: JobContext, snippet: LeaderSnippet, author: Member) -> None:
    """Called when a snippet is posted: it fulfils the author's open relay leg, if they hold the baton. They are
    asked to pass it on (and reminded weekly until they do), or the relay is complete when nobody is left."""
    leg = await ctx.repo.leadership.open_leg_of(author.id)
    if leg is None or leg.shared_at is not None:
        return
    leg.shared_at = ctx.now()
    leg.snippet_id = snippet.id
    relay = await ctx.repo.leadership.running_relay()
    assert relay is not None
    if not await eligible_peers(ctx, author, relay):
        await reminders.finish(ctx, relay, leg, author)
        return
    await reminders.plan(ctx, leg, author, since=leg.shared_at)
    locale = ctx.locale_of(author)
    message = Message(
        blocks=(
            Text(text=ctx.t(locale, "leadership.relay.pass_on")),
            Buttons(buttons=(pass_button(ctx, locale),)),
        ),
        key="leadership.relay.pass_on",
    )
    await ctx.dm(author, message, key=f"relay-shared:{leg.id}")


# --- Stopping a relay ---------------------------------------------------------------------------------------
@router.command("relay stop", role=Role.cx_manager, help_key="leadership.help.relay_stop")
async def stop_relay(ctx: Context, command: ParsedCommand) -> None:
    relay = await ctx.repo.leadership.running_relay()
    if relay is None:
        raise Conflict("leadership.relay.not_running")
    current = list(await ctx.repo.leadership.legs(relay.id))[-1]
    await reminders.stop(ctx, current)
    await ctx.repo.leadership.end_relay(relay, "stopped", ctx.now())
    holder = await ctx.repo.members.get(current.holder_member_id)
    if holder is not None and current.passed_at is None:
        await ctx.dm(
            holder,
            Message.text(
                ctx.t(ctx.locale_of(holder), "leadership.relay.stopped_notice"),
                key="leadership.relay.stopped_notice",
            ),
            key=f"relay-stopped:{relay.id}",
        )
    await ctx.audit(ctx.member, "relay.stop", f"relay:{relay.id}")
    await ctx.reply(ctx.message("leadership.relay.stopped", chain=await chain_text(ctx, relay)))
