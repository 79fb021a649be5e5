"""CX managers build and run campaigns in chat; everyone else is refused politely and nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import ManualClock
from bot.recurrence import weekly
from storage.models import Meeting, Role
from storage.repositories import Repos
from tests.handlers.campaigns.factories import WINTER, apply_text, campaign, move_to
from tests.harness import Chat, Person, Seen


async def team(chat: Chat) -> tuple[Person, Person, Person]:
    manager = await chat.member("Chloé Bakker", department="Klantenservice", roles=[Role.cx_manager])
    anna = await chat.member("Anna de Vries", department="Klantenservice")
    lars = await chat.member("Lars Hendriks", department="Directie", roles=[Role.leader], locale="en")
    return manager, anna, lars


def plain(seen: Seen) -> str:
    """What the person reads, with the spacing of markup taken out."""
    return " ".join(seen.text.split())


async def all_campaigns(chat: Chat) -> list[str]:
    async with chat.services.database.transaction() as session:
        return [found.key for found in await Repos(session).campaigns.all()]


async def test_only_cx_managers_and_admins_manage_campaigns(chat: Chat) -> None:
    manager, anna, lars = await team(chat)
    for command in (
        "campagne nieuw",
        "campagne nieuw --sjabloon klantweek",
        "campagnes",
        "campagne pauzeer x",
    ):
        await anna.says(command)
        reply = await anna.last_reply()
        assert reply.key == "error.not_allowed"
        assert reply.text == chat.t("nl", "error.not_allowed", role=chat.t("nl", "roles.cx_manager"))
    await lars.says("campaign new --template klantweek")
    assert (await lars.last_reply()).key == "error.not_allowed"
    assert await all_campaigns(chat) == []

    admin = await chat.member("Ada Admin", roles=[Role.admin])
    await admin.says("campagne nieuw --sjabloon enps")
    assert (await admin.last_reply()).key == "campaign.card.title"
    await manager.says("campagnes")
    assert "Kwartaal-eNPS" in (await manager.last_reply()).text


async def test_a_campaign_built_with_the_guided_form(chat: Chat, clock: ManualClock) -> None:
    manager, anna, lars = await team(chat)
    await manager.says("campagne nieuw")
    assert (await manager.last_reply()).key == "campaign.form.title"

    basics = {
        "template": "none",
        "name": "Klantmaand",
        "key": "",
        "goal": "Elke week de klant in beeld",
        "audience": "departments",
        "audience_names": "Verkoop",
        "timezone": "Europe/Amsterdam",
        "starts": "2026-11-30",
        "ends": "2026-12-31",
        "working_days": "ma-vr",
        "quiet_hours": "20:00-08:00",
        "holidays": "NL",
        "on_holiday": "skip",
    }
    await manager.submits(basics)
    again = await manager.last_reply()
    assert again.key == "campaign.form.title" and "Ik ken de afdeling “Verkoop” niet." in again.text
    assert await all_campaigns(chat) == []

    await manager.submits({**basics, "audience_names": "Klantenservice, Directie"})
    card = await manager.last_reply()
    assert card.key == "campaign.card.title"
    assert plain(card).startswith("📅 Klantmaand ( klantmaand ) — concept")

    await manager.clicks("Stap toevoegen")
    step = {"kind": "message", "cadence": "weekly", "days": "ma", "every": "1", "time": "07:30"}
    await manager.submits({**step, "text": ""})
    assert "Een bericht heeft een tekst nodig." in (await manager.last_reply()).text
    await manager.submits({**step, "days": "maan"})
    assert "Ik begrijp deze dagen niet" in (await manager.last_reply()).text
    await manager.submits({**step, "text": "Welke klant hielp jij vorige week?"})
    card = await manager.last_reply()
    assert "1. message-1 bericht — elke week op ma om 07:30" in plain(card)

    await manager.clicks("Vooruitblik")
    preview = await manager.last_reply()
    assert preview.key == "campaign.preview.title"
    # 07:30 is quiet (until 08:00): it moves to 08:00 — for Anna in Dutch, for Lars in English.
    assert "maandag 30 november 08:00 · message-1 · Welke klant hielp jij vorige week?" in plain(preview)
    assert "2 mensen in Europe/Amsterdam (nl)" in plain(preview)
    assert "1 persoon in Europe/Amsterdam (en)" in plain(preview)

    await manager.clicks("Activeren")
    assert any(seen.key == "campaign.activated" for seen in await manager.sees())
    assert (await campaign(chat, "klantmaand")).status == "active"
    await move_to(chat, clock, datetime(2026, 11, 30, 7, 0, tzinfo=UTC))
    message = (await anna.replies_with("campaign.message"))[-1]
    assert "Welke klant hielp jij vorige week?" in message.text and "Campagne: Klantmaand" in message.text
    assert (await lars.replies_with("campaign.message"))[-1].text.endswith("Campaign: Klantmaand")

    # Editing a running campaign takes effect at once.
    await manager.says("campagne wijzig klantmaand")
    await manager.clicks("Basis wijzigen")
    await manager.submits({**basics, "name": "Klantmaand december", "audience_names": "Klantenservice"})
    assert (await campaign(chat, "klantmaand")).name == "Klantmaand december"
    await move_to(chat, clock, datetime(2026, 12, 7, 7, 0, tzinfo=UTC))
    assert len(await anna.replies_with("campaign.message")) == 2
    assert len(await lars.replies_with("campaign.message")) == 1


async def test_klantweek_from_its_template_switches_the_ritual_on_for_the_week(
    chat: Chat, clock: ManualClock
) -> None:
    manager, anna, lars = await team(chat)
    for name in ("Daan Visser", "Eva Smit"):  # five people: enough for an anonymous pulse
        await chat.member(name, department="Marketing")
    channel = await chat.channel("weekstart", [manager, anna])
    async with chat.services.database.transaction() as session:
        repos = Repos(session)
        found = await repos.channels.by_external("web", channel)
        assert found is not None
        meeting = await repos.ritual.add_meeting(
            Meeting(
                name="Weekstart",
                channel_id=found.id,
                rrule=weekly(["MO"], 10, 0),
                timezone="Europe/Amsterdam",
                starts_at=datetime(2026, 11, 23, 9, tzinfo=UTC),
                duration_minutes=30,
                ritual_enabled=False,
                created_at=clock.now(),
            )
        )
        meeting_id = meeting.id

    await manager.says("campagne nieuw --sjabloon klantweek --start 2026-11-30")
    card = await manager.last_reply()
    assert plain(card).startswith("📅 Klantweek ( klantweek-2026-11-30 ) — concept")
    await manager.says("campagne activeer klantweek-2026-11-30")
    await manager.says("campagne vooruitblik klantweek-2026-11-30 2")
    preview = plain(await manager.last_reply())
    assert "De klantpet gaat aan in 1 vergadering(en), 5 dagen lang" in preview
    assert "maandag 30 november 09:00 · kick-off · 🎉 Het is Klantweek ! Deze week" in preview

    async def ritual_on() -> bool:
        async with chat.services.database.transaction() as session:
            found = await Repos(session).ritual.meeting(meeting_id)
            assert found is not None
            return found.ritual_enabled

    await move_to(chat, clock, datetime(2026, 11, 30, 7, 0, tzinfo=UTC))
    assert await ritual_on()
    assert (await anna.last_reply(channel)).key == "campaign.ritual_on"
    await move_to(chat, clock, datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    assert "Het is Klantweek" in plain((await anna.replies_with("campaign.message"))[-1])
    await move_to(chat, clock, datetime(2026, 11, 30, 8, 30, tzinfo=UTC))
    assert (await anna.replies_with("story.card"))[-1]  # the first story of the week
    await move_to(chat, clock, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    nudge = (await lars.replies_with("campaign.nudge.text"))[-1]
    assert "Write a vlog or blog" in nudge.buttons()
    assert not await anna.replies_with("campaign.nudge.text")
    await move_to(chat, clock, datetime(2026, 12, 4, 8, 59, tzinfo=UTC))
    assert not [seen for seen in await anna.sees() if seen.key and seen.key.startswith("pulse.card")]
    await move_to(chat, clock, datetime(2026, 12, 4, 9, 0, tzinfo=UTC))  # Friday 10:00: the pulse opens
    assert [seen for seen in await anna.sees() if seen.key and seen.key.startswith("pulse.card")]
    async with chat.services.database.transaction() as session:
        rounds = await Repos(session).pulses.rounds(limit=5)
        assert [(found.name, found.invited_count, found.status) for found in rounds] == [
            ("Klantweek", 5, "open")
        ]
    await move_to(chat, clock, datetime(2026, 12, 5, 7, 0, tzinfo=UTC))
    assert not await ritual_on()  # back as it was after five days


async def test_choosing_a_template_in_the_form_keeps_its_plan(chat: Chat) -> None:
    manager, _, _ = await team(chat)
    await manager.says("campaign new")
    await manager.submits(
        {"template": "onboarding", "name": "", "key": "", "audience": "everyone", "starts": ""}
    )
    card = plain(await manager.last_reply())
    assert card.startswith("📅 Onboarding ( onboarding-journey ) — concept")
    assert "Voor nieuwe collega's" in card and "4. week-4-pulse peiling — 28 dagen na de start" in card
    await manager.clicks("Weggooien")
    assert (await manager.last_reply()).key == "campaign.discarded"
    assert await all_campaigns(chat) == []


async def test_editing_keeps_the_owner_unless_another_is_named(chat: Chat) -> None:
    manager, _, _ = await team(chat)
    admin = await chat.member("Ada Admin", roles=[Role.admin])
    await apply_text(chat, WINTER, manager)
    basics = {
        "name": "Winterweken",
        "goal": "De klant in de donkere weken",
        "owner": "",
        "audience": "everyone",
        "audience_names": "",
        "timezone": "Europe/Amsterdam",
        "starts": "2026-11-23",
        "ends": "2027-01-17",
        "working_days": "ma-vr",
        "quiet_hours": "20:00-09:00",
        "holidays": "NL",
        "on_holiday": "skip",
    }
    await admin.says("campagne wijzig winter")
    assert "Eigenaar: Chloé Bakker" in plain(await admin.last_reply())
    await admin.clicks("Basis wijzigen")
    assert 'value="Chloé Bakker"' in (await admin.latest_form()).html  # the owner field, filled in
    await admin.submits({**basics, "goal": "Elke week de klant in beeld"})
    edited = await campaign(chat, "winter")
    assert (edited.goal, edited.owner_member_id) == ("Elke week de klant in beeld", manager.member.id)

    await admin.clicks("Basis wijzigen")
    await admin.submits({**basics, "owner": "Niemand Bekend"})
    again = await admin.last_reply()
    assert again.key == "campaign.form.title" and "Niemand Bekend" in again.text
    assert (await campaign(chat, "winter")).owner_member_id == manager.member.id
    await admin.submits({**basics, "owner": "Ada Admin"})
    assert (await campaign(chat, "winter")).owner_member_id == admin.member.id
    assert "Eigenaar: Ada Admin" in plain(await admin.last_reply())
