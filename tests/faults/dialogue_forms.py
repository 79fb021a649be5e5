"""What the form fuzzing needs: real forms of several features opened through the web chat, the fields a form
shows, and a snapshot of everything the features store (to prove that a refused submission changed nothing)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser

from sqlalchemy import select

from bot.clock import ManualClock
from storage.models import Role
from storage.models.base import Base
from storage.repositories import Repos
from tests.handlers.leadership_people import company_channel, leader
from tests.handlers.ritual_dialogue import MEETING_FIELDS, WEEKSTART, add_meeting, openings, team, wearer
from tests.harness import Chat, Person, Seen

PLUMBING = {
    "processed_events",
    "action_tokens",
    "deliveries",
    "web_messages",
    "audit_log",
    "dashboard_sessions",
    "dashboard_login_failures",
}
"""Tables that record the conversation itself (events seen, messages shown, tokens of their buttons)."""


async def snapshot(chat: Chat) -> dict[str, list[str]]:
    """Every row of every feature table, comparable before and after a submission."""
    found: dict[str, list[str]] = {}
    async with chat.services.database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            if table.name not in PLUMBING:
                rows = (await session.execute(select(table))).all()
                found[table.name] = sorted(repr(tuple(row)) for row in rows)
    return found


def changed_tables(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return [name for name in after if before.get(name) != after[name]]


class _Fields(HTMLParser):
    """The fields of the first form in a message: name → the values its select offers (empty for text)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, list[str]] = {}
        self.select: str | None = None
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.depth += 1
        elif tag in ("input", "textarea", "select") and self.depth == 1 and values.get("name"):
            name = values["name"] or ""
            self.fields[name] = []
            self.select = name if tag == "select" else None
        elif tag == "option" and self.select is not None and values.get("value"):
            self.fields[self.select].append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.depth += 1  # past the first form: ignore the rest


def form_fields(seen: Seen) -> dict[str, list[str]]:
    parser = _Fields()
    parser.feed(seen.html)
    return parser.fields


Opener = Callable[[], Awaitable[Seen]]


@dataclass
class FormUnderTest:
    person: Person
    conversation: str
    open: Opener
    """Shows the form afresh (or the one still open) and returns the message that holds it."""
    valid: dict[str, str]
    """Values the feature accepts (the fuzzer changes some of them)."""


async def _says_then_form(person: Person, command: str, where: str | None = None) -> Seen:
    outcome = await person.says(command, where)
    assert outcome.error is None, f"{command!r} was refused: {outcome.error}"
    return await person.latest_form()


async def feedback(chat: Chat, clock: ManualClock) -> FormUnderTest:
    anna = await chat.member("Anna de Vries")
    await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    valid = {"text": "De wachtmuziek is veel te hard", "mode": "named", "category": "customer"}
    return FormUnderTest(anna, anna.dm, lambda: _says_then_form(anna, "feedback"), valid)


async def story_share(chat: Chat, clock: ManualClock) -> FormUnderTest:
    anna = await chat.member("Anna de Vries", department="Klantenservice")
    await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    valid = {
        "title": "De bloemen voor mevrouw Jansen",
        "story": "Mevrouw Jansen kreeg haar bestelling niet. Collega Piet bracht hem zelf langs.",
        "quote": "Dat iemand zelf kwam, vergeet ik nooit.",
    }
    return FormUnderTest(anna, anna.dm, lambda: _says_then_form(anna, "verhaal delen"), valid)


async def story_library(chat: Chat, clock: ManualClock) -> FormUnderTest:
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager], locale="en")
    valid = {
        "title": "Three calls",
        "story": "A customer called three times about the same invoice.",
        "quote": "I just wanted one person who solved it.",
        "meaning": "One point of contact saves the customer a lot of effort.",
        "question": "Who holds on to a question until it is solved?",
        "stage": "support",
        "department": "Finance",
        "theme": "silos",
        "locale": "en",
    }
    return FormUnderTest(chloe, chloe.dm, lambda: _says_then_form(chloe, "stories add"), valid)


async def campaign(chat: Chat, clock: ManualClock) -> FormUnderTest:
    chloe = await chat.member("Chloé Bakker", department="Klantenservice", roles=[Role.cx_manager])
    await chat.member("Anna de Vries", department="Klantenservice")
    valid = {
        "template": "none",
        "name": "Klantmaand",
        "key": "",
        "goal": "Elke week de klant in beeld",
        "audience": "departments",
        "audience_names": "Klantenservice",
        "timezone": "Europe/Amsterdam",
        "starts": "2026-11-30",
        "ends": "2026-12-31",
        "working_days": "ma-vr",
        "quiet_hours": "20:00-08:00",
        "holidays": "NL",
        "on_holiday": "skip",
    }
    return FormUnderTest(chloe, chloe.dm, lambda: _says_then_form(chloe, "campagne nieuw"), valid)


async def snippet(chat: Chat, clock: ManualClock) -> FormUnderTest:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    await company_channel(chat, lars, await chat.member("Anna de Vries"))
    valid = {"text": "Drie dingen die ik hoorde bij de klant.", "video": "https://video.example.com/v1"}
    return FormUnderTest(lars, lars.dm, lambda: _says_then_form(lars, "vlog"), valid)


async def meeting(chat: Chat, clock: ManualClock) -> FormUnderTest:
    people = await team(chat)
    bram = people.bram
    return FormUnderTest(
        bram,
        WEEKSTART,
        lambda: _says_then_form(bram, "klantpet vergaderingen nieuw", WEEKSTART),
        dict(MEETING_FIELDS),
    )


async def debrief(chat: Chat, clock: ManualClock) -> FormUnderTest:
    """The silo-conflict form the cap wearer gets after an ad-hoc ritual (answered once, then refused)."""
    people = await team(chat)
    await add_meeting(people.bram)
    clock.advance(timedelta(minutes=5))
    await people.anna.says("pet", where=WEEKSTART)
    cap = wearer((await openings(people.anna))[-1], people)
    await people.anna.says("pet klaar", where=WEEKSTART)
    question = await cap.latest_with_button(chat.t("nl", "ritual.button_yes"))
    await cap.clicks(chat.t("nl", "ritual.button_yes"), question)
    first = await cap.latest_form()

    async def again() -> Seen:
        # The first form, untouched: every submission goes to the run's one conflict question.
        return next(seen for seen in await cap.sees(cap.dm) if seen.id == first.id)

    async with chat.services.database.transaction() as session:
        departments = {d.name: str(d.id) for d in await Repos(session).members.departments()}
    valid = {
        "department_a": departments["Klantenservice"],
        "department_b": departments["Logistiek"],
        "goals": "Klantenservice en Logistiek sturen op verschillende doelen.",
        "impact": "De klant wacht en belt opnieuw.",
        "next_step": "Samen aan tafel.",
        "owner": str(people.hanna.member.id),
    }
    return FormUnderTest(cap, cap.dm, again, valid)


FORMS = {
    "feedback": feedback,
    "story share": story_share,
    "story library": story_library,
    "campaign": campaign,
    "leader snippet": snippet,
    "meeting": meeting,
    "ritual debrief": debrief,
}
