"""Proof that storage cannot link a response to a member.

The same ten people answer a round in the same order twice, in two fresh databases; only who gave which
answer differs (every department's answers are swapped around among its own members). Afterwards every row
of every table is dumped in physical order — with SQLite's rowid, PostgreSQL's ctid and the rank of its
xmin — and the two dumps must be identical, both while the round is open and after it closed. Whatever a
database dump shows, it would show the same had the answers been given by other people: it carries no
information about who answered what.

Values that are random by design are compared by their shape only: the sealed open answers (encrypted with
a key that is not in the database, random IV, all of one length), the buffer's random keys, and the moment
the feedback relay picks for its next run. While a round is open a buffer row *can* be paired with its
author's participation row (same transaction on PostgreSQL, same order on SQLite): the test makes that
pairing as an attacker would and shows it yields only sealed text, which the key from the settings opens.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.app import Services
from bot.clock import ManualClock
from bot.platforms.web import ClickBody, SendBody, SubmitBody
from handlers.pulses.sealing import sealer
from storage.models import Base
from tests.conftest import START, make_settings
from tests.databases import Templates
from tests.handlers.pulses.organisation import organisation, run_due
from tests.harness import Chat, Person

# Written by core code with the wall clock (not the bot's clock) or naming this process: they differ
# between the two runs only because the runs happen at different moments in different Services.
WALL_CLOCK_COLUMNS = {
    ("action_tokens", "created_at"),
    ("audit_log", "at"),
    ("identities", "created_at"),
    ("channels", "created_at"),
    ("deliveries", "claimed_by"),
    ("processed_events", "received_at"),
    ("web_messages", "created_at"),
    ("web_messages", "updated_at"),
}
ENPS = {"Sales": [0, 3, 6, 8, 10], "Support": [1, 5, 7, 9, 2]}
LIKERT = {"Sales": [1, 2, 3, 4, 5], "Support": [5, 3, 1, 2, 4]}
COMMENTS = {
    "Sales": ["Meer tijd", "Betere tools", "Kortere lijnen", "Minder vergaderen", "Klant eerst"],
    "Support": ["Snellere IT", "Duidelijke doelen", "Meer waardering", "Eerlijke targets", "Samen oplossen"],
}


class Driver:
    """Talks through the web chat with predictable event ids, so both runs send identical events."""

    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.count = 0

    def event(self) -> str:
        self.count += 1
        return f"event-{self.count:05d}"

    async def say(self, person: Person, words: str) -> None:
        body = SendBody(event_id=self.event(), conversation=person.dm, text=words)
        await self.chat.web.say(person.member.id, body)
        await self.chat.deliver()

    async def click(self, person: Person, label: str) -> None:
        message = await person.latest_with_button(label)
        body = ClickBody(event_id=self.event(), token=message.buttons()[label], message_id=message.id)
        await self.chat.web.click(person.member.id, message.conversation, body)
        await self.chat.deliver()

    async def submit(self, person: Person, answer: str) -> None:
        message = await person.latest_form()
        token = message.form_token()
        assert token is not None
        body = SubmitBody(
            event_id=self.event(), token=token, message_id=message.id, fields={"answer": answer}
        )
        await self.chat.web.submit(person.member.id, message.conversation, body)
        await self.chat.deliver()


Dump = dict[str, list[dict[str, Any]]]
SEALED = {("pulse_comment_buffer", "text"), ("feedback_relay_queue", "sealed")}
RANDOM = {("pulse_comment_buffer", "token")}
RELAY_MOMENTS = {"next_fire_at", "starts_at"}
"""The feedback relay runs at a random moment a few minutes after new work arrives."""


def _shape(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """The row with values random by design replaced by their length."""
    shaped = {}
    for column, value in row.items():
        if (table, column) in SEALED and value is not None:
            value = f"<sealed: {len(value)} characters>"
        elif (table, column) in RANDOM and value is not None:
            value = f"<random: {len(value)} characters>"
        elif table == "schedules" and row.get("kind") == "feedback.relay" and column in RELAY_MOMENTS:
            value = "<random moment>"
        shaped[column] = value
    return shaped


async def _dump(services: Services) -> Dump:
    """Every row of every table in physical order, with its position (rowid / ctid) and PostgreSQL xmin."""
    tables = [table.name for table in Base.metadata.sorted_tables] + ["alembic_version"]
    dump: Dump = {}
    async with services.database.engine.connect() as connection:
        for name in tables:
            if services.database.is_postgres:
                query = f'SELECT ctid::text AS "#position", xmin::text::bigint AS "#xmin", * FROM "{name}" ORDER BY ctid'
            else:
                query = f'SELECT rowid AS "#position", * FROM "{name}" ORDER BY rowid'
            dump[name] = [
                _shape(
                    name,
                    {
                        column: "<wall clock>"
                        if (name, column) in WALL_CLOCK_COLUMNS and value is not None
                        else value
                        for column, value in row._mapping.items()
                    },
                )
                for row in await connection.execute(text(query))
            ]
    return dump


def _physical(dump: Dump) -> dict[str, list[tuple[Any, ...]]]:
    """Rows with their positions, in physical order (SQLite: deterministic, so compared exactly)."""
    return {table: [tuple(row.values()) for row in rows] for table, rows in dump.items()}


def _contents(dump: Dump) -> dict[str, list[str]]:
    """Rows without position or xmin, sorted (PostgreSQL: where an update lands depends on page pruning,
    which other sessions' timing drives, so two identical runs differ there too)."""
    return {
        table: sorted(repr({k: v for k, v in row.items() if not k.startswith("#")}) for row in rows)
        for table, rows in dump.items()
    }


def _xmins(rows: list[dict[str, Any]]) -> set[int]:
    return {row["#xmin"] for row in rows}


async def _pairs(services: Services) -> list[tuple[int, str]]:
    """What an attacker with a dump of the open round pairs up: each participation row of the open question
    with the buffer row written in the same transaction (PostgreSQL) or at the same place in the write order
    (SQLite)."""
    async with services.database.engine.connect() as connection:
        if services.database.is_postgres:
            rows = await connection.execute(
                text(
                    "SELECT p.member_id, b.text FROM pulse_participation p"
                    " JOIN pulse_comment_buffer b ON p.xmin::text = b.xmin::text ORDER BY p.member_id"
                )
            )
            return [(row[0], row[1]) for row in rows]
        members = await connection.execute(
            text("SELECT member_id FROM pulse_participation WHERE question_id LIKE 'open-%' ORDER BY rowid")
        )
        texts = await connection.execute(text("SELECT text FROM pulse_comment_buffer ORDER BY rowid"))
        return sorted(zip((row[0] for row in members), (row[0] for row in texts), strict=True))


Run = tuple[Dump, Dump, list[tuple[int, str]], bytes]


async def _run(url: str, folder: Path, swap: bool) -> Run:
    """One round; returns the dumps after everyone answered and after closing, the attacker's pairs while
    open, and the key the settings seal with."""
    clock = ManualClock(START)
    services = Services(make_settings(folder, url, outbox_concurrency=1), clock=clock)
    await services.start()
    try:
        if services.database.is_postgres:
            async with services.database.engine.begin() as connection:
                # Vacuum timing differs between two runs; turning it off keeps the layouts comparable.
                for table in Base.metadata.sorted_tables:
                    await connection.execute(
                        text(f'ALTER TABLE "{table.name}" SET (autovacuum_enabled = false)')
                    )
        chat = Chat(services)
        people = await organisation(chat, {"Sales": 5, "Support": 5})
        driver = Driver(chat)
        await driver.say(people["Sales"][0], "peiling nieuw --dagen 1 --stellingen 1 --herinneringen geen")
        await run_due(chat)
        for index in range(5):  # Sales and Support take turns, in the same order in both runs
            for department in ("Sales", "Support"):
                position = 4 - index if swap else index
                person = people[department][index]
                await driver.click(person, str(ENPS[department][position]))
                await driver.click(person, str(LIKERT[department][position]))
                await driver.submit(person, COMMENTS[department][position])
        during, pairs = await _dump(services), await _pairs(services)
        clock.advance(timedelta(days=1, minutes=1))
        await run_due(chat)
        return during, await _dump(services), pairs, services.relay_key
    finally:
        await services.stop()


async def _second_database(templates: Templates, database_url: str) -> str:
    return await (templates.postgres() if database_url.startswith("postgresql") else templates.sqlite())


async def test_no_table_links_an_answer_to_a_member(
    database_url: str, templates: Templates, tmp_path: Path
) -> None:
    other = await _second_database(templates, database_url)
    try:
        during_a, closed_a, pairs_a, key_a = await _run(database_url, tmp_path / "a", swap=False)
        during_b, closed_b, pairs_b, _ = await _run(other, tmp_path / "b", swap=True)
    finally:
        await templates.drop(other)

    # The runs really differ in who answered what, and the answers really are stored.
    assert sum(row["count"] for row in closed_a["pulse_tallies"]) == 2 * (10 + 10)  # whole + departments
    assert {row["count"] for row in closed_a["pulse_tallies"] if row["department_id"] == 0} == {0, 1, 2}
    assert [row["text"] for row in closed_a["pulse_comments"]] == sorted(
        COMMENTS["Sales"] + COMMENTS["Support"]
    )
    assert closed_a["pulse_participation"] == [] and closed_a["pulse_comment_buffer"] == []

    if database_url.startswith("sqlite"):
        seen_a, seen_b = _physical(closed_a), _physical(closed_b)
        open_a, open_b = _physical(during_a), _physical(during_b)
    else:
        seen_a, seen_b = _contents(closed_a), _contents(closed_b)
        open_a, open_b = _contents(during_a), _contents(during_b)
        # Transaction ids: after closing, every counter, comment and head count was (re)written by the closing
        # transaction, so none points at the transaction of an answer.
        closing = _xmins(closed_a["pulse_rounds"])
        for table in ("pulse_tallies", "pulse_comments", "pulse_group_stats"):
            assert _xmins(closed_a[table]) == closing, f"{table} rows carry other transaction ids"
        # While open, every counter of a question carries the id of the latest answer to that question,
        # whatever was chosen: it says who answered last (as the confirmation does), not what.
        for question in ("enps", "likert-work-impact"):
            rows = [row for row in during_a["pulse_tallies"] if row["question_id"] == question]
            assert len(_xmins(rows)) == 1
    differs_closed = [table for table in seen_a if seen_a[table] != seen_b[table]]
    assert differs_closed == [], (
        f"after closing, these tables differ with who answered what: {differs_closed}"
    )
    differs_open = [table for table in open_a if open_a[table] != open_b[table]]
    assert differs_open == [], f"while open, these tables differ with who answered what: {differs_open}"

    # While open, the buffer can be paired with participation, as an attacker with a dump would: every pair
    # holds sealed text of one length, no answer appears anywhere in the dump, and only the key from the
    # settings (not in the database) opens it, which shows the pairs are real.
    comments = COMMENTS["Sales"] + COMMENTS["Support"]
    assert len(pairs_a) == len(pairs_b) == 10
    assert len({len(sealed) for _, sealed in pairs_a + pairs_b}) == 1
    assert not [comment for comment in comments for _, sealed in pairs_a if comment in sealed]
    dumped = repr(during_a)
    assert not [comment for comment in comments if comment in dumped]
    opened = {member: sealer(key_a).open(sealed) for member, sealed in pairs_a}
    assert sorted(answer or "" for answer in opened.values()) == sorted(comments)


async def test_closing_leaves_nothing_it_deleted_readable_in_the_sqlite_file(
    templates: Templates, tmp_path: Path
) -> None:
    """SQLite only: deleted rows stay in free pages unless ``secure_delete`` is on, which not every SQLite
    build does by default (PostgreSQL keeps dead rows until vacuum: see docs/pulses.md, residual risks)."""
    url = await templates.sqlite()
    clock = ManualClock(START)
    services = Services(make_settings(tmp_path, url), clock=clock)
    await services.start()
    try:
        chat = Chat(services)
        people = (await organisation(chat, {"Sales": 10}))["Sales"]
        await people[0].says("peiling nieuw --dagen 1 --stellingen 0 --herinneringen geen")
        await run_due(chat)
        for number, person in enumerate(people):
            await person.clicks("8")
            await person.submits({"answer": f"Antwoord nummer {number}"})
        async with services.database.engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA secure_delete"))).scalar() == 1
            buffered = (await connection.execute(text("SELECT token, text FROM pulse_comment_buffer"))).all()
        assert len(buffered) == 10
        clock.advance(timedelta(days=1, minutes=1))
        await run_due(chat)
        async with services.database.engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM pulse_comments"))).scalar() == 10
    finally:
        await services.stop()
    path = Path(url.removeprefix("sqlite+aiosqlite:///"))
    with closing(sqlite3.connect(path)) as connection:  # what a backup copies once the log is written back
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(file.read_bytes() for file in (path, Path(f"{path}-wal")) if file.exists())
    left = [token for token, sealed in buffered if token.encode() in raw or sealed[:40].encode() in raw]
    assert left == [], "rows deleted at closing can still be read from the database file"
    await templates.drop(url)
