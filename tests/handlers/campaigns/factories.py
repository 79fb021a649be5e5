"""Factories for campaign tests: a campaign file, applying it as a CX manager would, and moving time."""

from __future__ import annotations

from datetime import datetime
from textwrap import dedent

from bot.clock import ManualClock
from handlers.campaigns import ApplyResult, apply_campaign, load_yaml
from storage.models.campaigns import Campaign
from storage.repositories import Repos
from tests.harness import Chat, Person

WINTER = dedent(
    """\
    key: winter
    name: Winterweken
    goal: De klant in de donkere weken
    timezone: Europe/Amsterdam
    starts: 2026-11-23
    ends: 2027-01-17
    quiet_hours: "20:00-09:00"
    holidays:
      country: NL
    steps:
      - key: friday
        kind: message
        cadence: {weekly: [FR], time: "08:00"}
        text:
          nl: "Vrijdagvraag: welke klant maakte jouw week?"
          en: "Friday question: which customer made your week?"
      - key: evening
        kind: message
        cadence: {weekly: [TU], every: 2, time: "21:00"}
        text: "Dinsdagavondgedachte"
    """
)


async def apply_text(chat: Chat, text: str, actor: Person | None = None) -> ApplyResult:
    async with chat.services.database.transaction() as session:
        ctx = chat.services.job_context(session)
        member = await ctx.repo.members.get(actor.member.id) if actor else None
        return await apply_campaign(ctx, load_yaml(text), member)


async def campaign(chat: Chat, key: str) -> Campaign:
    async with chat.services.database.transaction() as session:
        found = await Repos(session).campaigns.by_key(key)
        assert found is not None
        return found


async def move_to(chat: Chat, clock: ManualClock, moment: datetime) -> None:
    """Set the clock and do what the background scheduler and outbox would."""
    clock.set(moment)
    await chat.services.scheduler.run_due()
    await chat.deliver()


def texts(seen: list[object], key: str) -> list[str]:
    return [message.text for message in seen if key in message.keys]  # type: ignore[attr-defined]
