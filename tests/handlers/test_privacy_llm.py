"""Nothing identifying reaches the LLM from anonymous data: a fake OpenAI server records every prompt while
a pulse round with open answers closes (themes by the LLM) and anonymous feedback goes back and forth."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.clock import ManualClock
from handlers.pulses import read_results
from storage.models import Role
from storage.repositories import Repos
from tests.fakes.llm_fixtures import fake_llm_server, fresh_llm, llm_settings  # noqa: F401
from tests.fakes.openai_api import FakeOpenAI
from tests.handlers.privacy_world import item_number, relay_and_deliver, run_due
from tests.harness import Chat, Person

# Finance (2 people) is smaller than the anonymity threshold: naming it would point at two colleagues.
PEOPLE = {
    "Klantenservice": [
        "Chloé Bakker",
        "Anna de Vries",
        "Bram Jansen",
        "Daan Visser",
        "Ivo de Boer",
        "Mila Dekker",
    ],
    "Sales": ["Fatima El Amrani", "Gijs Mulder", "Hanna Bos", "Jasper Meijer", "Lotte Smit"],
    "Finance": ["Karin Peters", "Lars Hendriks"],
}
COMMENTS = [
    "Anna de Vries helpt klanten altijd als eerste, geef haar meer tijd",
    "Mail me gerust op karin.peters@example.nl, dan leg ik het uit",
    "Bij Finance blijven facturen weken liggen",
    "vraag het maar aan bram, die weet hoe het zit",  # names typed in lower case are names too
    "Meer tijd voor klanten aan de telefoon",
    "Ik (Lars) vind dat we klanten sneller moeten terugbellen",
    "Bel me op 06-12345678 als je wilt weten waarom",
    "Minder vergaderen, meer tijd voor klanten",
    "Mevrouw Dekker heeft gelijk over de wachtrij",
    "Systemen die sneller werken voor klanten",
    "De finance-afdeling moet beter samenwerken met ons",
    "hanna bos en MULDER hebben gelijk over de wachtrij van de winkel",
]
ANONYMOUS = "Lotte Smit van Sales belooft klanten dingen die niet kunnen"
THEMES = {"themes": [{"label": "Tijd voor klanten", "summary": "Meer tijd voor klanten.", "count": 4}]}


async def organisation(chat: Chat) -> dict[str, Person]:
    """Everyone with an e-mail address and a Slack account next to the web chat."""
    people: dict[str, Person] = {}
    for department, names in PEOPLE.items():
        for name in names:
            roles = [Role.cx_manager] if name == "Chloé Bakker" else []
            person = await chat.member(name, department=department, roles=roles)
            async with chat.services.database.transaction() as session:
                repos = Repos(session)
                member = await repos.members.get(person.member.id)
                assert member is not None
                member.email = f"{name.split()[0].lower()}@example.nl"
                await repos.members.add_identity(member, "slack", f"U0{member.id:04d}SLK")
            people[name] = person
    return people


def identifying(people: dict[str, Person]) -> list[str]:
    """Every name (and each part of it), e-mail address, platform id and small department there is."""
    found = ["Finance", "karin.peters@example.nl", "06-12345678"]
    for name, person in people.items():
        found += [name, f"{name.split()[0].lower()}@example.nl", f"U0{person.member.id:04d}SLK"]
        found += [part for part in re.split(r"\s+", name) if len(part) > 2 and part[0].isupper()]
    return found


async def test_pulse_comments_and_anonymous_feedback_reach_the_llm_without_identities(
    chat: Chat, clock: ManualClock, llm: FakeOpenAI
) -> None:
    people = await organisation(chat)
    chloe, anna = people["Chloé Bakker"], people["Anna de Vries"]
    await chloe.says("peiling nieuw --dagen 1 --stellingen 0 --herinneringen geen")
    await run_due(chat)
    for person, comment in zip(people.values(), COMMENTS, strict=False):
        await person.clicks("8")
        await person.submits({"answer": comment})

    # Anonymous feedback with replies, answered back and forth, and a "you said, we did" update.
    await anna.says("feedback")
    await anna.submits({"text": ANONYMOUS, "mode": "anonymous", "category": "process"})
    await relay_and_deliver(chat, clock)
    number = await item_number(chloe, ANONYMOUS)
    await chloe.says(f"feedback {number} antwoord Dank je, over welke klanten gaat het?")
    await relay_and_deliver(chat, clock)
    await anna.clicks(chat.t("nl", "feedback.button.answer"), await anna.last_reply())
    await anna.submits({"text": "Vooral de klanten van Gijs Mulder."})
    await relay_and_deliver(chat, clock)
    await chloe.says("thema nieuw Beloftes aan klanten")
    await chloe.says(f"thema 1 toevoegen {number}")
    await chloe.says("thema 1 gepland We maken afspraken over wat Sales belooft.")
    await relay_and_deliver(chat, clock)

    llm.answer(THEMES)
    clock.advance(timedelta(days=1))
    await run_due(chat)
    async with chat.services.database.transaction() as session:
        round_id = (await Repos(session).pulses.rounds(limit=1))[0].id
        results = await read_results(chat.services.job_context(session), None, round_id)
    assert results.themes_source == "llm" and results.themes[0]["label"] == "Tijd voor klanten"
    assert len(llm.requests) == 1, "only the themes of the closed round went to the LLM"

    sent = "\n".join(llm.prompts())
    assert "Meer tijd voor klanten aan de telefoon" in sent  # the answers themselves do go
    assert "wachtrij van de winkel" in sent, "name particles such as 'van' are everyday words"
    assert "[naam]" in sent and "[afdeling]" in sent and "[e-mail]" in sent and "[phone]" in sent
    leaked = [
        term
        for term in identifying(people)
        if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", sent, re.IGNORECASE)
    ]
    assert leaked == []
    assert ANONYMOUS not in sent and "Gijs" not in sent
