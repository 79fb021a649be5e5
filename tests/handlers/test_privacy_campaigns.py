"""Campaign data in a member's export, and a new joiner's erasure: their planned journey goes, the figures stay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from handlers.campaigns import apply_campaign, templates
from storage.models import Role
from storage.repositories import Repos
from tests.conftest import START
from tests.handlers.campaigns.factories import campaign, move_to
from tests.handlers.campaigns.test_journeys import joins, utc
from tests.handlers.test_privacy import cli, cli_env, export
from tests.harness import Chat


async def test_campaign_data_is_exported_and_a_joiners_planned_journey_erased(
    chat: Chat, clock: ManualClock, database_url: str, tmp_path: Path
) -> None:
    clock.set(START - timedelta(days=30))
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    await chat.member("Lars Hendriks", roles=[Role.admin])
    clock.set(START)
    async with chat.services.database.transaction() as session:
        ctx = chat.services.job_context(session)
        owner = await ctx.repo.members.get(chloe.member.id)
        spec = templates.load("onboarding", clock.now(), "Europe/Amsterdam")
        assert (await apply_campaign(ctx, spec, owner)).action == "created"
    await move_to(chat, clock, utc(11, 25, 13))
    jan = await joins(chat, "Jan Jansen")  # day one's story now, the rest of his journey planned
    onboarding = await campaign(chat, "onboarding-journey")

    mine = (await export(database_url, tmp_path, f"#{chloe.member.id}"))["campaigns"]
    assert [(c["name"], c["you_own_it"], c["you_created_it"]) for c in mine["campaigns"]] == [
        (onboarding.name, True, True)
    ]
    his = (await export(database_url, tmp_path, f"#{jan.member.id}"))["campaigns"]
    assert [(s["campaign"], s["kind"], s["status"]) for s in his["sent_to_you"]] == [
        (onboarding.name, "story", "sent")
    ]
    statuses = [step["status"] for step in his["journey"]]
    assert statuses[0] == "sent" and "planned" in statuses and his["campaigns"] == []

    async def figures() -> tuple[object, int]:
        async with chat.services.database.transaction() as session:
            repo = Repos(session).campaigns
            return await repo.totals(onboarding.id), await repo.joiners(onboarding.id)

    before = await figures()
    erased = await cli(
        ["privacy", "erase", f"#{jan.member.id}", "--yes", "--by", "Lars Hendriks"],
        cli_env(database_url, tmp_path),
    )
    assert erased.exit_code == 0, erased.output
    assert f"journey_steps_removed: {statuses.count('planned')}" in erased.output
    assert await figures() == before, "sends, reach and joiners count as before"
    async with chat.services.database.transaction() as session:
        left = await Repos(session).campaigns.journey_steps(onboarding.id)
    assert [step.status for step in left if step.member_id == jan.member.id] == ["sent"]
    await move_to(chat, clock, utc(12, 2, 9))  # his week-one story would have gone out now
    async with chat.services.database.transaction() as session:
        assert len(await Repos(session).campaigns.sends(onboarding.id)) == 1, "nothing more for him"
