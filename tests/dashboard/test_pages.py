"""The feature pages over HTTP on the demo organisation: role checks, CSRF, audited reads, actions."""

from __future__ import annotations

import re

import httpx
import pytest

from bot import demo
from bot.app import Services
from handlers.pulses import round_results
from storage.models import Member
from storage.models.feedback import FeedbackItem, FeedbackMode
from storage.models.ritual import SiloStatus
from storage.repositories import Repos
from tests.dashboard.conftest import Browser

MANAGER_PAGES = [
    "/admin",
    "/admin/campaigns",
    "/admin/campaigns/new",
    "/admin/campaigns/1/edit",
    "/admin/stories",
    "/admin/stories/1",
    "/admin/meetings",
    "/admin/pulses",
    "/admin/pulses/1",
    "/admin/feedback",
    "/admin/feedback/1",
    "/admin/feedback/themes/1",
    "/admin/leaders",
]
ADMIN_PAGES = ["/admin/members", "/admin/audit"]
FORMS = [
    ("/admin/stories/1/status", {"status": "archived"}),
    ("/admin/meetings/conflicts/1/status", {"status": "resolved"}),
    ("/admin/feedback/1/reply", {"text": "Dank je, we pakken het op."}),
    ("/admin/feedback/1/status", {"status": "planned"}),
    ("/admin/feedback/1/owner", {"owner": "1"}),
    ("/admin/feedback/1/theme", {"theme": "1"}),
    ("/admin/feedback/themes", {"title": "Nieuw thema"}),
    ("/admin/feedback/themes/1/update", {"status": "done", "text": "We bellen nu na drie dagen."}),
    ("/admin/campaigns/preview", {"name": "Klantweek"}),
    ("/admin/campaigns", {"name": "Klantweek"}),
    ("/admin/campaigns/1", {"name": "Klantweek", "do": "save"}),
    ("/admin/campaigns/1/state", {"change": "pause"}),
]


@pytest.fixture
async def people(services: Services) -> dict[str, Member]:
    """The demo organisation (13 people, every feature's demo data) by first name."""
    assert await demo.seed(services)
    async with services.database.transaction() as session:
        return {member.name.split()[0]: member for member in await Repos(session).members.active()}


async def audit_actions(services: Services) -> list[tuple[str, str | None, int | None]]:
    async with services.database.transaction() as session:
        return [(e.action, e.subject, e.actor_member_id) for e in await Repos(session).audit.latest(500)]


