"""Themes: who may read them, and handing one to an owner."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import ManualClock
from storage.models import AuditEntry, Role
from tests.handlers.test_feedback import WAIT, give, item_id, relay_and_deliver
from tests.harness import Chat

OTHER = "Klanten hangen vaak een kwartier in de wacht"


async def test_a_theme_owner_reads_only_the_items_they_may_see(chat: Chat, clock: ManualClock) -> None:
    anna = await chat.member("Anna")
    bram = await chat.member("Bram")
    gijs = await chat.member("Gijs", roles=[Role.leader])
    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    await give(chat, anna, WAIT, mode="anonymous")
    await give(chat, bram, OTHER)
    await give(chat, gijs, "De wachtmuziek is veel te hard")
    await relay_and_deliver(chat, clock)
    numbers = [await item_id(chloe, text) for text in (WAIT, OTHER, "De wachtmuziek")]
    await chloe.says("thema nieuw Wachttijd aan de telefoon")
    await chloe.says("thema 1 toevoegen " + " ".join(map(str, numbers)))
    await chloe.says(f"feedback {numbers[1]} eigenaar Gijs")
    await chloe.says("thema 1 eigenaar Gijs")
    assert (await chloe.last_reply()).key == "feedback.theme.owner_set"

    await gijs.says("thema 1")
    shown = (await gijs.last_reply()).text
    assert OTHER in shown and "De wachtmuziek is veel te hard" in shown  # owned, and his own
    assert WAIT not in shown and "1 feedback die alleen" in shown  # counted, not shown
    await chloe.says("thema 1")
    assert WAIT in (await chloe.last_reply()).text
    refused = await bram.says("thema 1")
    assert refused.error is not None and refused.error.key == "feedback.error.theme_not_found"


async def test_handing_a_theme_to_an_owner_is_audited_and_the_owner_is_told(
    chat: Chat, clock: ManualClock
) -> None:
    gijs = await chat.member("Gijs", roles=[Role.leader], locale="en")
    bram = await chat.member("Bram")
    chloe = await chat.member("Chloé", roles=[Role.cx_manager])
    await chloe.says("thema nieuw Wachttijd aan de telefoon")
    refused = await bram.says("thema 1 eigenaar Bram")
    assert refused.error is not None
    unknown = await chloe.says("thema 1 eigenaar Niemand")
    assert unknown.error is not None and unknown.error.key == "error.member_not_found"
    await chloe.says("thema 1 eigenaar Gijs")
    told = await gijs.replies_with("feedback.notice.theme_owner")
    assert len(told) == 1 and "Chloé" in told[0].text and "theme 1" in told[0].text  # in his language
    async with chat.services.database.transaction() as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "feedback.theme.owner"))
        ).all()
    assert [(e.actor_member_id, e.subject, e.detail) for e in entries] == [
        (chloe.member.id, "feedback_theme:1", {"owner": gijs.member.id})
    ]
    await give(chat, bram, WAIT)
    await chloe.says("thema 1 toevoegen 1")
    clock.advance(timedelta(minutes=1))
    await gijs.says("theme 1 done We added two people on Monday mornings.")
    assert (await gijs.last_reply()).key == "feedback.update_sent"
    assert "two people on Monday" in (await bram.last_reply()).text
