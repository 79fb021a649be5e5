"""A dump of every table, the web chat's messages included, shows no readable link between an anonymous
item and its giver: not by id, not by text, and not by time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.clock import ManualClock
from storage.models import Base, Role
from tests.handlers.test_feedback import WAIT, give, item_id, relay_and_deliver
from tests.harness import Chat, Person

SILO = "Sales belooft levertijden die logistiek niet haalt"
QUESTION = "Welke dagen vooral?"
ANSWER = "Maandag en vrijdag, vooral na de lunch"
WINDOW = timedelta(hours=3)
"""Longer than anything the relay waits (five minutes to the mark, then 5–90 minutes)."""
WEB_CHAT = ("web_messages", "processed_events")
"""The built-in web chat's own history (its messages, and event ids that embed the member): like a chat
platform's history it shows when someone talked to the bot; `docs/feedback.md` says so."""
Tables = dict[str, list[dict[str, object]]]


async def dump(chat: Chat) -> Tables:
    """Every row of every table, as a reader of a database dump sees it."""
    tables: Tables = {}
    async with chat.services.database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).mappings().all()
            tables[table.name] = [dict(row) for row in rows]
    return tables


def names(row: dict[str, object], table: str, member_id: int) -> bool:
    """Does this row point at the member (an id column, their DM, their own row, their web chat events)?"""
    if table == "members" and row.get("id") == member_id:
        return True
    if table == "processed_events" and str(row.get("event_id", "")).startswith(f"c{member_id}:"):
        return True
    return any(
        (key.endswith("member_id") or key == "visible_to") and value == member_id
        for key, value in row.items()
    ) or any(value == f"dm:{member_id}" for value in row.values())


def mentions(row: dict[str, object], table: str, item: int) -> bool:
    """Does this row point at the item (its row, its thread, its number in a text, key or audit entry)?"""
    if table == "feedback_items":
        return row.get("id") == item
    if table == "feedback_messages":
        return row.get("item_id") == item
    detail = row.get("detail")
    if isinstance(detail, dict) and item in (detail.get("items") or []):
        return True
    return re.search(rf"(#|feedback[: ]|'item': ){item}\b", repr(row)) is not None


def exact_times(row: dict[str, object]) -> list[datetime]:
    """The times in a row finer than the day (a day is kept as local midnight)."""
    zone = ZoneInfo("Europe/Amsterdam")
    found = []
    for value in row.values():
        if isinstance(value, datetime):
            local = value.replace(tzinfo=value.tzinfo or UTC).astimezone(zone)
            if (local.hour, local.minute, local.second, local.microsecond) != (0, 0, 0, 0):
                found.append(local)
    return found


async def give_by_form(chat: Chat, person: Person, text: str, category: str) -> None:
    """Anonymous feedback through the form: what is typed there is kept in no chat history."""
    await person.says("feedback")
    outcome = await person.submits({"text": text, "mode": "anonymous", "category": category})
    assert outcome.error is None and (await person.last_reply()).key == "feedback.thanks.anonymous"


def assert_no_link(tables: Tables, giver: int, items: list[int], secrets: list[str]) -> None:
    """No row that names the giver mentions an item, its texts or its category, nor shares a time with a
    row that mentions an item; the items' own rows name nobody and keep only the day."""
    for row in tables["feedback_items"]:
        if row["id"] in items:
            assert row["giver_member_id"] is None and not exact_times(row), row
    for row in tables["feedback_messages"]:
        if row["item_id"] in items:
            assert row["author_member_id"] != giver and not exact_times(row), row
    giver_rows = [(t, row) for t, rows in tables.items() for row in rows if names(row, t, giver)]
    for table, row in giver_rows:
        text = repr(row)
        assert not any(secret in text for secret in secrets), (table, row)
        assert not any(mentions(row, table, item) for item in items), (table, row)
    giver_times = [
        (table, moment)
        for table, row in giver_rows
        if table not in (*WEB_CHAT, "members", "member_identities")  # the web chat; when they joined
        for moment in exact_times(row)
    ]
    item_times = [
        (table, moment)
        for table, rows in tables.items()
        if table not in WEB_CHAT
        for row in rows
        if any(mentions(row, table, item) for item in items)
        for moment in exact_times(row)
    ]
    assert item_times, "the staff's own rows about the items keep their time: the check has teeth"
    for (giver_table, mine), (item_table, theirs) in ((g, i) for g in giver_times for i in item_times):
        assert abs(mine - theirs) > WINDOW, (giver_table, mine, item_table, theirs)


async def test_a_database_dump_shows_no_link_between_an_anonymous_item_and_its_giver(
    chat: Chat, clock: ManualClock
) -> None:
    anna = await chat.member("Anna de Vries")
    bram = await chat.member("Bram")
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    await give(chat, bram, "Het CRM is traag bij het openen van klantdossiers")  # named: linked on purpose
    await give_by_form(chat, anna, WAIT, "customer")
    await give_by_form(chat, anna, SILO, "silo")
    await relay_and_deliver(chat, clock)
    items = [await item_id(chloe, WAIT), await item_id(chloe, SILO)]
    labels = [chat.t("nl", "feedback.category.customer"), chat.t("nl", "feedback.category.silo")]
    secrets = [WAIT[:25], SILO[:25], ANSWER, *labels]
    await chloe.says(f"feedback {items[0]} antwoord {QUESTION}")
    clock.advance(timedelta(minutes=5))
    await chat.services.scheduler.run_due()
    await chat.deliver()
    tables = await dump(chat)  # the answer waits, sealed, for its random moment
    blobs = [str(row["relay_blob"]) for row in tables["feedback_items"] if row["id"] in items]
    assert len(set(blobs)) == 2, "random IV and nonce: the same giver gives unrelated blobs"
    assert_no_link(tables, anna.member.id, items, [*secrets, *blobs])

    await relay_and_deliver(chat, clock)
    relayed = (await anna.replies_with("feedback.giver.reply"))[-1]
    assert QUESTION in relayed.text and "Chloé Bakker" in relayed.text
    await anna.clicks(chat.t("nl", "feedback.button.answer"), relayed)
    await anna.submits({"text": ANSWER})
    await relay_and_deliver(chat, clock)
    assert ANSWER in (await chloe.replies_with("feedback.notice.answer"))[-1].text
    await chloe.says(f"feedback {items[0]} gepland")
    await relay_and_deliver(chat, clock)
    assert len(await anna.replies_with("feedback.giver.status")) == 1
    tables = await dump(chat)
    assert tables["feedback_relay_queue"] == [] and tables["feedback_drafts"] == []
    assert_no_link(tables, anna.member.id, items, [*secrets, *blobs])
    for table, rows in tables.items():
        for row in rows:
            assert "Anna" not in repr(row) or table == "members", (table, row)
            if table.startswith("feedback_"):
                assert not any(text in repr(row) for text in (WAIT, SILO, QUESTION, ANSWER)), row
    # The detector does find a link where there is one: Bram's named item names him.
    named = [row for row in tables["feedback_items"] if names(row, "feedback_items", bram.member.id)]
    assert len(named) == 1 and named[0]["id"] not in items
