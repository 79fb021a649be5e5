"""A small organisation in which Anna de Vries takes part in every feature, through the web chat.

By the end of `world()` Anna is a leader; gave named feedback (answered) and anonymous feedback with
replies (answered through the relay, via the form so no chat history holds it); shared a customer story that
was posted, replied to and reacted to it; posted a blog, replied to and reacted to Bram's; logged a customer
contact; passed the relay baton with a challenge; wore the klantpet, reported a silo conflict she owns (with a
customer moment) and said she will be absent; answered an open pulse round (eNPS and an open answer). Times:
Monday 23 November 2026.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.clock import ManualClock
from storage.models import Role
from storage.repositories import Repos
from tests.handlers.ritual_dialogue import MEETING_FIELDS, WEEKSTART, Team, at, local, openings, team
from tests.handlers.test_feedback import item_id as item_number
from tests.handlers.test_feedback import relay_and_deliver
from tests.harness import Chat, Person

MONDAY = date(2026, 11, 23)
NAMED = "De wachttijd aan de telefoon is te lang"
NAMED_ANSWER = "Dank je Anna, we zetten er iemand extra op."
ANONYMOUS = "Mijn teamleider luistert niet naar klachten over het retourproces"
ANONYMOUS_ANSWER = "Dank voor je eerlijkheid, we pakken het op."
STORY = "Een klant kreeg zijn pakket niet. Een collega reed het zelf langs."
SNIPPET = "Wat ik deze week leerde van een klant: bel na een klacht altijd terug."
REPLY_TO_BRAM = "Herkenbaar, bij ons werkt dat ook."
CONTACT = "Klant over late levering"
GOALS = "Logistiek stuurt op volle vrachtwagens, wij beloven 24 uur."
PULSE_COMMENT = "Meer tijd voor klanten"
MOMENT = "Mevrouw Jansen belde drie keer over dezelfde zending"
CHALLENGE = "Bel deze maand een klant die opzegde"


@dataclass
class World:
    people: Team
    lars: Person
    named_item: int
    anonymous_item: int
    round_id: int

    @property
    def anna(self) -> Person:
        return self.people.anna

    @property
    def chloe(self) -> Person:
        return self.people.chloe

    @property
    def bram(self) -> Person:
        return self.people.bram


async def run_due(chat: Chat) -> None:
    await chat.services.scheduler.run_due()
    await chat.deliver()


async def departments(chat: Chat) -> dict[str, str]:
    async with chat.services.database.transaction() as session:
        return {d.name: str(d.id) for d in await Repos(session).members.departments()}


async def world(chat: Chat, clock: ManualClock) -> World:
    people = await team(chat)
    anna, bram, chloe = people.anna, people.bram, people.chloe
    lars = await chat.member("Lars Hendriks", department="Finance", roles=[Role.admin])
    everyone = [*people.participants, chloe, lars]
    await chat.channel("algemeen", everyone)
    await chat.channel("klantverhalen", everyone)
    await lars.says(f"role grant #{anna.member.id} leader")
    assert (await lars.last_reply()).key == "core.role_granted"

    # A story: shared by Anna, approved, posted at 09:30, replied to and reacted to by her.
    await chloe.says("verhalen abonneer #klantverhalen")
    await anna.says("verhaal delen")
    await anna.submits({"title": "Het pakket", "story": STORY, "quote": "Dat vergeet ik nooit."})
    review = (await chloe.replies_with("stories.review"))[-1]
    await chloe.clicks(chat.t("nl", "stories.review.approve"), review)
    await bram.says("klantpet meetings add", where=WEEKSTART)  # "nieuw" is taken by pulses on main
    await bram.submits(MEETING_FIELDS)
    assert (await bram.last_reply(WEEKSTART)).key == "ritual.meeting_saved"
    await at(chat, clock, local(MONDAY, 9, 40))
    post = next(seen for seen in await anna.sees("channel:klantverhalen") if "story.card" in seen.keys)
    await anna.says("Mooi verhaal!", "channel:klantverhalen", thread_of=post.id)
    await anna.reacts(post, "heart")

    # The ritual: Anna takes the cap, reports a conflict she owns, and will be absent next week.
    await at(chat, clock, local(MONDAY, 9, 58))
    await anna.clicks(chat.t("nl", "ritual.button_take"), (await openings(anna, WEEKSTART))[0])
    await at(chat, clock, local(MONDAY, 10, 45))
    await anna.clicks(chat.t("nl", "ritual.button_yes"))
    ids = await departments(chat)
    await anna.submits(
        {
            "department_a": ids["Logistiek"],
            "department_b": ids["Klantenservice"],
            "goals": GOALS,
            "impact": "Klanten wachten een dag langer.",
            "next_step": "Samen een levertijd afspreken.",
            "owner": str(anna.member.id),
            "moment": MOMENT,
        }
    )
    assert (await anna.last_reply()).key == "ritual.conflict_saved"
    await anna.says("afwezig 2026-11-30")
    assert (await anna.last_reply()).key == "ritual.absent_noted"

    # Leadership: a blog of her own, a reply and a reaction to Bram's, a contact, and the relay baton.
    await anna.says(f"blog {SNIPPET}")
    await anna.clicks(chat.t("nl", "leadership.button_send"))
    await bram.says("blog Vandaag belde ik drie klanten die opzegden.")
    await bram.clicks(chat.t("nl", "leadership.button_send"))
    brams = next(
        seen
        for seen in await anna.replies_with("leadership.post", "channel:algemeen")
        if "opzegden" in seen.text
    )
    await anna.says(REPLY_TO_BRAM, where="channel:algemeen", thread_of=brams.id)
    await anna.reacts(brams, "+1")
    await anna.says(f"klantcontact gebeld {CONTACT}")
    await anna.says(f"estafette doorgeven Bram Jansen {CHALLENGE}")
    assert (await anna.last_reply()).key.startswith("leadership.relay")  # type: ignore[union-attr]

    # Feedback: named (typed) and anonymous with replies (through the form), both answered.
    await anna.says(f"feedback {NAMED}")
    await anna.clicks(chat.t("nl", "feedback.button.named"))
    await anna.clicks(chat.t("nl", "feedback.category.customer"))
    await anna.says("feedback")
    await anna.submits({"text": ANONYMOUS, "mode": "anonymous", "category": "leadership"})
    await relay_and_deliver(chat, clock)
    named, anonymous = await item_number(chloe, NAMED), await item_number(chloe, ANONYMOUS)
    await chloe.says(f"feedback {named} antwoord {NAMED_ANSWER}")
    await chloe.says(f"feedback {anonymous} antwoord {ANONYMOUS_ANSWER}")
    await relay_and_deliver(chat, clock)
    assert ANONYMOUS_ANSWER in (await anna.replies_with("feedback.giver.reply"))[-1].text

    # An open pulse round everyone is asked in; Anna answers both questions.
    await chloe.says("peiling nieuw --dagen 3 --stellingen 0 --herinneringen geen")
    await run_due(chat)
    await anna.clicks("8")
    await anna.submits({"answer": PULSE_COMMENT})
    async with chat.services.database.transaction() as session:
        round_id = (await Repos(session).pulses.rounds(limit=1))[0].id
    return World(people, lars, named, anonymous, round_id)
