"""Campaigns in the dashboard on the demo organisation: list, plan with the whole definition, preview with
the campaigns feature's own calendar, save, edit (keeping the owner and everything a file said), start, pause,
resume and archive — CX managers and admins only, every form with its CSRF token."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from bot import demo
from bot.app import Services
from handlers.campaigns import spec_of
from storage.models import Member, Schedule
from storage.models.campaigns import Campaign
from storage.repositories import Repos
from tests.dashboard.conftest import Browser


@pytest.fixture
async def people(services: Services) -> dict[str, Member]:
    """The demo organisation (with its Klantweek and quarterly eNPS), by first name; Jasper works from
    New York."""
    assert await demo.seed(services)
    async with services.database.transaction() as session:
        repos = Repos(session)
        found = {member.name.split()[0]: member for member in await repos.members.active()}
        found["Jasper"].timezone = "America/New_York"
        return found


class FormReader(HTMLParser):
    """The values a browser would send for the first form with ``action`` (untouched fields as shown)."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, list[tuple[str, str]]()
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = found.get("action") == self.action
        elif not self.inside:
            return
        elif tag == "input" and found.get("type") not in ("submit", "button"):
            if found.get("type") != "checkbox" or "checked" in found:
                self.fields.append((found["name"], found.get("value", "")))
        elif tag == "select":
            self.select, self.options = found["name"], []
        elif tag == "option" and self.select is not None:
            self.options.append((found.get("value", ""), "selected" in found))
        elif tag == "textarea":
            self.textarea = found["name"]
            self.fields.append((self.textarea, ""))

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            name, value = self.fields.pop()
            self.fields.append((name, value + data))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            chosen = [value for value, selected in self.options if selected] or [self.options[0][0]]
            self.fields.append((self.select, chosen[0]))
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def form_of(html: str, action: str) -> list[tuple[str, str]]:
    reader = FormReader(action)
    reader.feed(html)
    return [(name, value.strip()) for name, value in reader.fields]


