"""What CX managers say in chat about rounds that exist: list, close and cancel them, mark a baseline, manage
questions, and read results (every read is audited). Planning a round (``pulse new``) is in
`handlers.pulses.planning`."""

from __future__ import annotations

from bot.commands import ParsedCommand
from bot.context import Context
from bot.errors import Conflict, InvalidInput
from bot.messages import Message
from handlers.pulses.cards import moment_text
from handlers.pulses.closing import close_round
from handlers.pulses.library import KINDS, all_questions
from handlers.pulses.planning import whole_number
from handlers.pulses.results import enps_trend, read_results
from handlers.pulses.rounds import cancel_series, round_or_fail
from handlers.pulses.routes import router
from handlers.pulses.view import results_message
from storage.models import Role


@router.command("pulse list", role=Role.cx_manager, help_key="pulse.help.list")
async def list_rounds(ctx: Context, command: ParsedCommand) -> None:
    rounds = await ctx.repo.pulses.rounds(limit=15)
    if not rounds:
        await ctx.reply(ctx.message("pulse.list.empty"))
        return
    zone = ctx.timezone_of(ctx.member)
    lines = [ctx.t("pulse.list.title")]
    for pulse_round in rounds:
        responded = None
        if pulse_round.status == "open":
            responded = await ctx.repo.pulses.responded_count(pulse_round.id)
        elif pulse_round.status == "closed":
            responded = (await ctx.repo.pulses.group_stats(pulse_round.id)).get(0, (0, 0))[1]
        lines.append(
            ctx.t(
                "pulse.list.line",
                id=pulse_round.id,
                name=pulse_round.name,
                status=ctx.t(f"pulse.status.{pulse_round.status}"),
                opens=moment_text(ctx, ctx.locale, pulse_round.opens_at, zone),
                closes=moment_text(ctx, ctx.locale, pulse_round.closes_at, zone),
                responded=responded if responded is not None else "—",
                invited=pulse_round.invited_count or "—",
                baseline=pulse_round.baseline,
            )
        )
    await ctx.reply(Message.text("\n".join(lines), key="pulse.list.title"))


def _round_id(command: ParsedCommand) -> int:
    if len(command.args) != 1:
        raise InvalidInput("pulse.error.round_id")
    return whole_number(command.args[0].lstrip("#"), "pulse.error.round_id")


@router.command("pulse close", role=Role.cx_manager, help_key="pulse.help.close")
async def close_now(ctx: Context, command: ParsedCommand) -> None:
    pulse_round = await round_or_fail(ctx, _round_id(command))
    if pulse_round.status != "open":
        raise Conflict("pulse.error.not_open", id=pulse_round.id)
    await close_round(ctx, pulse_round)
    await ctx.audit(ctx.member, "pulse.round.close", f"pulse_round:{pulse_round.id}")
    await ctx.reply(ctx.message("pulse.closed_now", id=pulse_round.id, name=pulse_round.name))


@router.command("pulse cancel", role=Role.cx_manager, help_key="pulse.help.cancel")
async def cancel(ctx: Context, command: ParsedCommand) -> None:
    pulse_round = await round_or_fail(ctx, _round_id(command))
    if pulse_round.status in ("closed", "cancelled"):
        raise Conflict("pulse.error.already_over", id=pulse_round.id)
    count = await cancel_series(ctx, pulse_round, ctx.member)
    await ctx.reply(ctx.message("pulse.cancelled", id=pulse_round.id, count=count))


@router.command("pulse baseline", role=Role.cx_manager, help_key="pulse.help.baseline")
async def mark_baseline(ctx: Context, command: ParsedCommand) -> None:
    pulse_round = await round_or_fail(ctx, _round_id(command))
    pulse_round.baseline = not pulse_round.baseline
    await ctx.audit(
        ctx.member, "pulse.round.baseline", f"pulse_round:{pulse_round.id}", baseline=pulse_round.baseline
    )
    key = "pulse.baseline_on" if pulse_round.baseline else "pulse.baseline_off"
    await ctx.reply(ctx.message(key, id=pulse_round.id, name=pulse_round.name))


@router.command("pulse questions", role=Role.cx_manager, help_key="pulse.help.questions")
async def list_questions(ctx: Context, command: ParsedCommand) -> None:
    library = await all_questions(ctx.repo.pulses)
    lines = [ctx.t("pulse.questions.title")]
    for question in library.values():
        lines.append(
            f"- `{question.id}` ({ctx.t(f'pulse.kind.{question.kind}')}): {question.render(ctx.locale, ctx.settings.organisation)}"
        )
    await ctx.reply(Message.text("\n".join(lines), key="pulse.questions.title"))


@router.command("pulse question add", role=Role.cx_manager, help_key="pulse.help.question_add")
async def add_question(ctx: Context, command: ParsedCommand) -> None:
    if len(command.args) != 2:
        raise InvalidInput("pulse.error.usage_question")
    kind, text = command.args[0].lower(), " ".join(command.args[1].split())
    kind = {"stelling": "likert", "open": "open", "enps": "enps", "likert": "likert"}.get(kind, kind)
    if kind not in KINDS:
        raise InvalidInput("pulse.error.kind", given=command.args[0])
    english = " ".join(command.options.get("en", "").split())
    if not 5 <= len(text) <= 300 or len(english) > 300:
        raise InvalidInput("pulse.error.question_length")
    dutch, english = (
        (text, english or text) if ctx.locale == "nl" else (command.options.get("nl") or text, text)
    )
    question = await ctx.repo.pulses.add_question(
        kind, dutch, english, command.options.get("theme") or None, ctx.member.id, ctx.now()
    )
    await ctx.audit(ctx.member, "pulse.question.add", f"pulse_question:{question.id}")
    await ctx.reply(
        ctx.message("pulse.question_added", id=f"custom-{question.id}", kind=ctx.t(f"pulse.kind.{kind}"))
    )


@router.command("results", role=Role.cx_manager, help_key="pulse.help.results")
async def results(ctx: Context, command: ParsedCommand) -> None:
    if command.args:
        pulse_round = await round_or_fail(ctx, _round_id(command))
    else:
        found = await ctx.repo.pulses.latest_closed()
        if found is None:
            await ctx.reply(ctx.message("pulse.results.none"))
            return
        pulse_round = found
    if pulse_round.status != "closed":
        responded = await ctx.repo.pulses.responded_count(pulse_round.id)
        await ctx.reply(
            ctx.message(
                "pulse.results.not_closed",
                id=pulse_round.id,
                responded=responded,
                invited=pulse_round.invited_count,
                closes=moment_text(ctx, ctx.locale, pulse_round.closes_at, ctx.timezone_of(ctx.member)),
            )
        )
        return
    found_results = await read_results(ctx, ctx.member, pulse_round.id, ctx.locale)
    trend = await enps_trend(ctx)
    await ctx.reply(results_message(ctx, found_results, trend))
