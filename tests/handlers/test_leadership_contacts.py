"""Leaders' customer contacts as dialogues, the monthly overview for CX managers, and the demo tour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot import demo
from bot.clock import ManualClock
from storage.models import Role
from storage.models.leadership import CustomerContact
from storage.repositories import Repos
from tests.handlers.leadership_people import COMPANY, company_channel, count, leader, snippets
from tests.harness import Chat, Person


def nl(chat: Chat, key: str, **params: object) -> str:
    return chat.t("nl", key, **params)


async def test_a_leader_logs_a_contact_in_one_line_and_is_nudged_to_share(chat: Chat) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    await company_channel(chat, lars)
    await lars.says("klantcontact gebeld Sprak een klant over late leveringen")
    logged = await lars.last_reply()
    assert logged.key == "leadership.contact.logged"
    assert nl(chat, "leadership.contact.nudge") in logged.text
    assert "nummer 1 in nov" in logged.text
    await lars.says("contact visit Bij de bakker in Utrecht")
    assert "nummer 2 in nov" in (await lars.last_reply()).text

    await lars.clicks(nl(chat, "leadership.button_write"))
    await lars.submits({"text": "Wat de bakker me leerde.", "video": ""})
    await lars.clicks(nl(chat, "leadership.button_send"))
    assert len(await lars.replies_with("leadership.post", COMPANY)) == 1
    async with chat.services.database.transaction() as session:
        contact = await Repos(session).leadership.contact((await snippets(chat))[0].contact_id or 0)
        assert contact is not None and contact.kind == "visit" and contact.note == "Bij de bakker in Utrecht"


async def test_the_baton_holder_hears_that_a_contact_counts_for_the_relay(chat: Chat) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    karin = await leader(chat, "Karin Peters", "CFO")
    await lars.says("estafette doorgeven Karin Peters Bel een klant")
    await karin.says("klantcontact bellen Klant over een dubbele factuur")
    assert nl(chat, "leadership.contact.relay_nudge") in (await karin.last_reply()).text


async def test_bad_contacts_and_non_leaders_are_refused_with_nothing_stored(chat: Chat) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    anna = await chat.member("Anna de Vries")
    for text in (
        "klantcontact",
        "klantcontact gebeld",
        "klantcontact lunch Gezellig",
        "klantcontact bezoek " + "x" * 501,
    ):
        outcome = await lars.says(text)
        assert outcome.error is not None, text
        assert outcome.error.key in ("leadership.contact.usage", "error.field_too_long"), text
    outcome = await anna.says("klantcontact gebeld Een klant gesproken")
    assert outcome.error is not None and outcome.error.key == "error.not_allowed"
    outcome = await anna.says("klantcontacten")
    assert outcome.error is not None and outcome.error.key == "error.not_allowed"
    assert await count(chat, CustomerContact) == 0


async def log(person: Person, times: int) -> None:
    for number in range(times):
        await person.says(f"klantcontact gesprek Gesprek {number}")


async def test_cx_managers_see_contacts_per_leader_per_month(chat: Chat, clock: ManualClock) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    karin = await leader(chat, "Karin Peters", "CFO")
    await leader(chat, "Bram Jansen", "Teamleider")
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    clock.set(datetime(2026, 10, 31, 23, 30, tzinfo=UTC))  # 1 Nov 00:30 in Amsterdam
    await log(lars, 1)
    clock.set(datetime(2026, 10, 31, 12, 0, tzinfo=UTC))
    await log(karin, 2)
    clock.set(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    await log(lars, 2)

    await chloe.says("klantcontacten")
    overview = await chloe.last_reply()
    assert overview.key == "leadership.contact.overview"
    assert "Lars Hendriks (CEO) : sep 0 · okt 0 · nov 3" in overview.text
    assert "Karin Peters (CFO) : sep 0 · okt 2 · nov 0" in overview.text
    assert "Bram Jansen (Teamleider) : sep 0 · okt 0 · nov 0" in overview.text
    await chloe.says("klantcontacten 1")
    this_month = (await chloe.last_reply()).text
    assert "Karin Peters (CFO) : nov 0" in this_month
    assert "deze maand:" in this_month and "1 maanden" not in this_month
    outcome = await chloe.says("klantcontacten 13")
    assert outcome.error is not None and outcome.error.key == "leadership.contact.months"

    async with chat.services.database.transaction() as session:
        start = datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
        counts = await Repos(session).leadership.monthly_contacts(
            start, start + timedelta(days=62), "Europe/Amsterdam"
        )
    assert counts == {lars.member.id: {"2026-11": 3}, karin.member.id: {"2026-10": 2}}


async def test_the_demo_shows_the_ceos_snippet_and_the_relay_to_a_newcomer(chat: Chat) -> None:
    assert await demo.seed(chat.services)
    await chat.deliver()
    async with chat.services.database.transaction() as session:
        repos = Repos(session)
        newcomer = await repos.members.by_name("Anna de Vries")
        cfo = await repos.members.by_name("Karin Peters")
    assert newcomer is not None and cfo is not None
    anna = Person(chat, newcomer)
    posts = await anna.replies_with("leadership.post", COMPANY)
    assert len(posts) == 1 and "Lars Hendriks" in posts[0].text and "CEO" in posts[0].text
    await anna.says("estafette")
    chain = (await anna.last_reply()).text
    assert "Lars Hendriks (CEO) → Karin Peters (CFO)" in chain
    assert "bij  Karin Peters (CFO)" in chain
    assert await Person(chat, cfo).replies_with("leadership.relay.received"), "the CFO has the baton"
