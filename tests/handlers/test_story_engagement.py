"""Engagement with posted stories as dialogues: thread replies and reactions (also taken back), counted per
story and channel, each replier once, and `verhalen cijfers` saying when it shows only the newest rows."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.app import Services
from bot.clock import ManualClock
from handlers.story_engagement import STATS_LIMIT
from storage.repositories import Repos
from tests.handlers.story_dialogue import advance, manager, stories_in, title_of
from tests.harness import Chat

CHANNEL = "channel:klantverhalen"


def plain(text: str) -> str:
    """Text without its Markdown marks and with single spaces, to compare a template with what was shown."""
    return re.sub(r"[\s`_*]+", " ", text).strip()


async def test_replies_and_reactions_are_counted_per_story_and_channel(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    chloe = await manager(chat)
    anna, bram, daan = [await chat.member(name) for name in ("Anna", "Bram", "Daan")]
    await chat.channel("klantverhalen", [chloe, anna, bram, daan])
    await chloe.says("verhalen abonneer #klantverhalen")
    await advance(chat, clock, timedelta(hours=1), timedelta(minutes=30))
    post = stories_in(await anna.sees(CHANNEL))[0]

    await anna.says("Herkenbaar! Bij ons duurt een terugbetaling ook te lang.", CHANNEL, thread_of=post.id)
    await bram.says("Goeie vraag, ik neem hem mee naar het teamoverleg.", CHANNEL, thread_of=post.id)
    await anna.says("En nog iets.", CHANNEL, thread_of=post.id)
    await daan.reacts(post, "heart")
    await daan.reacts(post, "heart")
    await anna.reacts(post, "+1")
    await bram.says("gewoon een bericht", CHANNEL)

    async def line() -> str:
        await chloe.says("verhalen cijfers")
        stats = await chloe.last_reply()
        assert stats.key == "stories.stats.intro"
        return next(line for line in stats.text.splitlines() if title_of(post) in line)

    assert (await line()).endswith("#klantverhalen: bereik 4, 3 reacties van 2 mensen, 2 emoji")
    await anna.reacts(post, "+1", removed=True)
    await bram.reacts(post, "heart", removed=True)  # a reaction Bram never gave: nothing changes
    assert (await line()).endswith("#klantverhalen: bereik 4, 3 reacties van 2 mensen, 1 emoji")
    outcome = await chloe.says("verhalen cijfers --weeks nooit")
    assert outcome.error is not None and outcome.error.key == "stories.stats.bad_weeks"


async def test_someone_replying_to_two_posts_of_a_story_is_one_replier(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    chloe = await manager(chat)
    anna, bram = [await chat.member(name) for name in ("Anna", "Bram")]
    await chat.channel("klantverhalen", [chloe, anna, bram])
    async with services.database.transaction() as session:  # one Dutch story left: it comes every week
        for story in (await Repos(session).stories.approved("nl"))[1:]:
            story.status = "archived"
    await chloe.says("verhalen abonneer #klantverhalen")
    await advance(chat, clock, timedelta(hours=1), timedelta(minutes=30))
    first = stories_in(await anna.sees(CHANNEL))[0]
    await anna.says("Mooi verhaal.", CHANNEL, thread_of=first.id)
    await bram.says("Eens!", CHANNEL, thread_of=first.id)
    await advance(chat, clock, timedelta(weeks=1), timedelta(hours=12))
    posts = stories_in(await anna.sees(CHANNEL))
    assert len(posts) == 2 and title_of(posts[1]) == title_of(first)
    await anna.says("Nog steeds mooi.", CHANNEL, thread_of=posts[1].id)

    await chloe.says("verhalen cijfers")
    stats = (await chloe.last_reply()).text
    line = next(line for line in stats.splitlines() if title_of(first) in line)
    assert line.endswith("(2×): bereik 6, 3 reacties van 2 mensen, 0 emoji")


async def test_stats_say_when_they_show_only_the_newest_rows(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    chloe = await manager(chat)
    channels = [await chat.channel(name, [chloe]) for name in ("klantverhalen", "verhalen-twee")]
    async with services.database.transaction() as session:  # a long history: every story in both channels
        repos = Repos(session)
        stories = await repos.stories.approved("nl")
        for number, story in enumerate(stories):
            for external in channels:
                channel = await repos.channels.by_external("web", external)
                assert channel is not None
                moment = clock.now() - timedelta(weeks=len(stories) - number)
                await repos.stories.record_post(
                    story=story,
                    channel_id=channel.id,
                    schedule_id=None,
                    fire_time=moment,
                    delivery_key=f"history:{story.id}:{channel.id}",
                    reach=2,
                    now=moment,
                )
    rows = 2 * len(stories)
    assert rows > STATS_LIMIT

    await chloe.says("verhalen cijfers")
    stats = (await chloe.last_reply()).text
    shown = [line for line in stats.splitlines() if ": bereik " in line]
    assert len(shown) == STATS_LIMIT
    assert stories[-1].title in shown[0], "the most recently posted first"
    assert plain(chat.t("nl", "stories.stats.more", limit=STATS_LIMIT)) in plain(stats), "no silent cut"
    totals = chat.t("nl", "stories.stats.summary", posts=rows, reach=2 * rows, replies=0)
    assert plain(totals) in plain(stats), "the totals cover every post, also the ones not shown"
