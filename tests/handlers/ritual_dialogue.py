"""Shared steps for the ritual dialogues: a small organisation with a weekly meeting, and moving time."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from storage.models import Role
from storage.repositories import Repos
from tests.harness import Chat, Person, Seen

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WEEKSTART = "channel:weekstart"
CX_TEAM = "channel:cx-team"


@dataclass
class Team:
    bram: Person  # leader, Klantenservice
    chloe: Person  # CX manager, Klantenservice
    anna: Person  # Klantenservice
    daan: Person  # Marketing
    hanna: Person  # Logistiek
    fatima: Person  # Sales

    @property
    def participants(self) -> list[Person]:
        return [self.bram, self.anna, self.daan, self.hanna, self.fatima]

    def by_name(self, name: str) -> Person:
        return next(person for person in [*self.participants, self.chloe] if person.member.name == name)


async def team(chat: Chat) -> Team:
    found = Team(
        bram=await chat.member("Bram Jansen", department="Klantenservice", roles=[Role.leader]),
        chloe=await chat.member("Chloé Bakker", department="Klantenservice", roles=[Role.cx_manager]),
        anna=await chat.member("Anna de Vries", department="Klantenservice"),
        daan=await chat.member("Daan Visser", department="Marketing"),
        hanna=await chat.member("Hanna Bos", department="Logistiek"),
        fatima=await chat.member("Fatima El Amrani", department="Sales"),
    )
    await chat.member("Karin Peters", department="Finance")
    await chat.channel("weekstart", found.participants)
    await chat.channel("cx-team", [found.chloe])
    return found


MEETING_FIELDS = {
    "name": "Weekstart",
    "channel": "weekstart",
    "days": "ma",
    "time": "10:00",
    "duration": "45",
    "topic": "",
    "participants": "",
    "rrule": "",
    "timezone": "",
    "lead": "",
}


async def add_meeting(person: Person, **fields: str) -> Seen:
    """The person opens the meeting form in #weekstart and submits it; returns the bot's answer."""
    await person.says("klantpet vergaderingen nieuw", where=WEEKSTART)
    await person.submits({**MEETING_FIELDS, **fields})
    return await person.last_reply(WEEKSTART)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=AMSTERDAM)


async def at(chat: Chat, clock: ManualClock, moment: datetime) -> None:
    """Move the clock, fire what is due, deliver what was enqueued."""
    clock.set(moment)
    await chat.services.scheduler.run_due()
    await chat.deliver()


def flat(seen: Seen) -> str:
    return re.sub(r"\s+", " ", seen.text)


async def openings(person: Person, where: str = WEEKSTART) -> list[Seen]:
    return await person.replies_with("ritual.opening", where)


def wearer(seen: Seen, team: Team) -> Person:
    """Who the opening (or a pass) names, in bold, as wearing the cap."""
    bold = set(re.findall(r"<b>([^<]+)</b>", seen.html))
    named = [person for person in team.participants if person.member.name in bold]
    assert len(named) == 1, f"expected one wearer in {seen.text!r}"
    return named[0]


def questions(seen: Seen) -> list[str]:
    """The numbered questions of an opening."""
    for block in re.findall(r'<div class="kp-text">(.*?)</div>', seen.html):
        if block.startswith("1. "):
            return [html.unescape(line.split(". ", 1)[1]) for line in block.split("<br>")]
    return []


async def report(
    chat: Chat, clock: ManualClock, people: Team, first: str, second: str, owner: Person
) -> None:
    """An ad-hoc ritual in #weekstart whose wearer reports a conflict between two departments."""
    clock.advance(timedelta(minutes=5))
    await people.anna.says("pet", where=WEEKSTART)
    cap = wearer((await openings(people.anna))[-1], people)
    await people.anna.says("pet klaar", where=WEEKSTART)
    await cap.clicks(chat.t("nl", "ritual.button_yes"))
    async with chat.services.database.transaction() as session:
        departments = {d.name: str(d.id) for d in await Repos(session).members.departments()}
    await cap.submits(
        {
            "department_a": departments[first],
            "department_b": departments[second],
            "goals": f"{first} en {second} sturen op verschillende doelen.",
            "impact": "De klant wacht en belt opnieuw.",
            "next_step": "Samen aan tafel.",
            "owner": str(owner.member.id),
        }
    )
    assert (await cap.last_reply()).key == "ritual.conflict_saved"


def heading(chat: Chat, key: str) -> str:
    return chat.t("nl", key).replace("**", "").replace(" 🎉", "")


async def said(person: Person, text: str, where: str | None = None) -> str:
    await person.says(text, where)
    return (await person.last_reply(where)).text
