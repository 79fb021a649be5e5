"""``klantpet pulses …``: list rounds and export a closed round's aggregates (never a single answer)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from bot.cli import fail, load_settings, ready_services, run_async

pulses_app = typer.Typer(help="Anonymous pulse rounds.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(pulses_app, name="pulses")


@pulses_app.command("list")
def list_rounds() -> None:
    """List pulse rounds, newest first."""
    from storage.repositories import Repos

    settings = load_settings()

    async def work() -> list[str]:
        async with ready_services(settings) as services, services.database.transaction() as session:
            return [
                f"{r.id}\t{r.status}\t{r.opens_at:%Y-%m-%d %H:%M}\t{r.closes_at:%Y-%m-%d %H:%M}\t{r.name}"
                + ("\tbaseline" if r.baseline else "")
                for r in await Repos(session).pulses.rounds(limit=100)
            ]

    for line in run_async(work()):
        typer.echo(line)


@pulses_app.command("export")
def export(
    round_id: Annotated[int, typer.Argument(metavar="ROUND", help="The number of a closed round.")],
    out: Annotated[Path, typer.Option("--out", help="The CSV file to write.")],
) -> None:
    """Write a closed round's aggregates to CSV: counts per question and group, hidden groups left out."""
    from bot.errors import KlantpetError
    from handlers.pulses.results import round_results
    from handlers.pulses.rounds import round_or_fail

    settings = load_settings()

    async def work() -> list[list[str]]:
        async with ready_services(settings) as services, services.database.transaction() as session:
            ctx = services.job_context(session)
            try:
                results = await round_results(ctx, await round_or_fail(ctx, round_id))
            except KlantpetError as error:
                raise fail(f"round {round_id}: {ctx.t('en', error.key, **error.params)}", 2) from None
            await ctx.audit(None, "pulse.results.export", f"pulse_round:{round_id}")
            rows = [["round", "group", "question", "kind", "measure", "value", "count"]]
            rows.append([str(round_id), "all", "", "", "invited", "", str(results.invited)])
            rows.append([str(round_id), "all", "", "", "responded", "", str(results.responded)])
            groups = [("all", results.questions)] + [
                (group.name, group.questions) for group in results.groups
            ]
            for group_name, questions in groups:
                for question in questions:
                    if not question.shown:
                        continue
                    if question.enps is not None:
                        rows.append(
                            [
                                str(round_id),
                                group_name,
                                question.question_id,
                                question.kind,
                                "enps",
                                str(question.enps),
                                str(question.respondents),
                            ]
                        )
                    if question.mean is not None:
                        rows.append(
                            [
                                str(round_id),
                                group_name,
                                question.question_id,
                                question.kind,
                                "mean",
                                f"{question.mean:.2f}",
                                str(question.respondents),
                            ]
                        )
                    for value, count in sorted(question.counts.items()):
                        rows.append(
                            [
                                str(round_id),
                                group_name,
                                question.question_id,
                                question.kind,
                                "answer",
                                str(value),
                                str(count),
                            ]
                        )
            return rows

    rows = run_async(work())
    with out.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    typer.echo(f"Written {len(rows) - 1} aggregate rows to {out}.")
