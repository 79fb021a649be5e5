"""Results of closed rounds, with the anonymity rules applied: the functions the chat, the CLI export and
the CX dashboard use. Nothing here returns a count for a group below the threshold.

- `read_results(ctx, actor, round_id)` — a round's results, audited (what a person reads).
- `round_results(ctx, pulse_round)` — the same without the audit entry (for exports that audit themselves).
- `enps_trend(ctx, series_id=None)` — eNPS, respondents and response rate per closed round, oldest first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from bot.context import JobContext
from bot.errors import Conflict
from handlers.pulses import anonymity
from handlers.pulses.library import Question, all_questions, ordered, round_questions
from handlers.pulses.rounds import round_or_fail
from storage.models import Member
from storage.models.pulses import WHOLE_AUDIENCE, PulseRound


@dataclass(frozen=True)
class QuestionResult:
    question_id: str
    kind: str
    text: str
    respondents: int
    shown: bool
    counts: dict[int, int] = field(default_factory=dict)
    """value → count; empty when not shown."""
    enps: int | None = None
    split: tuple[int, int, int] | None = None
    """eNPS questions: % promoters, passives, detractors."""
    mean: float | None = None


@dataclass(frozen=True)
class GroupResult:
    department_id: int
    name: str
    invited: int | None
    responded: int | None
    questions: list[QuestionResult]


@dataclass(frozen=True)
class Comparison:
    """A follow-up against its baseline (0-meting): positive means better now."""

    baseline_id: int
    baseline_name: str
    enps_change: int | None
    mean_changes: dict[str, float]


@dataclass(frozen=True)
class RoundResults:
    round_id: int
    name: str
    status: str
    opens_at: datetime
    closes_at: datetime
    baseline: bool
    threshold: int
    comment_threshold: int
    invited: int
    responded: int
    response_rate: int | None
    questions: list[QuestionResult]
    groups: list[GroupResult]
    hidden_groups: int
    """Departments counted apart at opening whose results are hidden (too few answers, or differencing)."""
    comments: list[str]
    themes: list[dict[str, Any]]
    themes_source: str | None
    comparison: Comparison | None

    @property
    def enps(self) -> int | None:
        return next((q.enps for q in self.questions if q.kind == "enps" and q.shown), None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["enps"] = self.enps
        return data


@dataclass(frozen=True)
class TrendPoint:
    round_id: int
    name: str
    closes_at: datetime
    baseline: bool
    enps: int | None
    respondents: int
    response_rate: int | None


def _invited_responded(stats: dict[int, tuple[int, int]], group: int) -> tuple[int | None, int | None]:
    found = stats.get(group)
    return (found[0], found[1]) if found else (None, None)


def _percentage(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


def _question_result(question: Question, text: str, counts: dict[int, int], shown: bool) -> QuestionResult:
    if not shown:
        return QuestionResult(question.id, question.kind, text, 0, False)
    n = anonymity.respondents(counts)
    full = {value: counts.get(value, 0) for value in question.values}
    if question.kind == "enps":
        return QuestionResult(
            question.id, question.kind, text, n, True, full, anonymity.enps(full), anonymity.enps_split(full)
        )
    return QuestionResult(question.id, question.kind, text, n, True, full, mean=anonymity.mean(full))


async def round_results(ctx: JobContext, pulse_round: PulseRound, locale: str | None = None) -> RoundResults:
    """The results of a closed round (raises `Conflict` while it is still open or scheduled)."""
    if pulse_round.status != "closed":
        raise Conflict("pulse.results.not_closed")
    locale = locale or ctx.settings.default_locale
    repo = ctx.repo.pulses
    k = anonymity.threshold(ctx.settings.anonymity_threshold, pulse_round.threshold)
    comment_k = anonymity.comment_threshold(k, ctx.settings.comment_threshold, pulse_round.comment_threshold)
    questions = await round_questions(repo, pulse_round.question_ids)
    tallies = await repo.tallies(pulse_round.id)
    stats = await repo.group_stats(pulse_round.id)
    texts = {q.id: q.render(locale, ctx.settings.organisation) for q in questions}
    whole_results: list[QuestionResult] = []
    per_group: dict[int, list[QuestionResult]] = {group: [] for group in pulse_round.groups}
    for question in questions:
        if not question.values:
            continue
        whole = tallies.get((question.id, WHOLE_AUDIENCE), {})
        group_counts = {
            g: anonymity.respondents(tallies.get((question.id, g), {})) for g in pulse_round.groups
        }
        shown = anonymity.shown_groups(anonymity.respondents(whole), group_counts, k)
        whole_results.append(
            _question_result(question, texts[question.id], whole, anonymity.respondents(whole) >= k)
        )
        for group in shown:
            per_group[group].append(
                _question_result(question, texts[question.id], tallies[(question.id, group)], True)
            )
    names = {department.id: department.name for department in await ctx.repo.members.departments()}
    groups = [
        GroupResult(group, names.get(group, f"#{group}"), *_invited_responded(stats, group), results)
        for group, results in sorted(per_group.items(), key=lambda item: names.get(item[0], ""))
        if results
    ]
    invited, responded = stats.get(WHOLE_AUDIENCE, (pulse_round.invited_count, 0))
    comments = [text for _, text in await repo.comments(pulse_round.id)]
    comments_shown = len(comments) >= comment_k
    results = RoundResults(
        round_id=pulse_round.id,
        name=pulse_round.name,
        status=pulse_round.status,
        opens_at=pulse_round.opens_at,
        closes_at=pulse_round.closes_at,
        baseline=pulse_round.baseline,
        threshold=k,
        comment_threshold=comment_k,
        invited=invited,
        responded=responded,
        response_rate=_percentage(responded, invited),
        questions=whole_results,
        groups=groups,
        hidden_groups=len(pulse_round.groups) - len(groups),
        comments=comments if comments_shown else [],
        themes=list(pulse_round.themes or []) if comments_shown else [],
        themes_source=pulse_round.themes_source if comments_shown else None,
        comparison=None,
    )
    if not pulse_round.baseline:
        baseline = await repo.baseline_before(pulse_round)
        if baseline is not None:
            earlier = await round_results(ctx, baseline, locale)
            results = _with_comparison(results, earlier)
    return results


def _with_comparison(now: RoundResults, baseline: RoundResults) -> RoundResults:
    before = {q.question_id: q.mean for q in baseline.questions if q.shown and q.mean is not None}
    changes = {
        q.question_id: round(q.mean - before[q.question_id], 2)
        for q in now.questions
        if q.shown and q.mean is not None and q.question_id in before
    }
    enps_change = now.enps - baseline.enps if now.enps is not None and baseline.enps is not None else None
    comparison = Comparison(baseline.round_id, baseline.name, enps_change, changes)
    return RoundResults(**{**now.__dict__, "comparison": comparison})


async def read_results(
    ctx: JobContext, actor: Member | None, round_id: int, locale: str | None = None
) -> RoundResults:
    """A round's results for a person to read; the read is written to the audit log."""
    pulse_round = await round_or_fail(ctx, round_id)
    results = await round_results(ctx, pulse_round, locale)
    await ctx.audit(actor, "pulse.results.read", f"pulse_round:{round_id}")
    return results


