"""The anonymous side of pulses: counters and open answers. Nothing here takes or returns a member.

Writing a response never inserts a counter row: it increments one counter and rewrites its siblings
(``count + 0``) in the same statement, so on PostgreSQL every counter of the question carries the same
transaction id (``xmin``) and physical order, whichever value was chosen. Open answers wait sealed (encrypted
by the caller, all of one length) in the buffer and are released in alphabetical order at closing.
"""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.at_commit import at_commit
from storage.models.pulses import (
    WHOLE_AUDIENCE,
    PulseComment,
    PulseCommentBuffer,
    PulseRound,
    PulseTally,
)
from storage.upsert import insert_ignore

Counts = dict[int, int]
"""value → how many people chose it."""


# One answer: +1 on the chosen value's counters (the whole audience's and the group's), +0 on the question's
# other counters. One statement object, with the answer as parameters, so it is compiled once.
_COUNT = (
    update(PulseTally)
    .where(PulseTally.round_id == bindparam("b_round"), PulseTally.question_id == bindparam("b_question"))
    .values(
        count=PulseTally.count
        + case(
            (
                and_(
                    PulseTally.value == bindparam("b_value"),
                    PulseTally.department_id.in_(bindparam("b_groups", expanding=True)),
                ),
                1,
            ),
            else_=0,
        )
    )
    .execution_options(synchronize_session=False)
)


