"""Statements that run last in their transaction, just before it commits.

A row that every writer of a kind must touch (the counters of a pulse question) is then locked for the
commit only, not for the rest of the transaction's work: on PostgreSQL answers to one question queue for a
moment instead of for each other's whole request. A statement deferred inside a savepoint that is rolled back
is dropped with it, so it never outlives the work it belonged to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import Executable

PENDING = "klantpet.at_commit"


@dataclass(frozen=True)
class Deferred:
    statement: Executable
    parameters: dict[str, Any] | None
    transaction: SessionTransaction
    failure: str
    """The error raised (the commit then fails and nothing is kept) when the statement changed no row."""


def at_commit(
    session: AsyncSession,
    statement: Executable,
    *,
    failure: str,
    parameters: dict[str, Any] | None = None,
) -> None:
    """Run ``statement`` (with ``parameters``) as the last one of the session's transaction; the commit fails
    with ``failure`` (a LookupError) when it changes no row."""
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    if transaction is None:
        raise RuntimeError("at_commit needs a transaction")
    sync.info.setdefault(PENDING, []).append(Deferred(statement, parameters, transaction, failure))


@event.listens_for(Session, "before_commit")
def _run_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release: its statements wait for the real commit
    for deferred in session.info.pop(PENDING, []):
        result = session.execute(deferred.statement, deferred.parameters)
        if isinstance(result, CursorResult) and not result.rowcount:
            raise LookupError(deferred.failure)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending: list[Deferred] = session.info.get(PENDING, [])
    if pending:
        session.info[PENDING] = [
            deferred for deferred in pending if not _within(deferred.transaction, previous_transaction)
        ]


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False
