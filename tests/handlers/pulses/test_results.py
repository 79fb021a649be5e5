"""Results after closing: comments and their themes only above the comment threshold, the baseline
comparison and trend, the inbox hook, the CSV export (aggregates only) and the demo's data."""

from __future__ import annotations

import asyncio
import csv
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.clock import ManualClock
from handlers.pulses import enps_trend, open_answers_for_inbox, read_results
from storage.repositories import Repos
from tests.handlers.pulses.organisation import advance, latest_round_id, organisation, run_due
from tests.harness import Chat, Person

COMMENTS = [
    "Meer tijd voor klanten",
    "Klanten sneller helpen met betere systemen",
    "Minder vergaderen, meer tijd aan de telefoon",
    "Klantverhalen delen in het overleg",
    "Systemen die sneller werken",
    "Een budget om klanten iets goed te maken",
    "Meer tijd voor opleiding",
    "Duidelijke doelen per team",
    "Klanten vaker bellen na een klacht",
    "Minder handwerk in de systemen",
    "Samenwerken met Sales",
]


async def _round_with_comments(chat: Chat, clock: ManualClock, commenters: int, enps: int = 9) -> int:
    people = await organisation(chat, {"Sales": 12})
    await people["Sales"][0].says("peiling nieuw --dagen 1 --stellingen 0 --herinneringen geen")
    await run_due(chat)
    for index, person in enumerate(people["Sales"][:commenters]):
        await person.clicks(str(enps))
        await person.submits({"answer": COMMENTS[index]})
    await advance(chat, clock, timedelta(days=1, minutes=1))
    return await latest_round_id(chat)


async def test_comments_and_themes_appear_above_the_comment_threshold(chat: Chat, clock: ManualClock) -> None:
    round_id = await _round_with_comments(chat, clock, commenters=11)
    async with chat.services.database.transaction() as session:
        ctx = chat.services.job_context(session)
        results = await read_results(ctx, None, round_id)
        inbox = await open_answers_for_inbox(ctx, round_id)
    assert sorted(results.comments) == sorted(COMMENTS) and results.comments == sorted(
        results.comments, key=str.casefold
    )
    assert results.themes_source == "terms"  # no LLM configured: frequent words
    labels = {theme["label"] for theme in results.themes}
    assert {"tijd", "klanten"} <= labels
    assert len(inbox) == 11 and len({item.ref for item in inbox}) == 11
    assert {item.text for item in inbox} == set(COMMENTS)
    assert all(item.ref.startswith(f"pulse:{round_id}:open-improve:") for item in inbox)


async def test_exactly_ten_comments_are_kept_shown_and_sent_on(chat: Chat, clock: ManualClock) -> None:
    round_id = await _round_with_comments(chat, clock, commenters=10)
    async with chat.services.database.transaction() as session:
        ctx = chat.services.job_context(session)
        results = await read_results(ctx, None, round_id)
        inbox = await open_answers_for_inbox(ctx, round_id)
    assert results.comment_threshold == 10
    assert sorted(results.comments) == sorted(COMMENTS[:10]) and results.themes
    assert {item.text for item in inbox} == set(COMMENTS[:10])


async def test_too_few_comments_are_dropped_at_closing(chat: Chat, clock: ManualClock) -> None:
    round_id = await _round_with_comments(chat, clock, commenters=9)
    async with chat.services.database.transaction() as session:
        ctx = chat.services.job_context(session)
        results = await read_results(ctx, None, round_id)
        assert await Repos(session).pulses.comments(round_id) == []
        assert await open_answers_for_inbox(ctx, round_id) == []
    assert results.comments == [] and results.themes == []
    assert results.enps == 100 and results.responded == 9


