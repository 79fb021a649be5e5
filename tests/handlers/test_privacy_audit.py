"""Every read of feedback, results and exports by staff is audited, and the audit log can be filtered."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from storage.models import AuditEntry
from storage.repositories import Repos
from tests.handlers.privacy_world import item_number
from tests.handlers.pulses.organisation import advance, latest_round_id, organisation, run_due
from tests.handlers.test_privacy import cli, cli_env
from tests.harness import Chat, Person

NAMED = "De wachttijd aan de telefoon is te lang"


async def entries(chat: Chat, **filters: object) -> list[AuditEntry]:
    async with chat.services.database.transaction() as session:
        return list(await Repos(session).audit.search(**filters))  # type: ignore[arg-type]


async def reads(chat: Chat, person: Person) -> list[tuple[str, str | None]]:
    """The reads ``person`` is on record for, oldest first."""
    found = await entries(chat, actor_member_id=person.member.id)
    return [(entry.action, entry.subject) for entry in reversed(found) if entry.action.endswith(".read")]


async def test_feedback_and_results_reads_by_staff_are_audited_and_filterable(
    chat: Chat, clock: ManualClock, database_url: str, tmp_path: Path
) -> None:
    people = await organisation(chat, {"Sales": 6})
    chloe, anna, bram, daan = people["Sales"][:4]  # Chloé (the first) is the CX manager
    await anna.says(f"feedback {NAMED}")
    await anna.clicks(chat.t("nl", "feedback.button.named"))
    await anna.clicks(chat.t("nl", "feedback.category.customer"))
    number = await item_number(chloe, NAMED)
    subject = f"feedback:{number}"

    await anna.says(f"feedback {number}")  # the giver reads her own item: not a staff read
    assert await reads(chat, anna) == []
    missing = await daan.says(f"feedback {number}")  # someone else may not see it, and reads nothing
    assert missing.error is not None and await reads(chat, daan) == []

    await chloe.says("inbox")
    await chloe.says(f"feedback {number}")
    await chloe.clicks(chat.t("nl", "feedback.button.open", id=number))
    await chloe.says("thema nieuw Wachttijden")
    await chloe.says(f"thema 1 toevoegen {number}")
    await chloe.says("thema 1")
    await chloe.says(f"feedback {number} eigenaar {bram.member.name}")
    assert await reads(chat, chloe) == [
        ("feedback.inbox.read", "feedback"),
        ("feedback.read", subject),
        ("feedback.read", subject),
        ("feedback.theme.read", "feedback_theme:1"),
    ]
    await bram.says("inbox")  # the owner reads what he owns
    await bram.says(f"feedback {number}")
    assert await reads(chat, bram) == [("feedback.inbox.read", "feedback"), ("feedback.read", subject)]
    [inbox_read] = await entries(chat, actor_member_id=chloe.member.id, action="feedback.inbox.read")
    assert inbox_read.detail == {"items": [number], "scope": "open"}

    # Results: a closed round read in chat, and exported on the command line; a member's export too.
    await chloe.says("peiling nieuw --dagen 1 --stellingen 0 --zonder-open --herinneringen geen")
    await run_due(chat)
    for person in people["Sales"]:
        await person.clicks("9")
    await advance(chat, clock, timedelta(days=1, minutes=1))
    round_id = await latest_round_id(chat)
    await chloe.says("resultaten")
    assert ("pulse.results.read", f"pulse_round:{round_id}") in await reads(chat, chloe)
    env = cli_env(database_url, tmp_path)
    exported = await cli(["pulses", "export", str(round_id), "--out", str(tmp_path / "round.csv")], env)
    assert exported.exit_code == 0, exported.output
    assert (
        await cli(["privacy", "export", f"#{anna.member.id}", "--out", str(tmp_path / "a.json")], env)
    ).exit_code == 0
    by_system = await entries(chat, system=True, action="privacy.export")
    assert [(e.action, e.subject) for e in by_system] == [("privacy.export", f"member:{anna.member.id}")]
    assert [e.subject for e in await entries(chat, action="pulse.results.export")] == [
        f"pulse_round:{round_id}"
    ]

    # Filters: by actor, by action or prefix, by date window; nothing personal in any entry.
    everything = await entries(chat, limit=1000)
    assert NAMED not in json.dumps([e.detail for e in everything], ensure_ascii=False)
    feedback_reads = await entries(chat, actor_member_id=chloe.member.id, action="feedback.")
    assert {e.action for e in feedback_reads} >= {
        "feedback.inbox.read",
        "feedback.read",
        "feedback.theme.read",
    }
    now = chat.services.clock.now()
    # The command line keeps the wall clock, the chat the test's clock: nothing is later than the latest.
    latest = max(entry.at for entry in everything)
    assert await entries(chat, since=latest + timedelta(seconds=1)) == []
    assert len(await entries(chat, since=latest)) >= 1
    assert (
        len(await entries(chat, until=now - timedelta(hours=12)))
        == len([e for e in everything if e.at < now - timedelta(hours=12)])
        > 0
    )
    async with chat.services.database.transaction() as session:
        actions = await Repos(session).audit.actions()
    assert {"feedback.read", "privacy.export", "pulse.results.read"} <= set(actions)

    listed = await cli(
        ["privacy", "audit", "--actor", f"#{chloe.member.id}", "--action", "feedback.read"], env
    )
    assert listed.exit_code == 0, listed.output
    lines = listed.output.strip().splitlines()
    assert len(lines) == 2 and all(
        line.split("\t")[1:4] == [chloe.member.name, "feedback.read", subject] for line in lines
    )
    unknown = await cli(["privacy", "audit", "--actor", "Niemand"], env)
    assert unknown.exit_code == 2
