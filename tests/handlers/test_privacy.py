"""Export and erasure of a member who took part in every feature, through the CLI, on both databases."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import HTTPException
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.clock import ManualClock
from bot.dashboard.auth import DashboardAuth
from handlers.feedback_relay import giver_id
from handlers.privacy import export_member
from handlers.pulses import read_results
from storage.models import Delivery, Identity, WebMessage
from storage.models.feedback import FeedbackItem
from storage.models.leadership import RelayLeg
from storage.models.ritual import RitualRun
from storage.repositories import Repos
from tests.handlers.privacy_world import (
    ANONYMOUS,
    ANONYMOUS_ANSWER,
    CHALLENGE,
    CONTACT,
    GOALS,
    MOMENT,
    NAMED,
    NAMED_ANSWER,
    PULSE_COMMENT,
    REPLY_TO_BRAM,
    SNIPPET,
    STORY,
    World,
    relay_and_deliver,
    run_due,
    world,
)
from tests.harness import Chat, Person


def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "KLANTPET_DATABASE_URL": database_url,
        "KLANTPET_DATA_DIR": str(tmp_path / "data"),
        "KLANTPET_LOG_FORMAT": "text",
    }


async def cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, app, args, env=env, input=stdin)


async def export(
    database_url: str, tmp_path: Path, reference: str, by: str = "Lars Hendriks"
) -> dict[str, Any]:
    out = tmp_path / "export.json"
    args = ["privacy", "export", reference, "--out", str(out), "--by", by]
    result = await cli(args, cli_env(database_url, tmp_path))
    assert result.exit_code == 0, result.output
    exported: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return exported


async def test_the_export_holds_everything_about_the_member_and_nothing_anonymous(
    chat: Chat, clock: ManualClock, database_url: str, tmp_path: Path
) -> None:
    here = await world(chat, clock)
    anna = here.anna.member
    await DashboardAuth(chat.services).set_password(anna, "Anna.DeVries", "een lang en sterk wachtwoord")
    exported = await export(database_url, tmp_path, f"#{anna.id}")
    text = json.dumps(exported, ensure_ascii=False)

    member = exported["member"]
    assert (
        member["profile"]["name"] == "Anna de Vries" and member["profile"]["department"] == "Klantenservice"
    )
    assert member["roles"] == ["leader"]
    assert [(i["platform"], i["external_id"]) for i in member["identities"]] == [("web", str(anna.id))]
    assert {c["name"] for c in member["channels"]} == {"weekstart", "algemeen", "klantverhalen"}

    feedback = exported["feedback"]
    [item] = feedback["named_items"]
    assert item["id"] == here.named_item and item["text"] == NAMED and item["status"] == "acknowledged"
    assert [(m["author"], m["text"]) for m in item["thread"]] == [("staff", NAMED_ANSWER)]
    assert ANONYMOUS not in text and ANONYMOUS_ANSWER not in text
    assert f'"id": {here.anonymous_item}' not in text

    [story] = exported["stories"]["stories"]
    assert story["submitted_by_you"] and story["credit"] == "Anna de Vries" and STORY[:20] in story["story"]
    assert sorted(e["kind"] for e in exported["stories"]["engagement"]) == ["reaction", "reply"]

    leadership = exported["leadership"]
    assert [s["text"] for s in leadership["snippets"]] == [SNIPPET]
    assert [r["text"] for r in leadership["snippet_replies"]] == [REPLY_TO_BRAM]
    assert [r["emoji"] for r in leadership["snippet_reactions"]] == ["+1"]
    assert [(leg["role"], leg["position"]) for leg in leadership["relay_legs"]] == [
        ("holder", 0),
        ("passed_by", 1),
    ]
    assert leadership["relay_legs"][1]["challenge"] == CHALLENGE
    assert [(c["kind"], c["note"]) for c in leadership["customer_contacts"]] == [("call", CONTACT)]

    ritual = exported["ritual"]
    assert [m["name"] for m in ritual["meetings"]] == ["Weekstart"]
    assert ritual["meetings_created"] == [], "Bram created the meeting, not Anna"
    assert [run["meeting"] for run in ritual["cap_wearer"]] == ["Weekstart"]
    assert ritual["cap_wearer"][0]["debrief_answer"] == "conflict"
    assert ritual["cap_wearer"][0]["customer_moment"] == MOMENT
    assert [a["day"] for a in ritual["absences"]] == ["2026-11-30"]
    [conflict] = ritual["silo_conflicts"]
    assert conflict["you_own_it"] and conflict["you_reported_it"] and conflict["goals"] == GOALS

    [participation] = exported["pulses"]["participation"]
    assert participation["round_id"] == here.round_id and participation["questions_answered"] == 2
    assert PULSE_COMMENT not in text  # what she answered is nowhere

    assert exported["campaigns"] == {"campaigns": [], "sent_to_you": [], "journey": []}
    assert exported["dashboard"]["password_login"]["login"] == "anna.devries"
    assert "argon2" not in text, "the password hash is never exported"

    typed = [m["text"] for m in exported["web_chat_messages"]]
    assert f"feedback {NAMED}" in typed and "Mooi verhaal!" in typed
    assert [(e["action"], e["by_you"]) for e in exported["audit_log"] if not e["by_you"]] == [
        ("role.grant", False),
        ("dashboard.password_set", False),
    ]
    assert {"anonymous_pulses", "anonymous_feedback"} <= set(exported["not_included"])
    assert "niet in deze export" in exported["not_included"]["anonymous_feedback"]  # in Anna's language

    async with chat.services.database.transaction() as session:
        [entry] = await Repos(session).audit.search(action="privacy.export")
        ctx = chat.services.job_context(session)
        bram = await Repos(session).members.get(here.bram.member.id)
        assert bram is not None
        created = (await export_member(ctx, bram))["ritual"]["meetings_created"]
    assert entry.subject == f"member:{anna.id}" and "Anna" not in json.dumps(entry.detail)
    assert entry.actor_member_id == here.lars.member.id, "the admin who asked (--by) is on record"
    assert entry.detail["os_user"], "and who ran the command"
    assert [meeting["name"] for meeting in created] == ["Weekstart"]


async def test_export_and_erase_refuse_unknown_members_and_change_nothing(
    chat: Chat, database_url: str, tmp_path: Path
) -> None:
    anna = await chat.member("Anna de Vries")
    env = cli_env(database_url, tmp_path)
    for args in (["privacy", "export", "Niemand"], ["privacy", "erase", "#999", "--yes"]):
        result = await cli(args, env)
        assert result.exit_code == 2 and "no member" in result.output
    await chat.member("Bram Jansen")  # not an admin: he cannot be the one who asks
    for command in (["export"], ["erase", "--yes"]):
        for by, reason in (("Niemand", "no member"), ("Bram Jansen", "not an admin")):
            refused = await cli(["privacy", *command, f"#{anna.member.id}", "--by", by], env)
            assert refused.exit_code == 2 and reason in refused.output, refused.output
    declined = await cli(["privacy", "erase", f"#{anna.member.id}"], env, stdin="n\n")
    assert declined.exit_code == 1 and "nothing erased" in declined.output
    async with chat.services.database.transaction() as session:
        member = await Repos(session).members.get(anna.member.id)
        assert member is not None and member.name == "Anna de Vries" and member.active
        assert await Repos(session).audit.search(action="privacy.erase") == []
    assert (await cli(["privacy", "audit", "--since", "gisteren"], env)).exit_code == 2


async def aggregates(chat: Chat, here: World) -> dict[str, Any]:
    """Every number another feature shows: pulse results, the silo matrix, story and leadership stats."""
    async with chat.services.database.transaction() as session:
        repos = Repos(session)
        ctx = chat.services.job_context(session)
        start, end = here.anna.member.created_at.replace(day=1), chat.services.clock.now().replace(year=2027)
        return {
            "pulse": (await read_results(ctx, None, here.round_id)).to_dict(),
            "silo_matrix": (await repos.ritual.matrix()).counts,
            "silo_measures": await repos.ritual.measures(start, end),
            "story_stats": await repos.stories.stats(),
            "feedback_by_status": await repos.feedback.counts_by_status(),
            "feedback_by_category": await repos.feedback.counts_by_category(),
            "snippet_responses": await repos.leadership.responses([1, 2]),
            "contacts": sum(
                sum(months.values())
                for months in (await repos.leadership.monthly_contacts(start, end, "UTC")).values()
            ),
            "snippets": sum(
                sum(months.values())
                for months in (await repos.leadership.monthly_snippets(start, end, "UTC")).values()
            ),
            "relay_legs": len(await repos.leadership.legs(1)),
            "members": await repos.members.count(),
        }


async def test_erasure_keeps_every_aggregate_and_leaves_nothing_that_names_the_member(
    chat: Chat, clock: ManualClock, database_url: str, tmp_path: Path
) -> None:
    here = await world(chat, clock)
    anna = here.anna.member
    await here.chloe.says(f"peiling sluit {here.round_id}")
    await run_due(chat)
    before = await aggregates(chat, here)
    async with chat.services.database.transaction() as session:
        item = await session.get(FeedbackItem, here.anonymous_item)
        assert item is not None and giver_id(chat.services.job_context(session), item) == anna.id
        blobs = {row.id: row.relay_blob for row in await Repos(session).feedback.relayed_items()}

    args = ["privacy", "erase", "Anna de Vries", "--yes", "--by", "Lars Hendriks"]
    result = await cli(args, cli_env(database_url, tmp_path))
    assert result.exit_code == 0, result.output
    assert f"Gewist lid #{anna.id}" in result.output and "relay_mappings_destroyed: 1" in result.output

    assert await aggregates(chat, here) == before
    async with chat.services.database.transaction() as session:
        repos = Repos(session)
        member = await repos.members.get(anna.id)
        assert member is not None
        assert (member.name, member.active, member.email, member.department_id) == (
            f"Gewist lid #{anna.id}",
            False,
            None,
            None,
        )
        assert (
            member.roles == []
            and await session.scalar(
                select(func.count()).select_from(Identity).where(Identity.member_id == anna.id)
            )
            == 0
        )
        item = await session.get(FeedbackItem, here.anonymous_item)
        assert item is not None and item.relay_blob is not None
        assert giver_id(chat.services.job_context(session), item) is None  # the mapping leads nowhere
        assert all(blobs[row.id] != row.relay_blob for row in await repos.feedback.relayed_items())
        for model, column in ((Delivery, Delivery.member_id), (WebMessage, WebMessage.author_member_id)):
            assert await session.scalar(select(func.count()).select_from(model).where(column == anna.id)) == 0
        [erasure] = await repos.audit.search(action="privacy.erase")
        assert erasure.subject == f"member:{anna.id}" and "Anna" not in json.dumps(erasure.detail)
        assert erasure.actor_member_id == here.lars.member.id
        for column, text in ((RitualRun.customer_moment, MOMENT), (RelayLeg.challenge, CHALLENGE)):
            left = await session.scalar(select(func.count()).select_from(column.class_).where(column == text))
            assert left == 0, f"what she wrote is gone: {text}"

    with pytest.raises(HTTPException):  # she can no longer use the bot
        await here.anna.says("help")
    await here.chloe.says(f"feedback {here.anonymous_item} antwoord Nog een vraag: wanneer precies?")
    await relay_and_deliver(chat, clock)
    async with chat.services.database.transaction() as session:
        sent = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.member_id == anna.id)
        )
    assert sent == 0, "the relay cannot reach an erased giver"
    await here.chloe.says(f"feedback {here.named_item}")
    shown = (await here.chloe.last_reply()).text
    assert NAMED not in shown and NAMED_ANSWER not in shown and "gewist op verzoek" in shown
    await here.chloe.says("silo's alle")
    assert f"Gewist lid #{anna.id}" in (await here.chloe.last_reply()).text, "the conflict keeps its owner"

    exported = await export(database_url, tmp_path, f"#{anna.id}")
    text = json.dumps(exported, ensure_ascii=False)
    for personal in ("Anna", SNIPPET, CONTACT, REPLY_TO_BRAM, NAMED, "Mooi verhaal", MOMENT, CHALLENGE):
        assert personal not in text, personal
    assert exported["stories"]["stories"][0]["credit"] == "een collega"
    assert exported["stories"]["stories"][0]["submitted_by_you"]
    again = await cli(["privacy", "erase", f"#{anna.id}", "--yes"], cli_env(database_url, tmp_path))
    assert again.exit_code == 2 and "erased already" in again.output


async def test_a_member_sees_what_is_kept_about_them_in_their_language(chat: Chat) -> None:
    anna = await chat.member("Anna de Vries")
    emma = await chat.member("Emma Smit", locale="en")
    await anna.says(f"feedback {NAMED}")
    await anna.clicks(chat.t("nl", "feedback.button.named"))
    await anna.clicks(chat.t("nl", "feedback.category.customer"))
    await anna.says("mijngegevens")
    seen = await anna.last_reply()
    assert seen.key == "privacy.mydata.title"
    assert f"{chat.t('nl', 'privacy.section.named_feedback')}: 1" in seen.text
    assert chat.t("nl", "privacy.mydata.anonymous") in seen.text
    await emma.says("mydata")
    shown = (await emma.last_reply()).text
    assert f"{chat.t('en', 'privacy.section.identities')}: 1" in shown
    assert chat.t("en", "privacy.section.named_feedback") not in shown


async def test_every_demo_member_can_be_exported_and_sees_a_summary(chat: Chat) -> None:
    from bot import demo
    from handlers.privacy import export_member, to_json

    assert await demo.seed(chat.services)
    async with chat.services.database.transaction() as session:
        ctx = chat.services.job_context(session)
        members = list(await Repos(session).members.active())
        exports = [json.loads(to_json(await export_member(ctx, member))) for member in members]
    assert len(exports) == 13 and all(e["member"]["profile"]["name"] for e in exports)
    assert sum(len(e["leadership"]["snippets"]) for e in exports) >= 1
    assert sum(len(e["ritual"]["cap_wearer"]) for e in exports) >= 1
    lars = next(member for member in members if member.name == "Lars Hendriks")
    assert lars.identities
    await Person(chat, lars).says("mijngegevens")
    [summary] = await Person(chat, lars).replies_with("privacy.mydata.title")
    assert chat.t("nl", "privacy.section.snippets") in summary.text