async def test_follow_up_is_compared_with_the_baseline_and_trended(chat: Chat, clock: ManualClock) -> None:
    people = await organisation(chat, {"Sales": 6})
    cx = people["Sales"][0]
    for number, (name, answers) in enumerate(
        (("Nulmeting", [3, 5, 6, 9, 10]), ("Vervolg", [7, 9, 9, 10, 10]))
    ):
        baseline = " --nulmeting" if number == 0 else ""
        await cx.says(f"peiling nieuw --naam {name} --vragen enps,likert-work-impact --dagen 1{baseline}")
        await run_due(chat)
        for person, value in zip(people["Sales"][1:], answers, strict=True):
            await person.clicks(str(value))
            await person.clicks(str(min(5, value // 2)))
        await advance(chat, clock, timedelta(days=1, minutes=1))
    async with chat.services.database.transaction() as session:
        ctx = chat.services.job_context(session)
        follow_up = await read_results(ctx, cx.member, await latest_round_id(chat))
        trend = await enps_trend(ctx)
    assert [point.enps for point in trend] == [-20, 80]
    assert [point.response_rate for point in trend] == [83, 83]
    assert follow_up.comparison is not None and follow_up.comparison.enps_change == 100
    assert follow_up.comparison.mean_changes["likert-work-impact"] == 1.2  # 3.0 → 4.2
    await cx.says("resultaten")
    text = (await cx.last_reply()).text
    assert "Nulmeting -20 → Vervolg +80" in text


async def test_a_round_with_its_own_enps_question_is_in_the_trend(chat: Chat, clock: ManualClock) -> None:
    people = await organisation(chat, {"Sales": 6})
    cx = people["Sales"][0]
    await cx.says('peiling vraag toevoegen enps "Zou je {{ organisation }} aanraden aan een klant?"')
    await cx.says("peiling nieuw --naam Eigen --vragen custom-1 --dagen 1")
    await run_due(chat)
    for person, value in zip(people["Sales"][1:], [10, 9, 9, 7, 3], strict=True):
        await person.clicks(str(value))
    await advance(chat, clock, timedelta(days=1, minutes=1))
    async with chat.services.database.transaction() as session:
        trend = await enps_trend(chat.services.job_context(session))
    assert [(point.name, point.enps) for point in trend] == [("Eigen", 40)]  # 3 promoters - 1 detractor of 5


async def test_export_writes_aggregates_only(
    chat: Chat, clock: ManualClock, database_url: str, tmp_path: Path
) -> None:
    round_id = await _round_with_comments(chat, clock, commenters=11, enps=8)
    out = tmp_path / "pulse.csv"
    env = {
        "KLANTPET_DATABASE_URL": database_url,
        "KLANTPET_DATA_DIR": str(tmp_path / "data"),
        "KLANTPET_LOG_FORMAT": "text",
    }
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, app, ["pulses", "export", str(round_id), "--out", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {"measure": "enps", "value": "0", "count": "11"}.items() <= next(
        r for r in rows if r["measure"] == "enps"
    ).items()
    eights = {r["group"]: r["count"] for r in rows if r["measure"] == "answer" and r["value"] == "8"}
    assert eights == {
        "all": "11",
        "Sales": "11",
    }  # the department is everyone who answered: nothing to subtract
    assert not any(comment in out.read_text(encoding="utf-8") for comment in COMMENTS)
    missing = await asyncio.to_thread(
        runner.invoke, app, ["pulses", "export", "999", "--out", str(out)], env=env
    )
    assert missing.exit_code == 2


async def test_the_llm_prompt_for_themes_renders(chat: Chat) -> None:
    system, user = chat.services.llm.render(
        "pulse_themes",
        {"questions": ["Wat helpt?"], "comments": COMMENTS, "language": "Nederlands", "limit": 6},
    )
    assert "Never quote an answer verbatim" in system and COMMENTS[0] in user


async def test_the_demo_has_results_a_trend_and_an_open_round_for_everyone(chat: Chat) -> None:
    from bot import demo

    assert await demo.seed(chat.services)
    await chat.deliver()
    async with chat.services.database.transaction() as session:
        ctx = chat.services.job_context(session)
        trend = await enps_trend(ctx)
        latest = await read_results(ctx, None, trend[-1].round_id)
        members = await Repos(session).members.active()
    assert len(trend) == 2 and all(point.enps is not None for point in trend)
    assert trend[0].baseline and latest.comparison is not None
    assert latest.groups and all(q.respondents >= 5 for g in latest.groups for q in g.questions)
    assert latest.comments and latest.themes
    for member in members:
        async with chat.services.database.transaction() as session:
            assert await Repos(session).pulses.open_rounds_of(member.id)
    anna = Person(chat, members[0])
    await anna.opens_chat()
    await anna.clicks("8")
    assert len(await anna.replies_with("pulse.card.answered")) == 1
