"""Leader snippets as dialogues: preview, send, schedule, approval, replies and reactions, refusals."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from storage.models import Role
from storage.models.leadership import LeaderSnippet
from storage.repositories import Repos
from tests.conftest import START
from tests.handlers.leadership_people import (
    COMPANY,
    approving_chat,
    company_channel,
    count,
    leader,
    library_story,
    run_schedules,
    snippets,
)
from tests.harness import Chat

__all__ = ["approving_chat"]  # the fixture, imported for pytest


def nl(chat: Chat, key: str, **params: object) -> str:
    return chat.t("nl", key, **params)


async def test_leader_previews_then_posts_a_blog_in_the_company_channel(chat: Chat) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    anna = await chat.member("Anna de Vries")
    await company_channel(chat, lars, anna)

    await lars.says("blog Een klant vertelde me dat onze facturen onleesbaar zijn.")
    preview = await lars.last_reply()
    assert preview.key == "leadership.preview.intro"
    assert "Een klant vertelde me dat onze facturen onleesbaar zijn." in preview.text
    assert "Lars Hendriks" in preview.text and "CEO" in preview.text
    assert set(preview.buttons()) == {
        nl(chat, f"leadership.button_{name}") for name in ("send", "schedule", "edit", "cancel")
    }
    assert await anna.replies_with("leadership.post", COMPANY) == []

    await lars.clicks(nl(chat, "leadership.button_send"))
    posts = await anna.replies_with("leadership.post", COMPANY)
    assert len(posts) == 1
    assert "Een klant vertelde me dat onze facturen onleesbaar zijn." in posts[0].text
    assert posts[0].html.startswith('<div class="kp-text">✍️ <b>Lars Hendriks</b> · CEO')
    # The preview showed exactly what was posted.
    assert posts[0].html in preview.html
    assert (await lars.last_reply()).key == "leadership.snippet.posted"


async def test_a_link_that_opens_a_vlog_becomes_its_video(chat: Chat) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    await company_channel(chat, lars)
    await lars.says("vlog https://video.example.com/lars-1 Wat ik bij de bakker leerde")
    preview = await lars.last_reply()
    assert 'href="https://video.example.com/lars-1"' in preview.html
    assert "🎬" in preview.text and "Wat ik bij de bakker leerde" in preview.text
    story = await library_story(chat, "ritz-carlton-2000-dollars", "nl")
    await lars.says(f"vlog Over facturen --video https://video.example.com/lars-2 --story {story.slug}")
    preview = await lars.last_reply()
    assert 'href="https://video.example.com/lars-2"' in preview.html
    assert nl(chat, "leadership.post.story", title=story.title) in preview.text
    stored = await snippets(chat)
    assert [(s.video_url, s.story_id) for s in stored] == [
        ("https://video.example.com/lars-1", None),
        ("https://video.example.com/lars-2", story.id),
    ]


async def test_submit_approve_and_post_at_the_scheduled_time(
    approving_chat: Chat, clock: ManualClock
) -> None:
    chat = approving_chat
    lars = await leader(chat, "Lars Hendriks", "CEO")
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    anna = await chat.member("Anna de Vries")
    await company_channel(chat, lars, chloe, anna)

    await lars.says("vlog")
    await lars.submits(
        {"text": "Drie dingen die ik hoorde bij de klant.", "video": "https://video.example.com/v1"}
    )
    preview = await lars.last_reply()
    assert nl(chat, "leadership.preview.approval") in preview.text
    await lars.clicks(nl(chat, "leadership.button_schedule"))
    await lars.submits({"date": "2026-11-24", "time": "10:00"})  # 09:00 UTC
    assert await lars.replies_with("leadership.snippet.awaiting_approval")

    request = await chloe.last_reply()
    assert request.key == "leadership.review.request"
    assert "Drie dingen die ik hoorde bij de klant." in request.text
    await chloe.clicks(nl(chat, "leadership.review.button_approve"))
    assert (await chloe.last_reply()).key == "leadership.review.approved"
    assert (await lars.last_reply()).key == "leadership.review.approved_notice"
    assert await anna.replies_with("leadership.post", COMPANY) == []

    clock.set(START + timedelta(hours=24, minutes=59))
    await run_schedules(chat)
    assert await anna.replies_with("leadership.post", COMPANY) == []
    clock.advance(timedelta(minutes=1))
    await run_schedules(chat)
    posts = await anna.replies_with("leadership.post", COMPANY)
    assert len(posts) == 1 and 'href="https://video.example.com/v1"' in posts[0].html
    await run_schedules(chat)
    assert len(await anna.replies_with("leadership.post", COMPANY)) == 1
    assert [s.status for s in await snippets(chat)] == ["posted"]


async def test_a_sent_back_snippet_is_edited_and_the_old_approval_no_longer_counts(
    approving_chat: Chat,
) -> None:
    chat = approving_chat
    lars = await leader(chat, "Lars Hendriks", "CEO")
    chloe = await chat.member("Chloé Bakker", roles=[Role.cx_manager])
    await company_channel(chat, lars, chloe)
    await lars.says("blog Klanten willen sneller antwoord.")
    await lars.clicks(nl(chat, "leadership.button_send"))
    request = await chloe.last_reply()

    await chloe.clicks(nl(chat, "leadership.review.button_reject"), request)
    refused = await chloe.submits({"reason": ""})
    assert refused.error is not None and refused.error.key == "error.field_required"
    await chloe.submits({"reason": "Noem je een voorbeeld?"})
    notice = await lars.last_reply()
    assert notice.key == "leadership.review.rejected_notice" and "Noem je een voorbeeld?" in notice.text

    await lars.clicks(nl(chat, "leadership.button_edit"), notice)
    await lars.submits({"text": "Klanten willen sneller antwoord, zoals de bakker in Utrecht.", "video": ""})
    await lars.clicks(nl(chat, "leadership.button_send"))
    stale = await chloe.clicks(nl(chat, "leadership.review.button_approve"), request)
    assert stale.error is not None and stale.error.key == "leadership.review.already_handled"
    assert await chloe.replies_with("leadership.post", COMPANY) == []
    await chloe.clicks(nl(chat, "leadership.review.button_approve"))
    posts = await chloe.replies_with("leadership.post", COMPANY)
    assert len(posts) == 1 and "zoals de bakker in Utrecht" in posts[0].text


async def test_scheduling_without_approval_and_cancelling_posts_nothing(
    chat: Chat, clock: ManualClock
) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    await company_channel(chat, lars)
    await lars.says("blog Morgen vertel ik meer.")
    await lars.clicks(nl(chat, "leadership.button_schedule"))
    form = await lars.latest_form()
    assert 'value="2026-11-24"' in form.html and 'value="09:00"' in form.html  # the next working day, 09:00
    past = await lars.submits({"date": "2026-11-20", "time": "09:00"})
    assert past.error is not None and past.error.key == "leadership.snippet.in_the_past"
    nonsense = await lars.submits({"date": "morgen", "time": "9"})
    assert nonsense.error is not None and nonsense.error.key == "leadership.snippet.bad_time"
    await lars.submits({"date": "24-11-2026", "time": "09:00"})
    [scheduled] = await lars.replies_with("leadership.snippet.scheduled")  # the form turned into this
    assert "di 24-11-2026 09:00" in scheduled.text

    await lars.clicks(nl(chat, "leadership.button_cancel"), scheduled)
    assert await lars.replies_with("leadership.snippet.cancelled")
    clock.advance(timedelta(days=2))
    await run_schedules(chat)
    assert await lars.replies_with("leadership.post", COMPANY) == []
    again = await lars.clicks(nl(chat, "leadership.button_send"))
    assert again.error is not None and again.error.key == "leadership.snippet.not_changeable"


async def test_an_outdated_preview_cannot_be_sent(chat: Chat) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    await company_channel(chat, lars)
    await lars.says("blog Eerste versie.")
    first_preview = await lars.last_reply()
    await lars.clicks(nl(chat, "leadership.button_edit"))
    await lars.submits({"text": "Tweede versie."})
    outcome = await lars.clicks(nl(chat, "leadership.button_send"), first_preview)
    assert outcome.error is not None and outcome.error.key == "leadership.snippet.outdated"
    await lars.clicks(nl(chat, "leadership.button_send"))
    posts = await lars.replies_with("leadership.post", COMPANY)
    assert len(posts) == 1 and "Tweede versie." in posts[0].text


async def test_replies_and_reactions_are_recorded_and_replies_reach_the_leader(chat: Chat) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    anna = await chat.member("Anna de Vries")
    await company_channel(chat, lars, anna)
    await lars.says("blog Wat kunnen we beter doen bij retouren?")
    await lars.clicks(nl(chat, "leadership.button_send"))
    post = (await anna.replies_with("leadership.post", COMPANY))[0]

    await anna.says("Retourlabels meesturen!", where=COMPANY, thread_of=post.id)
    await anna.reacts(post, "heart")
    await lars.reacts(post, "+1")
    notice = await lars.last_reply()
    assert notice.key == "leadership.snippet.reply_notice"
    assert "Anna de Vries" in notice.text and "Retourlabels meesturen!" in notice.text

    async with chat.services.database.transaction() as session:
        repo = Repos(session).leadership
        snippet_id = (await snippets(chat))[0].id
        counts = (await repo.responses([snippet_id]))[snippet_id]
        assert (counts.replies, counts.reactions) == (1, 2)
    await lars.reacts(post, "+1", removed=True)  # taken back
    async with chat.services.database.transaction() as session:
        reactions = await Repos(session).leadership.reactions((await snippets(chat))[0].id)
        assert [(r.member_id, r.emoji) for r in reactions] == [(anna.member.id, "heart")]
    await lars.says("mijnvlogs")
    overview = await lars.last_reply()
    assert overview.key == "leadership.list.intro"
    assert "geplaatst · 1 reactie met emoji · 1 reactie in de draad" in overview.text


async def test_an_employee_is_refused_politely_and_nothing_is_stored(chat: Chat) -> None:
    anna = await chat.member("Anna de Vries")
    await company_channel(chat, anna)
    for text in ("vlog https://video.example.com/a Hallo", "blog Hallo allemaal", "snippet"):
        outcome = await anna.says(text)
        assert outcome.error is not None and outcome.error.key == "error.not_allowed"
        assert (await anna.last_reply()).text == nl(chat, "error.not_allowed", role=nl(chat, "roles.leader"))
    assert await count(chat, LeaderSnippet) == 0
    assert await anna.replies_with("leadership.post", COMPANY) == []


async def test_bad_snippets_are_refused_with_nothing_changed(chat: Chat) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    await company_channel(chat, lars)
    cases = {
        "vlog ftp://video.example.com/a Mijn vlog": "leadership.snippet.bad_video",
        "vlog --video javascript:alert(1) Mijn vlog": "leadership.snippet.bad_video",
        "blog --story bakkerij-utrecht": "leadership.snippet.empty",
        "blog Goed verhaal --story 'twee woorden'": "leadership.snippet.bad_story",
        "blog " + "x" * 1501: "error.field_too_long",
        "blog Goed verhaal --story ../../etc": "leadership.snippet.bad_story",
    }
    for text, key in cases.items():
        outcome = await lars.says(text)
        assert outcome.error is not None and outcome.error.key == key, text
    await lars.says("vlog")
    for fields in ({"text": "", "video": ""}, {"text": "   ", "video": "  ", "story": "abc"}):
        outcome = await lars.submits(fields)
        assert outcome.error is not None and outcome.error.key == "leadership.snippet.empty"
    outcome = await lars.submits({"text": "Tekst", "video": "www.example.com/v"})
    assert outcome.error is not None and outcome.error.key == "leadership.snippet.bad_video"
    assert await count(chat, LeaderSnippet) == 0


async def test_without_the_company_channel_the_leader_is_told_before_writing(chat: Chat) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO", locale="en")
    outcome = await lars.says("blog Hello everyone")
    assert outcome.error is not None and outcome.error.key == "leadership.snippet.no_channel"
    assert "#algemeen" in (await lars.last_reply()).text
    assert await count(chat, LeaderSnippet) == 0


async def test_a_snippet_started_in_the_channel_is_previewed_only_to_its_leader(chat: Chat) -> None:
    lars = await leader(chat, "Lars Hendriks", "CEO")
    anna = await chat.member("Anna de Vries")
    await company_channel(chat, lars, anna)
    await lars.says("/blog Nog even geheim tot ik op versturen klik.", where=COMPANY)
    [preview] = await lars.replies_with("leadership.preview.intro", COMPANY)
    assert preview.private
    assert await anna.replies_with("leadership.preview.intro", COMPANY) == []
    await lars.clicks(nl(chat, "leadership.button_send"), preview)
    posts = await anna.replies_with("leadership.post", COMPANY)
    assert len(posts) == 1 and not posts[0].private