class PulseResponses:
    """Counters and comments of rounds; `storage.repositories.pulses.PulseRepository` builds on it."""

    session: AsyncSession

    async def create_tallies(
        self, round_id: int, values: dict[str, Sequence[int]], groups: Sequence[int]
    ) -> None:
        """Every counter of the round at zero, in key order, so later writes only ever update."""
        rows = [
            {
                "round_id": round_id,
                "question_id": question_id,
                "department_id": group,
                "value": value,
                "count": 0,
            }
            for question_id in sorted(values)
            for group in sorted({WHOLE_AUDIENCE, *groups})
            for value in sorted(values[question_id])
        ]
        if rows:
            await insert_ignore(
                self.session,
                PulseTally.__table__,  # type: ignore[arg-type]
                rows,
                ["round_id", "question_id", "department_id", "value"],
            )

    async def _count(self, round_id: int, question_id: str, value: int, group: int | None) -> None:
        groups = [WHOLE_AUDIENCE] if group is None else [WHOLE_AUDIENCE, group]
        # Last in the transaction: every answer to the question locks these rows, so they are held for
        # the commit only (see storage.at_commit).
        at_commit(
            self.session,
            _COUNT,
            parameters={"b_round": round_id, "b_question": question_id, "b_value": value, "b_groups": groups},
            failure=f"no counters for round {round_id} question {question_id}",
        )

    def _count_many(self, round_id: int, answers: Iterable[tuple[str, int, int | None]]) -> None:
        """`_count` for many (question, value, group) answers: per question one statement that adds each
        counter's share and rewrites the question's other counters, as one answer does."""
        shares: dict[str, Counter[tuple[int, int]]] = defaultdict(Counter)
        for question_id, value, group in answers:
            for department in [WHOLE_AUDIENCE] if group is None else [WHOLE_AUDIENCE, group]:
                shares[question_id][(department, value)] += 1
        for question_id in sorted(shares):
            share = case(
                *[
                    (and_(PulseTally.department_id == department, PulseTally.value == value), count)
                    for (department, value), count in sorted(shares[question_id].items())
                ],
                else_=0,
            )
            at_commit(
                self.session,
                update(PulseTally)
                .where(PulseTally.round_id == round_id, PulseTally.question_id == question_id)
                .values(count=PulseTally.count + share)
                .execution_options(synchronize_session=False),
                failure=f"no counters for round {round_id} question {question_id}",
            )

    async def _buffer(self, round_id: int, question_id: str, sealed: str) -> None:
        self.session.add(
            PulseCommentBuffer(
                token=secrets.token_hex(16), round_id=round_id, question_id=question_id, text=sealed
            )
        )
        await self.session.flush()

    async def tallies(self, round_id: int) -> dict[tuple[str, int], Counts]:
        """(question id, group) → value → count, for every counter of the round."""
        statement = select(
            PulseTally.question_id, PulseTally.department_id, PulseTally.value, PulseTally.count
        ).where(PulseTally.round_id == round_id)
        found: dict[tuple[str, int], Counts] = defaultdict(dict)
        for question_id, group, value, count in (await self.session.execute(statement)).all():
            found[(question_id, group)][value] = count
        return dict(found)

    async def seal(self, round_id: int, hidden: dict[str, set[int]]) -> None:
        """Zero the counters of groups too small to show (per question), rewriting every counter of the
        round in one statement so none stands out."""
        conditions = [
            and_(PulseTally.question_id == question_id, PulseTally.department_id.in_(sorted(groups)))
            for question_id, groups in sorted(hidden.items())
            if groups
        ]
        new_count: Any = PulseTally.count
        for condition in conditions:
            new_count = case((condition, 0), else_=new_count)
        await self.session.execute(
            update(PulseTally)
            .where(PulseTally.round_id == round_id)
            .values(count=new_count + 0)
            .execution_options(synchronize_session=False)
        )

    async def set_counts(self, round_id: int, question_id: str, group: int, counts: Counts) -> None:
        """Set counters directly (the demo's simulated past rounds)."""
        for value, count in counts.items():
            await self.session.execute(
                update(PulseTally)
                .where(
                    PulseTally.round_id == round_id,
                    PulseTally.question_id == question_id,
                    PulseTally.department_id == group,
                    PulseTally.value == value,
                )
                .values(count=count)
                .execution_options(synchronize_session=False)
            )

    # --- Open answers ------------------------------------------------------------------------------------
    async def buffered_counts(self, round_id: int) -> dict[str, int]:
        """Open question → how many sealed entries (answers and skips alike) wait in the buffer."""
        statement = (
            select(PulseCommentBuffer.question_id, func.count())
            .where(PulseCommentBuffer.round_id == round_id)
            .group_by(PulseCommentBuffer.question_id)
        )
        return {row[0]: int(row[1]) for row in (await self.session.execute(statement)).all()}

    async def buffered(self, round_id: int) -> list[tuple[str, str]]:
        """(question id, sealed text) of every entry waiting in the buffer, ordered by the sealed text (which
        is random), never by arrival."""
        statement = (
            select(PulseCommentBuffer.question_id, PulseCommentBuffer.text)
            .where(PulseCommentBuffer.round_id == round_id)
            .order_by(PulseCommentBuffer.text)
        )
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]

    async def release_comments(self, round_id: int, texts: Mapping[str, Iterable[str]]) -> int:
        """Store the given open answers of the round (question id → plain texts) in alphabetical order and
        empty the round's buffer; returns how many were stored."""
        released = 0
        for question_id in sorted(texts):
            released += await self.add_comments(round_id, question_id, texts[question_id])
        await self.session.execute(delete(PulseCommentBuffer).where(PulseCommentBuffer.round_id == round_id))
        await self.session.flush()
        return released

    async def add_comments(self, round_id: int, question_id: str, texts: Iterable[str]) -> int:
        """Store comments of a closed round (closing, imports and the demo) in alphabetical order."""
        ordered = sorted(texts, key=lambda item: (item.casefold(), item))
        for position, text in enumerate(ordered):
            self.session.add(
                PulseComment(round_id=round_id, question_id=question_id, position=position, text=text)
            )
        await self.session.flush()
        return len(ordered)

    async def comments(self, round_id: int, question_id: str | None = None) -> list[tuple[str, str]]:
        """(question id, text) of a closed round, in stored (alphabetical) order."""
        statement = (
            select(PulseComment.question_id, PulseComment.text)
            .where(PulseComment.round_id == round_id)
            .order_by(PulseComment.question_id, PulseComment.position)
        )
        if question_id is not None:
            statement = statement.where(PulseComment.question_id == question_id)
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]

    async def forget_comments_before(self, cutoff: datetime) -> int:
        """Delete the raw open answers of rounds closed before ``cutoff`` (their themes stay)."""
        old = select(PulseRound.id).where(PulseRound.status == "closed", PulseRound.closed_at < cutoff)
        result = await self.session.execute(delete(PulseComment).where(PulseComment.round_id.in_(old)))
        return int(getattr(result, "rowcount", 0) or 0)
