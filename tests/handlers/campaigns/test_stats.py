"""Per campaign: what it sent and whom it reached, how people engaged, and its pulses against its baseline."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from textwrap import dedent

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from handlers.campaigns import campaign_stats
from storage.models import Role
from tests.conftest import make_settings
from tests.handlers.campaigns.factories import apply_text, campaign, move_to
from tests.harness import Chat

ENPS = dedent(
    """\
    key: enps-test
    name: eNPS-test
    starts: 2026-11-23
    ends: 2026-12-06
    steps:
      - key: hello
        kind: message
        cadence: {weekly: [MO], time: "09:30"}
        text: Hallo allemaal
      - key: enps
        kind: pulse
        cadence: {weekly: [MO], time: "10:00"}
        pulse: {questions: [enps], duration: 2d, baseline: first}
    """
)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, anonymity_threshold=3)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return (
        datetime(2026, 11, day, hour, minute, tzinfo=UTC)
        if day > 20
        else datetime(2026, 12, day, hour, tzinfo=UTC)
    )


async def test_stats_count_sends_reach_engagement_and_the_change_since_the_baseline(
    chat: Chat, clock: ManualClock
) -> None:
    manager = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    others = [await chat.member(name) for name in ("Anna", "Bram", "Daan", "Emma")]
    everyone = [manager, *others]
    await apply_text(chat, ENPS, manager)

    for week, (monday, wednesday, scores) in enumerate(
        ((utc(23, 8, 30), utc(25, 9), (10, 9, 7, 3, 5)), (utc(30, 8, 30), utc(2, 9), (10, 10, 9, 8, 6)))
    ):
        await move_to(chat, clock, monday)  # 09:30 in Amsterdam: the message
        await move_to(chat, clock, monday.replace(hour=9, minute=0))  # 10:00: the pulse opens
        for person, score in zip(everyone, scores, strict=True):
            await person.clicks(str(score))
        if week == 0:
            await others[0].says("campagne cijfers enps-test")
            assert (await others[0].last_reply()).key == "error.not_allowed"
        await move_to(chat, clock, wednesday)  # closed after two days

    await manager.says("campagne cijfers enps-test")
    reply = " ".join((await manager.last_reply()).text.split())
    assert "Verstuurd: 12 (mislukt: 0) · afgeleverd: 10 · bereik: 20 (persoonlijk: 5)" in reply
    assert "10 van 10 beantwoordden een peiling" in reply
    assert "Peiling eNPS-test (nulmeting): eNPS +0, respons 100%" in reply
    assert "Peiling eNPS-test: eNPS +40, respons 100% — tegenover eNPS-test: +40" in reply

    async with chat.services.database.transaction() as session:
        ctx = chat.services.job_context(session)
        stats = await campaign_stats(ctx, await campaign(chat, "enps-test"))
    assert (stats.sends, stats.reached, stats.people, stats.delivered) == (12, 20, 5, 10)
    assert stats.engagement == 50  # 10 answers for 20 reached
    assert [(r.baseline, r.enps, r.enps_change) for r in stats.rounds] == [(True, 0, None), (False, 40, 40)]
    assert stats.to_dict()["response_rate"] == 100