async def enps_trend(ctx: JobContext, series_id: int | None = None, limit: int = 24) -> list[TrendPoint]:
    """Per closed round (oldest first): eNPS when shown, respondents and response rate."""
    points = []
    k = anonymity.threshold(ctx.settings.anonymity_threshold)
    library = await all_questions(ctx.repo.pulses)
    for pulse_round in await ctx.repo.pulses.closed_rounds(series_id, limit):
        tallies = await ctx.repo.pulses.tallies(pulse_round.id)
        counts = tallies.get((_enps_id(pulse_round, library), WHOLE_AUDIENCE), {})
        n = anonymity.respondents(counts)
        invited, responded = (await ctx.repo.pulses.group_stats(pulse_round.id)).get(WHOLE_AUDIENCE, (0, 0))
        shown = n >= max(k, pulse_round.threshold)
        points.append(
            TrendPoint(
                pulse_round.id,
                pulse_round.name,
                pulse_round.closes_at,
                pulse_round.baseline,
                anonymity.enps(counts) if shown else None,
                responded,
                _percentage(responded, invited),
            )
        )
    return points


def _enps_id(pulse_round: PulseRound, library: dict[str, Question]) -> str:
    """The round's eNPS question: the standard one or a CX manager's own (the first asked), or ""."""
    asked = ordered(pulse_round.question_ids, library)
    return next((question.id for question in asked if question.kind == "enps"), "")