def csrf(response: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert found, "the page has a form"
    return found.group(1)


async def test_every_page_checks_the_role(browser: Browser, people: dict[str, Member]) -> None:
    for name, manager_pages, admin_pages in (
        ("Anna", 403, 403),  # employee
        ("Bram", 403, 403),  # leader
        ("Chloé", 200, 403),  # CX manager
        ("Lars", 200, 200),  # admin
    ):
        await browser.sign_in(people[name])
        for path in MANAGER_PAGES:
            response = await browser.client.get(path)
            assert response.status_code == manager_pages, (name, path)
            if manager_pages == 403:
                assert "Niet voor jou, sorry" in response.text
        for path in ADMIN_PAGES:
            assert (await browser.client.get(path)).status_code == admin_pages, (name, path)


async def test_every_form_needs_the_csrf_token_and_the_role(
    services: Services, browser: Browser, people: dict[str, Member]
) -> None:
    before = await audit_actions(services)
    await browser.sign_in(people["Chloé"])
    for path, data in FORMS:
        assert (await browser.client.post(path, data=data)).status_code == 403, path
        forged = await browser.client.post(path, data={**data, "csrf_token": "forged"})
        assert forged.status_code == 403, path
    await browser.sign_in(people["Anna"])
    token = csrf(await browser.client.get("/admin"))  # the refusal page still carries her own token
    for path, data in FORMS:
        refused = await browser.client.post(path, data={**data, "csrf_token": token})
        assert refused.status_code == 403 and "Niet voor jou" in refused.text, path
    assert await audit_actions(services) == before, "nothing changed, nothing read"


async def test_the_overview_counts_this_week(browser: Browser, people: dict[str, Member]) -> None:
    await browser.sign_in(people["Chloé"])
    page = (await browser.client.get("/admin")).text
    assert "Verhalen geplaatst" in page and "Rituelen gehouden" in page
    assert "Vervolgmeting 2: 0 van 13 hebben tot nu toe geantwoord" in page
    open_feedback = re.search(r"Open feedback</a></h2>\s*<p class=\"figure\">(\d+)</p>", page)
    assert open_feedback and open_feedback.group(1) == "4"


async def test_reading_pulse_results_is_audited_and_shows_only_allowed_departments(
    services: Services, browser: Browser, people: dict[str, Member]
) -> None:
    chloe = people["Chloé"]
    await browser.sign_in(chloe)
    page = await browser.client.get("/admin/pulses")
    assert page.status_code == 200
    async with services.database.transaction() as session:
        ctx = services.job_context(session)
        latest = await ctx.repo.pulses.latest_closed()
        open_round = (await ctx.repo.pulses.rounds(statuses=["open"]))[0]
        assert latest is not None
        results = await round_results(ctx, latest, "nl")
        departments = [department.name for department in await ctx.repo.members.departments()]
    assert ("pulse.results.read", f"pulse_round:{latest.id}", chloe.id) in await audit_actions(services)
    table = page.text.split("Per afdeling", 1)[1].split("</table>", 1)[0]
    shown = set(re.findall(r'<th scope="row">([^<]+)</th>', table))
    assert shown == {group.name for group in results.groups} and results.hidden_groups > 0
    assert set(departments) - shown, "some departments are hidden, and they are not on the page"
    assert results.enps is not None and f"eNPS {results.enps:+d}".replace("+0", "0") in page.text
    for point_value in ("-10", "0"):
        assert f'<td class="num">{point_value}</td>' in page.text, "the trend's data table"
    before = len(await audit_actions(services))
    still_open = await browser.client.get(f"/admin/pulses/{open_round.id}")
    assert "De uitslag verschijnt als hij gesloten is" in still_open.text
    assert len(await audit_actions(services)) == before, "nothing was read, nothing audited"


async def _item(services: Services, mode: FeedbackMode) -> FeedbackItem:
    async with services.database.transaction() as session:
        items = await Repos(session).feedback.inbox(limit=100)
        return next(item for item in items if item.kind is mode)


async def test_reading_a_feedback_item_is_audited_and_keeps_the_giver_anonymous(
    services: Services, browser: Browser, people: dict[str, Member]
) -> None:
    chloe = people["Chloé"]
    await browser.sign_in(chloe)
    inbox = await browser.client.get("/admin/feedback")
    assert "Logistiek hoort pas van een spoedorder" not in inbox.text, "the list shows no texts"
    assert not any(action == "feedback.read" for action, _, _ in await audit_actions(services))
    item = await _item(services, FeedbackMode.anonymous)
    page = await browser.client.get(f"/admin/feedback/{item.id}")
    assert "Logistiek hoort pas van een spoedorder" in page.text
    assert item.relay_blob and item.relay_blob not in page.text
    assert "Hanna Bos</strong>" not in page.text and "Anoniem" in page.text
    assert ("feedback.read", f"feedback:{item.id}", chloe.id) in await audit_actions(services)


async def test_an_answer_to_an_anonymous_giver_goes_through_the_relay(
    services: Services, browser: Browser, people: dict[str, Member]
) -> None:
    await browser.sign_in(people["Chloé"])
    item = await _item(services, FeedbackMode.anonymous)
    token = csrf(await browser.client.get(f"/admin/feedback/{item.id}"))
    async with services.database.transaction() as session:
        messages = len(await Repos(session).feedback.thread(item.id))
    empty = await browser.client.post(
        f"/admin/feedback/{item.id}/reply", data={"text": "  ", "csrf_token": token}
    )
    assert empty.status_code == 303
    shown = await browser.client.get(empty.headers["location"])
    assert 'class="notice error"' in shown.text
    async with services.database.transaction() as session:
        assert len(await Repos(session).feedback.thread(item.id)) == messages, "nothing stored"
        queued = len(await Repos(session).feedback.relay_queue())
    sent = await browser.client.post(
        f"/admin/feedback/{item.id}/reply",
        data={"text": "We plannen nu samen met Sales.", "csrf_token": token},
    )
    shown = await browser.client.get(sent.headers["location"])
    assert 'class="notice ok"' in shown.text and "We plannen nu samen met Sales." in shown.text
    async with services.database.transaction() as session:
        repos = Repos(session)
        assert len(await repos.feedback.thread(item.id)) == messages + 1
        assert len(await repos.feedback.relay_queue()) == queued + 1, "out through the relay queue"
    assert ("feedback.reply", f"feedback:{item.id}", people["Chloé"].id) in await audit_actions(services)


async def test_wont_do_needs_a_reason_and_no_replies_items_cannot_be_answered(
    services: Services, browser: Browser, people: dict[str, Member]
) -> None:
    await browser.sign_in(people["Chloé"])
    silent = await _item(services, FeedbackMode.anonymous_no_replies)
    page = await browser.client.get(f"/admin/feedback/{silent.id}")
    assert f'action="/admin/feedback/{silent.id}/reply"' not in page.text
    token = csrf(page)
    refused = await browser.client.post(
        f"/admin/feedback/{silent.id}/reply", data={"text": "Hallo", "csrf_token": token}
    )
    assert 'class="notice error"' in (await browser.client.get(refused.headers["location"])).text
    no_reason = await browser.client.post(
        f"/admin/feedback/{silent.id}/status", data={"status": "wont_do", "reason": "", "csrf_token": token}
    )
    assert 'class="notice error"' in (await browser.client.get(no_reason.headers["location"])).text
    async with services.database.transaction() as session:
        item = await Repos(session).feedback.item(silent.id)
        assert item is not None and item.status == "new"
        assert await Repos(session).feedback.thread(silent.id) == []


async def test_you_said_we_did_from_the_dashboard(
    services: Services, browser: Browser, people: dict[str, Member]
) -> None:
    await browser.sign_in(people["Chloé"])
    token = csrf(await browser.client.get("/admin/feedback"))
    created = await browser.client.post(
        "/admin/feedback/themes", data={"title": "Bellen na offertes", "csrf_token": token}
    )
    theme_path = created.headers["location"]
    theme_id = int(theme_path.rsplit("/", 1)[1])
    item = next(
        i for i in await _items(services) if i.kind is FeedbackMode.named and i.status == "acknowledged"
    )
    await browser.client.post(
        f"/admin/feedback/{item.id}/theme", data={"theme": str(theme_id), "csrf_token": token}
    )
    published = await browser.client.post(
        f"{theme_path}/update",
        data={"status": "done", "text": "We bellen nu na drie dagen.", "csrf_token": token},
    )
    assert 'class="notice ok"' in (await browser.client.get(published.headers["location"])).text
    async with services.database.transaction() as session:
        repos = Repos(session)
        theme = await repos.feedback.theme(theme_id)
        assert theme is not None and theme.status == "done"
        refreshed = await repos.feedback.item(item.id)
        assert refreshed is not None and refreshed.status == "done"
    assert "We bellen nu na drie dagen." in (await browser.client.get("/admin/feedback")).text


async def _items(services: Services) -> list[FeedbackItem]:
    async with services.database.transaction() as session:
        return list(await Repos(session).feedback.inbox(limit=100))


async def test_the_silo_map_and_resolving_a_conflict(
    services: Services, browser: Browser, people: dict[str, Member]
) -> None:
    chloe = people["Chloé"]
    await browser.sign_in(chloe)
    page = await browser.client.get("/admin/meetings")
    assert 'title="Klantenservice ↔ Logistiek: 3">3</td>' in page.text
    assert 'title="Logistiek ↔ Klantenservice: 3">3</td>' in page.text, "the map is symmetric"
    assert "komt steeds terug" in page.text
    async with services.database.transaction() as session:
        conflict = (await Repos(session).ritual.conflicts(statuses=["open"]))[0]
    done = await browser.client.post(
        f"/admin/meetings/conflicts/{conflict.id}/status",
        data={"status": "resolved", "csrf_token": csrf(page)},
    )
    assert done.status_code == 303
    async with services.database.transaction() as session:
        resolved = await Repos(session).ritual.conflict(conflict.id)
        assert resolved is not None and resolved.status == SiloStatus.resolved.value and resolved.resolved_at
    assert ("silo.status", f"silo:{conflict.id}", chloe.id) in await audit_actions(services)


async def test_the_story_library_and_approving(
    services: Services, browser: Browser, people: dict[str, Member]
) -> None:
    await browser.sign_in(people["Chloé"])
    library = await browser.client.get("/admin/stories?status=approved&locale=en")
    assert (
        library.status_code == 200
        and "Story library" not in library.text
        and "Verhalenbibliotheek" in library.text
    )
    async with services.database.transaction() as session:
        story = (await Repos(session).stories.listing(status="approved", locale="nl"))[0]
    page = await browser.client.get(f"/admin/stories/{story.id}")
    assert story.title in page.text and 'class="preview"' in page.text
    archived = await browser.client.post(
        f"/admin/stories/{story.id}/status", data={"status": "archived", "csrf_token": csrf(page)}
    )
    assert "gearchiveerd" in (await browser.client.get(archived.headers["location"])).text
    bad = await browser.client.post(
        f"/admin/stories/{story.id}/status", data={"status": "gone", "csrf_token": csrf(page)}
    )
    assert bad.status_code == 422
    async with services.database.transaction() as session:
        refreshed = await Repos(session).stories.get(story.id)
        assert refreshed is not None and refreshed.status == "archived"


async def test_the_relay_chain_and_snippets(browser: Browser, people: dict[str, Member]) -> None:
    await browser.sign_in(people["Emma"])  # a leader, not a CX manager
    assert (await browser.client.get("/admin/leaders")).status_code == 403
    await browser.sign_in(people["Chloé"])
    page = (await browser.client.get("/admin/leaders")).text
    assert page.index("Lars Hendriks") < page.index("Karin Peters") and "heeft het stokje" in page
    assert "geplaatst" in page
