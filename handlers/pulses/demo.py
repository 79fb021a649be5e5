"""The demo's pulses: two closed rounds of a simulated, larger organisation (a baseline and a follow-up, so
results, comment themes and an eNPS trend exist) and one open round that asks every demo member."""

from __future__ import annotations

import random
from datetime import timedelta

from bot.context import JobContext
from handlers.pulses.closing import hidden_groups
from handlers.pulses.library import all_questions, ordered
from handlers.pulses.rounds import RoundSpec, create_round
from handlers.pulses.themes import summarise
from storage.models.pulses import WHOLE_AUDIENCE, PulseRound

# department: (invited, responded) in the simulated past rounds
SIMULATED = {
    "Klantenservice": (20, 14),
    "Sales": (12, 9),
    "Marketing": (10, 7),
    "Logistiek": (9, 6),
    "IT": (6, 3),
    "Finance": (7, 2),
}
QUESTIONS = ["enps", "likert-work-impact", "likert-know-customer-voice", "open-improve"]
COMMENTS = [
    "Minder interne overleggen en meer tijd aan de telefoon met klanten.",
    "Een klantdossier dat alle afdelingen kunnen zien, zodat klanten hun verhaal niet steeds opnieuw hoeven te doen.",
    "Sneller antwoord van Logistiek als een levering vertraagd is.",
    "Dat we klachten niet alleen afhandelen, maar ook terugkoppelen wat we eraan veranderd hebben.",
    "Meer ruimte om zelf een oplossing te kiezen voor een klant zonder eerst toestemming te vragen.",
    "Klantverhalen delen in het teamoverleg, ook de verhalen waar het misging.",
    "Een vast aanspreekpunt bij IT voor klantproblemen met de webshop.",
    "Targets die niet alleen over snelheid gaan maar ook over of de klant geholpen is.",
    "Betere training voor nieuwe collega's over onze producten.",
    "Minder handmatig werk in het systeem, dan houden we meer tijd over voor klanten.",
    "Dat Sales en Klantenservice samen kijken naar wat we klanten beloven.",
    "Meer terugkoppeling van klanten over de levering en de tijd die het kost.",
    "Een duidelijk budget om een klant iets goed te maken als er iets misgaat.",
    "De wachttijd aan de telefoon omlaag; klanten klagen daar het meest over.",
    "Beter overleg tussen Marketing en Klantenservice over acties, zodat we weten wat klanten gaan vragen.",
    "Dat leidinggevenden vaker zelf een dag meedraaien bij Klantenservice.",
    "Snellere systemen; het duurt soms minuten voordat een klantdossier opent.",
    "Meer tijd voor klanten en minder tijd voor interne rapportages.",
    "Duidelijke afspraken over wie een klantprobleem oppakt als het tussen twee teams valt.",
    "Klanten vaker zelf vragen wat ze van ons vinden, niet alleen een score.",
    "Een gedeeld overzicht van de meest gestelde klantvragen per week.",
    "Waardering voor collega's die een klant echt verder hebben geholpen.",
]


# eNPS answer weights for 0…10: the baseline lands near -10, the follow-up near +10.
ENPS_WEIGHTS = {False: [1, 1, 1, 2, 3, 5, 8, 12, 14, 9, 6], True: [0, 1, 1, 1, 2, 4, 6, 11, 15, 12, 9]}


def _answers(rng: random.Random, count: int, values: tuple[int, ...], better: bool) -> list[int]:
    if len(values) == 11:
        return rng.choices(values, weights=ENPS_WEIGHTS[better], k=count)
    mode = 3.6 if better else 3.2
    return [max(1, min(5, round(rng.triangular(1, 5, mode)))) for _ in range(count)]


async def _past_round(
    ctx: JobContext, name: str, weeks_ago: int, *, baseline: bool, better: bool, comments: int, seed: int
) -> PulseRound:
    now = ctx.now()
    repo = ctx.repo.pulses
    rng = random.Random(seed)
    departments = {d.name: d.id for d in await ctx.repo.members.departments()}
    groups = sorted(
        departments[name] for name, (invited, _) in SIMULATED.items() if name in departments and invited >= 5
    )
    opens_at = now - timedelta(weeks=weeks_ago)
    pulse_round = await repo.add_round(
        name=name,
        sequence=0,
        status="closed",
        audience={"kind": "everyone", "ids": [], "names": []},
        question_ids=QUESTIONS,
        rotate=False,
        likert_count=2,
        include_open=True,
        recurrence=None,
        timezone=ctx.settings.default_timezone,
        opens_at=opens_at,
        closes_at=opens_at + timedelta(days=7),
        send_window_minutes=0,
        randomise=False,
        reminder_minutes=[],
        quiet_start="20:00",
        quiet_end="08:00",
        baseline=baseline,
        threshold=max(5, ctx.settings.anonymity_threshold),
        comment_threshold=max(10, ctx.settings.comment_threshold),
        groups=groups,
        invited_count=sum(invited for invited, _ in SIMULATED.values()),
        created_at=opens_at,
        opened_at=opens_at,
        closed_at=opens_at + timedelta(days=7),
    )
    questions = ordered(QUESTIONS, await all_questions(repo))
    await repo.create_tallies(pulse_round.id, {q.id: q.values for q in questions if q.values}, groups)
    for question in questions:
        if not question.values:
            continue
        whole: dict[int, int] = {}
        for department, (_, responded) in SIMULATED.items():
            values = _answers(rng, responded, question.values, better)
            counts = {value: values.count(value) for value in question.values}
            for value, count in counts.items():
                whole[value] = whole.get(value, 0) + count
            if departments.get(department) in groups:
                await repo.set_counts(pulse_round.id, question.id, departments[department], counts)
        await repo.set_counts(pulse_round.id, question.id, WHOLE_AUDIENCE, whole)
    await repo.seal(
        pulse_round.id,
        hidden_groups(pulse_round, questions, await repo.tallies(pulse_round.id), pulse_round.threshold),
    )
    stats = {WHOLE_AUDIENCE: (pulse_round.invited_count, sum(r for _, r in SIMULATED.values()))}
    stats.update({departments[n]: v for n, v in SIMULATED.items() if departments.get(n) in groups})
    await repo.put_group_stats(pulse_round.id, stats)
    await repo.add_comments(pulse_round.id, "open-improve", rng.sample(COMMENTS, comments))
    await summarise(ctx, pulse_round)
    return pulse_round


async def seed_demo(ctx: JobContext) -> None:
    """Two closed rounds (a 0-meting and a follow-up) and one open round for every demo member."""
    await _past_round(ctx, "0-meting klantgerichtheid", 9, baseline=True, better=False, comments=16, seed=11)
    await _past_round(ctx, "Vervolgmeting 1", 4, baseline=False, better=True, comments=13, seed=23)
    cx_manager = await ctx.repo.members.by_name("Chloé Bakker")
    await create_round(
        ctx,
        RoundSpec(name="Vervolgmeting 2", duration_minutes=7 * 24 * 60, quiet_hours=("00:00", "00:00")),
        cx_manager,
    )
