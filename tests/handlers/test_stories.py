"""Customer stories as dialogues through the web chat: the library, approval, weekly slots, engagement."""

from __future__ import annotations

import itertools
from datetime import timedelta

from bot.app import Services
from bot.clock import ManualClock
from handlers.story_files import starter_library
from storage.repositories import Repos
from tests.handlers.story_dialogue import (
    STARTER_PER_LOCALE,
    advance,
    count_stories,
    manager,
    stories_in,
    title_of,
)
from tests.harness import Chat


async def test_starter_library_is_loaded_once_on_every_start(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    assert await count_stories(services, "approved") == 2 * STARTER_PER_LOCALE >= 24
    again = Services(services.settings, clock=clock)
    await again.start()
    await again.stop()
    assert await count_stories(services) == 2 * STARTER_PER_LOCALE

    chloe = await manager(chat)
    await chloe.says("verhalen lijst approved --locale en")
    listing = await chloe.last_reply()
    assert listing.key == "stories.list.intro"
    english_titles = [fields.title for fields in starter_library() if fields.locale == "en"]
    assert all(title in listing.text for title in english_titles)
    assert not any(fields.title in listing.text for fields in starter_library() if fields.locale == "nl")


async def test_employees_may_not_manage_the_library(chat: Chat, services: Services) -> None:
    anna = await chat.member("Anna")
    for command in ("verhalen", "verhalen toevoegen", "verhalen goedkeuren 1", "verhalen cijfers"):
        outcome = await anna.says(command)
        assert outcome.error is not None and outcome.error.key == "error.not_allowed", command
    assert await count_stories(services, "draft") == 0


async def test_manager_adds_a_story_by_form_fixes_errors_and_approves_it(
    chat: Chat, services: Services
) -> None:
    chloe = await manager(chat)
    await chloe.says("verhalen toevoegen")
    form = await chloe.latest_form()
    before = await count_stories(services)

    await chloe.submits(
        {"title": "", "story": "Een klant belde drie keer.", "locale": "nl", "video_url": "niet-een-link"},
        form,
    )
    again = await chloe.latest_form()
    assert chat.t("nl", "error.field_required") in again.text
    assert chat.t("nl", "stories.form.bad_link") in again.text
    assert await count_stories(services) == before

    await chloe.submits(
        {
            "title": "Drie keer bellen",
            "story": "Een klant belde drie keer over dezelfde factuur.",
            "quote": "Ik wilde gewoon één iemand die het oploste.",
            "meaning": "Eén aanspreekpunt scheelt de klant veel moeite.",
            "question": "Wie houdt bij ons een vraag vast tot hij is opgelost?",
            "stage": "support",
            "department": "Finance",
            "theme": "silos",
            "locale": "nl",
        },
        again,
    )
    review = await chloe.last_reply()
    assert review.key == "stories.review" and "Drie keer bellen" in review.text
    assert chat.t("nl", "stories.status.draft") in review.text
    await chloe.clicks(chat.t("nl", "stories.review.approve"), review)
    approved = await chloe.last_reply()
    assert chat.t("nl", "stories.changed.approved", title="Drie keer bellen") in approved.text
    assert await count_stories(services, "approved") == 2 * STARTER_PER_LOCALE + 1
    assert chat.t("nl", "stories.review.approve") not in approved.buttons()


async def test_archiving_by_command_and_unknown_story(chat: Chat, services: Services) -> None:
    chloe = await manager(chat)
    outcome = await chloe.says("verhalen archiveer 99999")
    assert outcome.error is not None and outcome.error.key == "stories.error.no_story"
    await chloe.says("verhalen archiveer ritz-carlton-2000-dollars")
    assert chat.t("nl", "stories.status.archived") in (await chloe.last_reply()).text
    assert await count_stories(services, "archived") == 1
    await chloe.says("verhalen lijst gewist")
    assert (await chloe.last_reply()).key == "stories.error.bad_status"


async def test_a_shared_story_is_redacted_approved_posted_and_credited(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    chloe = await manager(chat)
    anna = await chat.member("Anna de Vries", department="Klantenservice")
    await chat.channel("klantverhalen", [chloe, anna])
    await chloe.says("verhalen abonneer #klantverhalen")

    await anna.says("verhaal delen")
    await anna.submits(
        {
            "title": "De bloemen voor mevrouw Jansen",
            "story": "Mevrouw Jansen (06-12345678) kreeg haar bestelling niet. Collega Piet bracht hem zelf langs.",
            "quote": "Dat iemand zelf kwam, vergeet ik nooit.",
        }
    )
    thanks = await anna.last_reply()
    assert chat.t("nl", "story.share.thanks") in thanks.text
    assert "telefoonnummer" in thanks.text

    review = (await chloe.replies_with("stories.review"))[-1]
    assert "Anna de Vries" in review.text
    assert "06-12345678" not in review.text and "Jansen" not in review.text
    await chloe.clicks(chat.t("nl", "stories.review.approve"), review)
    assert (await anna.last_reply()).text == chat.t(
        "nl", "story.share.approved", title="De bloemen voor mevrouw [naam]"
    )

    await advance(chat, clock, timedelta(hours=1), timedelta(minutes=15))
    posted = stories_in(await anna.sees("channel:klantverhalen"))
    assert len(posted) == 1
    assert title_of(posted[0]) == "De bloemen voor mevrouw [naam]"
    assert chat.t("nl", "story.card.credit", credit="Anna de Vries") in posted[0].text
    assert (await anna.last_reply()).text == chat.t(
        "nl", "story.share.posted", title="De bloemen voor mevrouw [naam]", channel="klantverhalen"
    )


async def test_a_week_of_slots_in_two_channels_and_time_zones(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    chloe = await manager(chat)
    jasper = await chat.member("Jasper", locale="en", timezone="America/New_York")
    await chat.channel("klantverhalen", [chloe])
    await chat.channel("customer-stories", [chloe, jasper], locale="en", timezone="America/New_York")
    await chloe.says("verhalen abonneer #klantverhalen")
    assert (await chloe.last_reply()).text == chat.t(
        "nl",
        "stories.subscribe.done",
        channel="klantverhalen",
        weekday="maandag",
        time="09:30",
        timezone="Europe/Amsterdam",
        next="2026-11-23 09:30",
        language="Nederlands",
    )
    await chloe.says("verhalen abonneer #customer-stories maandag 9:30")

    # Monday 08:00 UTC: 09:30 in Amsterdam is 08:30 UTC, 09:30 in New York is 14:30 UTC.
    await advance(chat, clock, timedelta(minutes=45), timedelta(minutes=15))
    dutch = stories_in(await chloe.sees("channel:klantverhalen"))
    assert len(dutch) == 1 and not stories_in(await chloe.sees("channel:customer-stories"))
    nl_titles = {fields.title for fields in starter_library() if fields.locale == "nl"}
    assert title_of(dutch[0]) in nl_titles

    await advance(chat, clock, timedelta(hours=6), timedelta(minutes=30))
    english = stories_in(await jasper.sees("channel:customer-stories"))
    assert len(english) == 1
    assert title_of(english[0]) in {fields.title for fields in starter_library() if fields.locale == "en"}

    await advance(chat, clock, timedelta(days=6, hours=12), timedelta(hours=6))
    assert len(stories_in(await chloe.sees("channel:klantverhalen"))) == 1
    assert len(stories_in(await chloe.sees("channel:customer-stories"))) == 1

    await chloe.says("verhalen kanalen")
    channels = await chloe.last_reply()
    assert "#klantverhalen" in channels.text and "America/New_York" in channels.text


async def test_no_repeats_until_the_library_is_exhausted(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    chloe = await manager(chat)
    await chat.channel("klantverhalen", [chloe])
    await chloe.says("verhalen abonneer #klantverhalen")
    weeks = STARTER_PER_LOCALE + 1
    await advance(chat, clock, timedelta(minutes=30), timedelta(minutes=30))  # Monday 09:30 in Amsterdam
    await advance(chat, clock, timedelta(weeks=weeks - 1), timedelta(weeks=1))
    titles = [title_of(message) for message in stories_in(await chloe.sees("channel:klantverhalen"))]
    assert len(titles) == weeks
    assert len(set(titles[:12])) == 12
    assert len(set(titles[:STARTER_PER_LOCALE])) == STARTER_PER_LOCALE
    assert titles[-1] == titles[0]

    tags = {(f.title): (f.department, f.theme) for f in starter_library()}
    same_department_and_theme_in_a_row = [
        (a, b) for a, b in itertools.pairwise(titles) if tags[a] == tags[b] and tags[a][0] != "all"
    ]
    assert same_department_and_theme_in_a_row == []


async def test_unsubscribed_channels_get_no_more_stories_and_bad_times_are_refused(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    chloe = await manager(chat)
    await chat.channel("klantverhalen", [chloe])
    outcome = await chloe.says("verhalen abonneer #klantverhalen zondagmiddag")
    assert outcome.error is not None and outcome.error.key == "stories.subscribe.bad_when"
    outcome = await chloe.says("verhalen abonneer #bestaat-niet")
    assert outcome.error is not None and outcome.error.key == "stories.subscribe.no_channel"
    await chloe.says("verhalen kanalen")
    assert (await chloe.last_reply()).key == "stories.channels.none"

    await chloe.says("verhalen abonneer #klantverhalen")
    await chloe.says("verhalen afmelden #klantverhalen")
    assert (await chloe.last_reply()).key == "stories.unsubscribe.done"
    await advance(chat, clock, timedelta(days=8), timedelta(hours=12))
    assert stories_in(await chloe.sees("channel:klantverhalen")) == []


async def test_story_shows_this_weeks_story_in_the_members_language(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    chloe = await manager(chat)
    emma = await chat.member("Emma", locale="en")
    await chat.channel("klantverhalen", [chloe])
    await chloe.says("verhalen abonneer #klantverhalen")
    await advance(chat, clock, timedelta(hours=1), timedelta(minutes=30))
    posted = stories_in(await chloe.sees("channel:klantverhalen"))[0]

    await chloe.says("verhaal")
    shown = await chloe.last_reply()
    assert shown.key == "story.week" and title_of(shown) == title_of(posted)
    await emma.says("story")
    english = await emma.last_reply()
    assert title_of(english) in {fields.title for fields in starter_library() if fields.locale == "en"}
    await emma.clicks(chat.t("en", "story.share.button"), english)
    assert (await emma.last_reply()).key == "story.share.form_title"


async def test_next_story_and_slot_refire_posts_once(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    from handlers.story_slots import SLOT, story_slot

    chloe = await manager(chat)
    await chat.channel("klantverhalen", [chloe])
    await chloe.says("verhalen abonneer #klantverhalen")
    await chloe.says("verhalen volgende #klantverhalen")
    upcoming = await chloe.last_reply()
    await advance(chat, clock, timedelta(hours=1), timedelta(minutes=30))
    posted = stories_in(await chloe.sees("channel:klantverhalen"))
    assert len(posted) == 1 and title_of(posted[0]) in upcoming.text

    async with services.database.transaction() as session:
        schedule = (await Repos(session).schedules.of_kind(SLOT))[0]
        assert schedule.last_fired_at is not None
        await story_slot(services.job_context(session), schedule, schedule.last_fired_at)
    await chat.deliver()
    assert len(stories_in(await chloe.sees("channel:klantverhalen"))) == 1


async def test_an_empty_language_is_reported_to_cx_managers(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    chloe = await manager(chat)
    await chat.channel("stories", [chloe], locale="en")
    async with services.database.transaction() as session:
        for story in await Repos(session).stories.approved("en"):
            story.status = "archived"
    await chloe.says("verhalen abonneer #stories")
    await advance(chat, clock, timedelta(hours=1), timedelta(minutes=30))
    assert stories_in(await chloe.sees("channel:stories")) == []
    warning = await chloe.last_reply()
    assert warning.key == "stories.slot.empty" and "#stories" in warning.text and "Engels" in warning.text


async def test_the_demo_has_this_weeks_story_posted_in_klantverhalen(chat: Chat, services: Services) -> None:
    from bot import demo
    from tests.harness import Person

    assert await demo.seed(services)
    await chat.deliver()
    async with services.database.transaction() as session:
        anna = await Repos(session).members.by_name("Anna de Vries")
    assert anna is not None
    newcomer = Person(chat, anna)
    posted = stories_in(await newcomer.sees("channel:klantverhalen"))
    assert len(posted) == 1
    await newcomer.says("verhaal")
    assert title_of(await newcomer.last_reply()) == title_of(posted[0])
