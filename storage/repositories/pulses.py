"""Pulse questions, rounds, invitations and participation. All pulse SQL lives here and in
`storage.repositories.pulse_responses` (the anonymous side: counters and open answers).

Participation says who answered which question of an open round, never what; `record_answer(s)` and
`record_comment` are the only places that touch both sides, in one transaction. The cards members were sent
are outbox rows, found by `storage.repositories.pulse_cards`. See `storage.models.pulses`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.pulses import (
    WHOLE_AUDIENCE,
    PulseGroupStat,
    PulseInvitation,
    PulseParticipation,
    PulseQuestion,
    PulseRound,
)
from storage.repositories.pulse_cards import PulseCards
from storage.repositories.pulse_responses import Counts, PulseResponses
from storage.upsert import insert_ignore, insert_ignore_returning

__all__ = ["Answer", "Counts", "PulseRepository"]


@dataclass(frozen=True)
class Answer:
    """One member's answer to a scale question, and the group it counts in besides the whole audience."""

    member_id: int
    question_id: str
    value: int
    group: int | None


class PulseRepository(PulseResponses, PulseCards):
    """Questions, rounds, invitations and participation (who, never what), plus the anonymous side."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- Questions ------------------------------------------------------------------------------------
    async def add_question(
        self, kind: str, text_nl: str, text_en: str, theme: str | None, created_by: int | None, now: datetime
    ) -> PulseQuestion:
        question = PulseQuestion(
            kind=kind, text_nl=text_nl, text_en=text_en, theme=theme, created_by=created_by, created_at=now
        )
        self.session.add(question)
        await self.session.flush()
        return question

    async def custom_questions(self) -> Sequence[PulseQuestion]:
        statement = select(PulseQuestion).where(PulseQuestion.archived.is_(False)).order_by(PulseQuestion.id)
        return (await self.session.scalars(statement)).all()

    async def custom_question(self, question_id: int) -> PulseQuestion | None:
        return await self.session.get(PulseQuestion, question_id)

    # --- Rounds ---------------------------------------------------------------------------------------
    async def add_round(self, **fields: Any) -> PulseRound:
        pulse_round = PulseRound(**fields)
        self.session.add(pulse_round)
        await self.session.flush()
        if pulse_round.series_id is None:
            pulse_round.series_id = pulse_round.id
        return pulse_round

    async def get(self, round_id: int) -> PulseRound | None:
        return await self.session.get(PulseRound, round_id)

    async def rounds(self, *, statuses: Iterable[str] | None = None, limit: int = 20) -> Sequence[PulseRound]:
        """Newest first."""
        statement = select(PulseRound).order_by(PulseRound.opens_at.desc(), PulseRound.id.desc()).limit(limit)
        if statuses is not None:
            statement = statement.where(PulseRound.status.in_(list(statuses)))
        return (await self.session.scalars(statement)).all()

    async def count_rounds(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(PulseRound)) or 0)

    async def closed_rounds(self, series_id: int | None = None, limit: int = 24) -> Sequence[PulseRound]:
        """Closed rounds, oldest first (a trend reads left to right)."""
        statement = (
            select(PulseRound)
            .where(PulseRound.status == "closed")
            .order_by(PulseRound.closes_at.desc(), PulseRound.id.desc())
            .limit(limit)
        )
        if series_id is not None:
            statement = statement.where(PulseRound.series_id == series_id)
        return list(reversed((await self.session.scalars(statement)).all()))

    async def latest_closed(self) -> PulseRound | None:
        closed = await self.closed_rounds(limit=1)
        return closed[-1] if closed else None

    async def baseline_before(self, pulse_round: PulseRound) -> PulseRound | None:
        """The latest closed baseline round that closed before ``pulse_round`` (its 0-meting)."""
        statement = (
            select(PulseRound)
            .where(
                PulseRound.status == "closed",
                PulseRound.baseline.is_(True),
                PulseRound.id != pulse_round.id,
                PulseRound.closes_at <= pulse_round.closes_at,
            )
            .order_by(PulseRound.closes_at.desc(), PulseRound.id.desc())
            .limit(1)
        )
        return (await self.session.scalars(statement)).first()

    async def scheduled_in_series(self, series_id: int) -> Sequence[PulseRound]:
        statement = select(PulseRound).where(
            PulseRound.series_id == series_id, PulseRound.status == "scheduled"
        )
        return (await self.session.scalars(statement)).all()

    # --- Invitations and participation ------------------------------------------------------------------
    async def invite(self, round_id: int, invitees: Iterable[tuple[int, int | None]]) -> int:
        """Invite (member id, department id) pairs; returns how many were new."""
        rows = [
            {
                "round_id": round_id,
                "member_id": member_id,
                "department_id": department_id,
                "reminders_sent": 0,
            }
            for member_id, department_id in invitees
        ]
        if not rows:
            return 0
        return await insert_ignore(
            self.session,
            PulseInvitation.__table__,  # type: ignore[arg-type]
            rows,
            ["round_id", "member_id"],
        )

    async def invitation(self, round_id: int, member_id: int) -> PulseInvitation | None:
        return await self.session.get(PulseInvitation, (round_id, member_id))

    async def invitations_of(self, round_id: int, member_ids: Iterable[int]) -> dict[int, PulseInvitation]:
        """Several members' invitations to one round: member id -> invitation (the uninvited left out)."""
        wanted = list(set(member_ids))
        if not wanted:
            return {}
        statement = select(PulseInvitation).where(
            PulseInvitation.round_id == round_id, PulseInvitation.member_id.in_(wanted)
        )
        return {invitation.member_id: invitation for invitation in await self.session.scalars(statement)}

    async def invitations(self, round_id: int) -> Sequence[PulseInvitation]:
        statement = (
            select(PulseInvitation)
            .where(PulseInvitation.round_id == round_id)
            .order_by(PulseInvitation.member_id)
        )
        return (await self.session.scalars(statement)).all()

    async def open_rounds_of(self, member_id: int) -> Sequence[PulseRound]:
        statement = (
            select(PulseRound)
            .join(PulseInvitation, PulseInvitation.round_id == PulseRound.id)
            .where(PulseInvitation.member_id == member_id, PulseRound.status == "open")
            .order_by(PulseRound.opens_at)
        )
        return (await self.session.scalars(statement)).all()

    async def answered(self, round_id: int, member_id: int) -> set[str]:
        """The questions ``member_id`` answered in an open round (not what they answered)."""
        statement = select(PulseParticipation.question_id).where(
            PulseParticipation.round_id == round_id, PulseParticipation.member_id == member_id
        )
        return set((await self.session.scalars(statement)).all())

    async def answered_of(self, round_id: int, member_ids: Iterable[int]) -> dict[int, set[str]]:
        """`answered` for several members of one round in one statement."""
        wanted = list(set(member_ids))
        found: dict[int, set[str]] = {member_id: set() for member_id in wanted}
        if not wanted:
            return found
        statement = select(PulseParticipation.member_id, PulseParticipation.question_id).where(
            PulseParticipation.round_id == round_id, PulseParticipation.member_id.in_(wanted)
        )
        for member_id, question_id in (await self.session.execute(statement)).all():
            found[member_id].add(question_id)
        return found

    async def answered_by_member(self, round_id: int) -> dict[int, set[str]]:
        statement = select(PulseParticipation.member_id, PulseParticipation.question_id).where(
            PulseParticipation.round_id == round_id
        )
        found: dict[int, set[str]] = defaultdict(set)
        for member_id, question_id in (await self.session.execute(statement)).all():
            found[member_id].add(question_id)
        return dict(found)

    async def responded_count(self, round_id: int) -> int:
        """How many invited people answered at least one question so far."""
        statement = select(func.count(func.distinct(PulseParticipation.member_id))).where(
            PulseParticipation.round_id == round_id
        )
        return int(await self.session.scalar(statement) or 0)

    async def non_responders(self, round_id: int, reminder: int) -> Sequence[PulseInvitation]:
        """Invitations with no answer at all that have had fewer than ``reminder`` reminders."""
        answered = select(PulseParticipation.member_id).where(PulseParticipation.round_id == round_id)
        statement = (
            select(PulseInvitation)
            .where(
                PulseInvitation.round_id == round_id,
                PulseInvitation.reminders_sent < reminder,
                PulseInvitation.member_id.not_in(answered),
            )
            .order_by(PulseInvitation.member_id)
        )
        return (await self.session.scalars(statement)).all()

    async def _participate(self, round_id: int, member_id: int, question_id: str) -> bool:
        inserted = await insert_ignore(
            self.session,
            PulseParticipation.__table__,  # type: ignore[arg-type]
            {"round_id": round_id, "member_id": member_id, "question_id": question_id},
            ["round_id", "member_id", "question_id"],
        )
        return inserted == 1

    # --- Answers: where the named side (participation) meets the anonymous side (counters, buffer) -------
    async def record_answer(
        self, round_id: int, member_id: int, question_id: str, value: int, group: int | None
    ) -> bool:
        """Count one answer once; False (nothing changed) when this member answered the question before."""
        if not await self._participate(round_id, member_id, question_id):
            return False
        await self._count(round_id, question_id, value, group)
        return True

    async def record_answers(self, round_id: int, answers: Sequence[Answer]) -> set[int]:
        """`record_answer` for many members of one round at once (at most one answer each): the members
        whose answer was counted; the others had answered that question before, and nothing of theirs changed.
        """
        rows = [
            {"round_id": round_id, "member_id": answer.member_id, "question_id": answer.question_id}
            for answer in answers
        ]
        inserted = await insert_ignore_returning(
            self.session,
            PulseParticipation.__table__,  # type: ignore[arg-type]
            rows,
            ["round_id", "member_id", "question_id"],
            ["member_id", "question_id"],
        )
        counted = {(int(member_id), str(question_id)) for member_id, question_id in inserted}
        self._count_many(
            round_id,
            [
                (answer.question_id, answer.value, answer.group)
                for answer in answers
                if (answer.member_id, answer.question_id) in counted
            ],
        )
        return {member_id for member_id, _ in counted}

    async def record_comment(self, round_id: int, member_id: int, question_id: str, sealed: str) -> bool:
        """Keep a sealed open answer (or sealed skip) until closing, with no member and no time; False when
        this member answered the question before."""
        if not await self._participate(round_id, member_id, question_id):
            return False
        await self._buffer(round_id, question_id, sealed)
        return True

    # --- Closing ----------------------------------------------------------------------------------------
    async def summarise_participation(self, pulse_round: PulseRound) -> None:
        """Replace who was invited and who answered by head counts per group, then forget the people."""
        invitations = await self.invitations(pulse_round.id)
        answered = set((await self.answered_by_member(pulse_round.id)).keys())
        stats: dict[int, list[int]] = {WHOLE_AUDIENCE: [0, 0]}
        for group in pulse_round.groups:
            stats[group] = [0, 0]
        for invitation in invitations:
            keys = [WHOLE_AUDIENCE]
            if invitation.department_id in stats and invitation.department_id != WHOLE_AUDIENCE:
                keys.append(invitation.department_id)
            for key in keys:
                stats[key][0] += 1
                stats[key][1] += invitation.member_id in answered
        await self.put_group_stats(pulse_round.id, {key: (v[0], v[1]) for key, v in stats.items()})
        await self.session.execute(
            delete(PulseParticipation).where(PulseParticipation.round_id == pulse_round.id)
        )
        await self.session.execute(delete(PulseInvitation).where(PulseInvitation.round_id == pulse_round.id))

    async def put_group_stats(self, round_id: int, stats: dict[int, tuple[int, int]]) -> None:
        for group in sorted(stats):
            invited, responded = stats[group]
            self.session.add(
                PulseGroupStat(round_id=round_id, department_id=group, invited=invited, responded=responded)
            )
        await self.session.flush()

    async def group_stats(self, round_id: int) -> dict[int, tuple[int, int]]:
        """Group → (invited, responded) of a closed round."""
        statement = select(PulseGroupStat).where(PulseGroupStat.round_id == round_id)
        return {
            row.department_id: (row.invited, row.responded) for row in (await self.session.scalars(statement))
        }

    # --- Privacy and retention --------------------------------------------------------------------------
    async def export_for_member(self, member_id: int) -> dict[str, Any]:
        """The open rounds the member is asked in and how many questions they answered there (never what),
        and the rounds and questions they created. Closed rounds keep no participation at all."""
        invited = await self.session.execute(
            select(PulseRound.id, PulseRound.name, PulseRound.opens_at, PulseRound.closes_at)
            .join(PulseInvitation, PulseInvitation.round_id == PulseRound.id)
            .where(PulseInvitation.member_id == member_id)
            .order_by(PulseRound.id)
        )
        answered = await self.session.execute(
            select(PulseParticipation.round_id, func.count())
            .where(PulseParticipation.member_id == member_id)
            .group_by(PulseParticipation.round_id)
        )
        answers = {int(round_id): int(count) for round_id, count in answered.all()}
        created = await self.session.execute(
            select(PulseRound.id, PulseRound.name, PulseRound.created_at)
            .where(PulseRound.created_by == member_id)
            .order_by(PulseRound.id)
        )
        questions = await self.session.scalars(
            select(PulseQuestion).where(PulseQuestion.created_by == member_id).order_by(PulseQuestion.id)
        )
        return {
            "participation": [
                {
                    "round_id": round_id,
                    "round": name,
                    "opens_at": opens_at,
                    "closes_at": closes_at,
                    "questions_answered": answers.get(int(round_id), 0),
                }
                for round_id, name, opens_at, closes_at in invited.all()
            ],
            "rounds_created": [
                {"id": round_id, "name": name, "created_at": at} for round_id, name, at in created.all()
            ],
            "questions_added": [
                {
                    "id": question.id,
                    "kind": question.kind,
                    "text_nl": question.text_nl,
                    "text_en": question.text_en,
                }
                for question in questions
            ],
        }

    async def open_since(self, cutoff: datetime) -> Sequence[PulseRound]:
        """Rounds still open that opened before ``cutoff``."""
        statement = (
            select(PulseRound)
            .where(PulseRound.status == "open", PulseRound.opened_at < cutoff)
            .order_by(PulseRound.id)
        )
        return (await self.session.scalars(statement)).all()

    async def forget_participation_of_finished_rounds(self) -> int:
        """Delete invitations and participation left behind by rounds that are no longer open."""
        finished = select(PulseRound.id).where(PulseRound.status.not_in(["open", "scheduled"]))
        removed = 0
        for table in (PulseParticipation, PulseInvitation):
            result = await self.session.execute(delete(table).where(table.round_id.in_(finished)))
            removed += int(getattr(result, "rowcount", 0) or 0)
        return removed
