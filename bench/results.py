"""Results: how long the pulse results take to read over 1,000,000 responses, on SQLite and PostgreSQL.

    uv run python -m bench.results                  # both databases, 50 rounds x 20,000 respondents
    uv run python -m bench.results --database postgresql --rounds 100 --respondents 10000

Answers are never rows (see storage/models/pulses.py: a response is an increment of a counter), so the bench
writes what closing that many rounds leaves behind: per round the counters of four scale questions for the
whole audience and 30 departments, the head counts, and the released open answers (15 % of respondents
comment). Then it times what people read, through the feature's own functions:

- ``resultaten`` in chat and the dashboard's round page: the latest round with its baseline comparison and
  every department that may be shown (`handlers.pulses.results.read_results`);
- the eNPS trend chart over every round (`enps_trend`);
- the comment themes of a round without an LLM, as closing computes them once (`handlers.pulses.themes`).

Target: each read under one second.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.common import Progress, bench_settings, fresh_database, scratch_folder, table
from bot.app import Services
from bot.context import JobContext
from handlers.pulses.library import ENPS_ID, all_questions
from handlers.pulses.results import enps_trend, read_results
from storage.models import Department
from storage.models.pulses import WHOLE_AUDIENCE, PulseComment, PulseGroupStat, PulseRound, PulseTally

DEPARTMENTS = 30
WORDS = [
    "klant",
    "wachttijd",
    "telefoon",
    "levering",
    "retour",
    "factuur",
    "collega",
    "overleg",
    "afdeling",
    "prioriteit",
    "systeem",
    "klachten",
    "bellen",
    "terugbellen",
    "snel",
    "traag",
    "vriendelijk",
    "duidelijk",
    "onduidelijk",
    "werkdruk",
    "planning",
]


async def seed(services: Services, rounds: int, respondents: int, rng: random.Random) -> list[int]:
    """``rounds`` closed weekly rounds of ``respondents`` each, as closing leaves them."""
    async with services.database.transaction() as session:
        library = await all_questions(JobContext(services, session).repo.pulses)
        departments = list(
            await session.scalars(
                insert(Department).returning(Department.id, sort_by_parameter_order=True),
                [{"name": f"Afdeling {n:02d}"} for n in range(DEPARTMENTS)],
            )
        )
    likert = [question.id for question in library.values() if question.kind == "likert"]
    open_question = next(question.id for question in library.values() if question.kind == "open")
    progress = Progress("rounds", rounds)
    start = datetime.now(UTC) - timedelta(weeks=rounds + 1)
    ids: list[int] = []
    for number in range(rounds):
        questions = [ENPS_ID, *(likert[(number * 3 + offset) % len(likert)] for offset in range(3))]
        opens = start + timedelta(weeks=number)
        async with services.database.transaction() as session:
            pulse_round = PulseRound(
                name=f"Peiling week {number + 1}",
                sequence=number,
                status="closed",
                audience={"kind": "everyone"},
                question_ids=[*questions, open_question],
                rotate=True,
                likert_count=3,
                include_open=True,
                timezone="Europe/Amsterdam",
                opens_at=opens,
                closes_at=opens + timedelta(days=7),
                baseline=number == 0,
                threshold=5,
                comment_threshold=10,
                groups=departments,
                invited_count=int(respondents * 1.25),
                created_at=opens,
                opened_at=opens,
                closed_at=opens + timedelta(days=7),
            )
            session.add(pulse_round)
            await session.flush()
            ids.append(pulse_round.id)
            await session.execute(
                insert(PulseTally), tallies(pulse_round.id, questions, departments, respondents, rng)
            )
            per_department = respondents // DEPARTMENTS
            await session.execute(
                insert(PulseGroupStat),
                [
                    {
                        "round_id": pulse_round.id,
                        "department_id": WHOLE_AUDIENCE,
                        "invited": int(respondents * 1.25),
                        "responded": respondents,
                    },
                    *(
                        {
                            "round_id": pulse_round.id,
                            "department_id": department,
                            "invited": int(per_department * 1.25),
                            "responded": per_department,
                        }
                        for department in departments
                    ),
                ],
            )
            comments = sorted(comment(rng) for _ in range(respondents * 15 // 100))
            for first in range(0, len(comments), 5000):
                await session.execute(
                    insert(PulseComment),
                    [
                        {
                            "round_id": pulse_round.id,
                            "question_id": open_question,
                            "position": first + n,
                            "text": text,
                        }
                        for n, text in enumerate(comments[first : first + 5000])
                    ],
                )
        progress.update(number + 1)
    progress.close()
    return ids


def tallies(
    round_id: int, questions: list[str], departments: list[int], respondents: int, rng: random.Random
) -> list[dict[str, Any]]:
    rows = []
    per_department = respondents // DEPARTMENTS
    for question in questions:
        values = range(11) if question == ENPS_ID else range(1, 6)
        weights = [1 + value for value in values]  # skewed towards the top, as real pulses are
        whole = dict.fromkeys(values, 0)
        for department in departments:
            counts = dict.fromkeys(values, 0)
            for value in rng.choices(list(values), weights, k=per_department):
                counts[value] += 1
                whole[value] += 1
            rows += [
                {
                    "round_id": round_id,
                    "question_id": question,
                    "department_id": department,
                    "value": v,
                    "count": c,
                }
                for v, c in counts.items()
            ]
        rows += [
            {
                "round_id": round_id,
                "question_id": question,
                "department_id": WHOLE_AUDIENCE,
                "value": v,
                "count": c,
            }
            for v, c in whole.items()
        ]
    return rows


def comment(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(6, 24))).capitalize() + "."


async def timed(label: str, work: Callable[[], Awaitable[Any]], repeat: int = 5) -> list[str]:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        seconds.append(time.perf_counter() - started)
    return [label, f"{statistics.median(seconds) * 1000:.0f} ms", f"{max(seconds) * 1000:.0f} ms"]


async def run(database: str, rounds: int, respondents: int) -> list[list[str]]:
    rng = random.Random(20261206)
    with scratch_folder() as scratch:
        folder = Path(scratch)
        async with fresh_database(database, folder) as url:
            services = Services(bench_settings(folder, url, background=False))
            try:
                ids = await seed(services, rounds, respondents, rng)
                latest = ids[-1]

                async def results() -> None:
                    async with services.database.transaction() as session:
                        await read_results(JobContext(services, session), None, latest, "nl")

                async def trend() -> None:
                    async with services.database.transaction() as session:
                        points = await enps_trend(JobContext(services, session), limit=rounds)
                        assert len(points) == rounds

                async def themes() -> None:
                    from handlers.pulses.themes import summarise

                    async with services.database.transaction() as session:
                        ctx = JobContext(services, session)
                        pulse_round = await ctx.repo.pulses.get(latest)
                        assert pulse_round is not None
                        await summarise(ctx, pulse_round)

                rows = [
                    await timed(f"round results ({DEPARTMENTS} departments, baseline)", results),
                    await timed(f"eNPS trend over {rounds} rounds", trend),
                    await timed(f"comment themes ({respondents * 15 // 100:,} comments, no LLM)", themes),
                ]
            finally:
                await services.database.dispose()
    return [[database, *row] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--respondents", type=int, default=20_000)
    arguments = parser.parse_args()
    databases = ["sqlite", "postgresql"] if arguments.database == "both" else [arguments.database]
    rows = []
    for database in databases:
        rows += asyncio.run(run(database, arguments.rounds, arguments.respondents))
    total = arguments.rounds * arguments.respondents
    print(
        f"\nPulse results over {total:,} responses ({arguments.rounds} rounds x {arguments.respondents:,}):\n"
    )
    print(table(["database", "what is read", "median", "slowest"], rows))
    print("\ntarget: under 1 s each")


if __name__ == "__main__":
    main()