def fields(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form fields as httpx sends them (a name may come more than once, e.g. a ticked checkbox list)."""
    found: dict[str, list[str]] = {}
    for name, value in pairs:
        found.setdefault(name, []).append(value)
    return found


def plain(response: httpx.Response) -> str:
    """The page's text as read (tags and extra spaces taken out)."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.text).split())


def csrf(response: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert found
    return found.group(1)


def error(page: str, field: str) -> str:
    found = re.search(rf'<span class="field-error" id="error-{re.escape(field)}">([^<]*)</span>', page)
    assert found, f"no problem shown next to {field}"
    return found.group(1)


async def campaigns(services: Services) -> dict[str, Campaign]:
    async with services.database.transaction() as session:
        return {campaign.key: campaign for campaign in await Repos(session).campaigns.all()}


async def enabled_sends(services: Services, campaign_id: int) -> int:
    async with services.database.transaction() as session:
        schedules = await Repos(session).campaigns.schedules(campaign_id, ["campaign.send"])
        return len(
            [schedule for schedule in schedules if isinstance(schedule, Schedule) and schedule.enabled]
        )


def t(services: Services, key: str, **params: object) -> str:
    return str(services.catalog.t("nl", key, **params))


PLAN = [
    ("name", "Wintermaand"),
    ("key", ""),
    ("goal", "De klant in de donkere weken"),
    ("audience", "departments"),
    ("audience_departments", "IT"),
    ("audience_departments", "Klantenservice"),
    ("timezone", "Europe/Amsterdam"),
    ("starts", "2026-12-21"),
    ("ends", "2027-02-28"),
    *[("working_days", day) for day in ("MO", "TU", "WE", "TH", "FR")],
    ("quiet_from", "20:00"),
    ("quiet_until", "08:00"),
    ("holidays_country", "NL"),
    ("on_holiday", "skip"),
    ("s0-kind", "message"),
    ("s0-cadence", "weekly"),
    ("s0-days", "FR"),
    ("s0-every", "1"),
    ("s0-time", "07:30"),
    ("s0-audience", "campaign"),
    ("s0-text_nl", "Welke klant maakte jouw week?"),
    ("s0-text_en", "Which customer made your week?"),
    ("s1-kind", "pulse"),
    ("s1-cadence", "rrule"),
    ("s1-rrule", "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=2"),
    ("s1-time", "10:00"),
    ("s1-audience", "campaign"),
    ("s1-pulse_name", "Wintervraag"),
    ("s1-duration", "3d"),
    ("s1-statements", "2"),
    ("s1-open_question", "yes"),
    ("s1-baseline", "first"),
    ("s2-kind", ""),
]


async def test_plan_preview_save_start_pause_resume_and_archive_a_campaign(
    services: Services, browser: Browser, people: dict[str, Member]
) -> None:
    chloe = people["Chloé"]
    await browser.sign_in(chloe)
    listed = await browser.client.get("/admin/campaigns")
    assert listed.status_code == 200
    assert "Klantweek" in listed.text and "Kwartaal-eNPS" in listed.text and "Chloé Bakker" in listed.text
    token = csrf(await browser.client.get("/admin/campaigns/new"))
    before = {key: (found.status, found.version) for key, found in (await campaigns(services)).items()}

    broken = dict(PLAN) | {"timezone": "Mars/Olympus", "s0-text_nl": "", "s0-text_en": ""}
    refused = await browser.client.post(
        "/admin/campaigns",
        data={
            "csrf_token": token,
            "do": "start",
            **broken,
            "s1-rrule": "FREQ=DAILY;BYHOUR=7,21",
            "audience_departments": ["IT", "Verkoop"],
        },
    )
    assert refused.status_code == 422
    page = refused.text
    assert error(page, "timezone") == t(services, "campaign.error.timezone", given="Mars/Olympus")
    assert error(page, "s0-text_nl") == t(services, "campaign.error.message_text")
    assert error(page, "s1-rrule") == t(services, "campaign.error.too_frequent")
    assert 'href="#field-s1-rrule"' in page and "Stap 2" in page
    after = {key: (found.status, found.version) for key, found in (await campaigns(services)).items()}
    assert after == before, "nothing saved"

    shown = await browser.client.post(
        "/admin/campaigns/preview", data=fields([("csrf_token", token), ("do", "preview"), *PLAN])
    )
    assert shown.status_code == 200, shown.text
    moments = re.findall(
        r'<time datetime="([^"]+)">([^<]+)</time> <span class="what">\(([^)]+)\)', shown.text
    )
    # 25 December and 1 January are Fridays and Dutch public holidays: skipped. 07:30 is quiet until 08:00,
    # in Amsterdam (07:00 UTC) and for Jasper in New York (13:00 UTC).
    assert ("2027-01-08T07:00:00+00:00", "vr 08-01-2027 08:00", "Europe/Amsterdam") in moments
    assert ("2027-01-08T13:00:00+00:00", "vr 08-01-2027 08:00", "America/New_York") in moments
    assert not [moment for moment in moments if moment[0].startswith(("2026-12-25", "2027-01-01"))]
    assert ("2027-01-11T09:00:00+00:00", "ma 11-01-2027 10:00", "Europe/Amsterdam") in moments  # 2nd Monday
    assert (
        "Which customer made your week?" in shown.text and "3 mensen in Europe/Amsterdam (nl)" in shown.text
    )

    saved = await browser.client.post(
        "/admin/campaigns", data=fields([("csrf_token", token), ("do", "draft"), *PLAN])
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/campaigns"
    listed = await browser.client.get("/admin/campaigns")
    assert t(services, "dashboard.campaigns.saved_draft", name="Wintermaand").replace("**", "") in plain(
        listed
    )
    draft = (await campaigns(services))["wintermaand"]
    assert (draft.status, draft.owner_member_id) == ("draft", chloe.id)
    assert await enabled_sends(services, draft.id) == 0

    # An admin edits it: the owner stays Chloé, a step is added and one removed.
    await browser.sign_in(people["Lars"])
    edit = await browser.client.get(f"/admin/campaigns/{draft.id}/edit")
    changed = {
        "s0-remove": "yes",
        "s2-kind": "story",
        "s2-cadence": "monthly",
        "s2-monthly": "-1",
        "s2-time": "12:00",
    }
    shown_form = form_of(edit.text, f"/admin/campaigns/{draft.id}")
    assert ("owner", f"#{chloe.id}") in shown_form
    edited = [(name, value) for name, value in shown_form if name not in changed] + list(changed.items())
    again = await browser.client.post(f"/admin/campaigns/{draft.id}", data=fields([*edited, ("do", "start")]))
    assert again.status_code == 303, again.text
    running = (await campaigns(services))["wintermaand"]
    spec = spec_of(running)
    assert (running.status, running.owner_member_id) == ("active", chloe.id)
    assert [(step.kind, step.key) for step in spec.steps] == [("pulse", "pulse-2"), ("story", "story-2")]
    assert spec.steps[1].cadence.monthly == -1
    assert await enabled_sends(services, running.id) == 1 + 2  # the pulse; the story in two time zones

    await browser.sign_in(chloe)
    token = csrf(await browser.client.get("/admin/campaigns"))
    for change, status, notice in (
        ("pause", "paused", "is gepauzeerd"),
        ("pause", "paused", "loopt niet"),
        ("resume", "active", "loopt weer"),
        ("archive", "archived", "is gearchiveerd"),
    ):
        answer = await browser.client.post(
            f"/admin/campaigns/{running.id}/state", data={"csrf_token": token, "change": change}
        )
        assert answer.status_code == 303
        assert notice in plain(await browser.client.get("/admin/campaigns")), change
        assert (await campaigns(services))["wintermaand"].status == status
    assert await enabled_sends(services, running.id) == 0
    refused = await browser.client.post(
        f"/admin/campaigns/{running.id}",
        data=fields([*edited, ("do", "save")]) | {"csrf_token": [token]},
    )
    assert refused.status_code == 422 and "is gearchiveerd" in refused.text
    back = re.search(r'name="back" value="([^"]+)"', refused.text)
    assert (
        back and (await browser.client.get(back.group(1))).status_code == 303
    )  # the language switch's way back


async def test_a_campaign_from_a_file_is_edited_without_losing_anything(
    services: Services, browser: Browser, people: dict[str, Member]
) -> None:
    await browser.sign_in(people["Lars"])
    for key, found in (await campaigns(services)).items():
        edit = await browser.client.get(f"/admin/campaigns/{found.id}/edit")
        assert edit.status_code == 200 and "<time datetime=" in edit.text, key  # the preview is shown
        assert "Cijfers: verstuurd" in edit.text and "Verstuurd: " in plain(edit), key  # and its figures
        shown = form_of(edit.text, f"/admin/campaigns/{found.id}")
        saved = await browser.client.post(
            f"/admin/campaigns/{found.id}", data=fields([*shown, ("do", "save")])
        )
        assert saved.status_code == 303, saved.text
        after = (await campaigns(services))[key]
        assert after.spec == found.spec, key  # every step, text, question and option came back as it was
        assert (after.version, after.owner_member_id) == (found.version, found.owner_member_id), key
    async with services.database.transaction() as session:
        read = [
            entry for entry in await Repos(session).audit.latest(50) if entry.action == "campaign.stats.read"
        ]
    assert {entry.actor_member_id for entry in read} == {people["Lars"].id} and len(read) == 2


async def test_only_cx_managers_and_admins_and_only_with_the_csrf_token(
    services: Services, browser: Browser, people: dict[str, Member]
) -> None:
    week = next(found for key, found in (await campaigns(services)).items() if key.startswith("klantweek"))
    await browser.sign_in(people["Bram"])  # a leader
    for path in ("/admin/campaigns", "/admin/campaigns/new", f"/admin/campaigns/{week.id}/edit"):
        assert (await browser.client.get(path)).status_code == 403, path
    token = csrf(await browser.client.get("/admin"))
    for path, data in (
        (f"/admin/campaigns/{week.id}/state", {"change": "pause"}),
        (f"/admin/campaigns/{week.id}", {"name": "Overgenomen", "do": "save"}),
        ("/admin/campaigns", {"name": "Nieuw", "do": "start"}),
    ):
        refused = await browser.client.post(path, data={**data, "csrf_token": token})
        assert refused.status_code == 403 and "Niet voor jou" in refused.text, path
    await browser.sign_in(people["Chloé"])
    forged = await browser.client.post(
        f"/admin/campaigns/{week.id}/state", data={"change": "pause", "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    assert (await campaigns(services))[week.key].status == "active"
