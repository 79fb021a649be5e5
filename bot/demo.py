"""The demo organisation seeded on the embedded default (no accounts anywhere)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Services
from bot.recurrence import weekly
from storage.models import Meeting, MeetingParticipant, Role
from storage.repositories import Repos

DEPARTMENTS = ("Klantenservice", "Marketing", "Sales", "Logistiek", "IT", "Finance")

# name, title, department, roles, locale
PEOPLE: tuple[tuple[str, str, str, tuple[Role, ...], str], ...] = (
    ("Anna de Vries", "Klantenservicemedewerker", "Klantenservice", (), "nl"),
    ("Bram Jansen", "Teamleider Klantenservice", "Klantenservice", (Role.leader,), "nl"),
    ("Chloé Bakker", "CX-manager", "Klantenservice", (Role.cx_manager,), "nl"),
    ("Daan Visser", "Marketeer", "Marketing", (), "nl"),
    ("Emma Smit", "Marketing director", "Marketing", (Role.leader,), "en"),
    ("Fatima El Amrani", "Accountmanager", "Sales", (), "nl"),
    ("Gijs Mulder", "Sales manager", "Sales", (), "nl"),
    ("Hanna Bos", "Planner", "Logistiek", (), "nl"),
    ("Ivo de Boer", "Chauffeur", "Logistiek", (), "nl"),
    ("Jasper Meijer", "Developer", "IT", (), "en"),
    ("Karin Peters", "CFO", "Finance", (Role.leader,), "nl"),
    ("Lars Hendriks", "CEO", "Finance", (Role.leader, Role.admin), "nl"),
    ("Mila Dekker", "Crediteurenadministratie", "Finance", (), "nl"),
)

CHANNELS = (("algemeen", "nl"), ("klantverhalen", "nl"), ("cx-team", "nl"), ("weekstart", "nl"))


async def seed(services: Services) -> bool:
    """Create the demo organisation once, all of it or nothing; False when members exist already."""
    zone = services.settings.default_timezone
    async with services.database.transaction() as session:
        repos = Repos(session)
        if await repos.members.count() > 0:
            return False
        now = services.clock.now()
        members = []
        for department in DEPARTMENTS:
            await repos.members.department(department)
        for name, title, department, roles, locale in PEOPLE:
            member = await repos.members.create(
                name, title=title, department=department, roles=roles, locale=locale, timezone=zone, now=now
            )
            await repos.members.add_identity(member, "web", str(member.id))
            members.append(member)
        channels = {}
        for name, locale in CHANNELS:
            channel = await repos.channels.ensure(
                "web", f"channel:{name}", name, locale=locale, timezone=zone
            )
            channels[name] = channel
            everyone = name in ("algemeen", "klantverhalen")
            for member in members:
                if (
                    everyone
                    or (name == "cx-team" and member.has_role(Role.cx_manager))
                    or (name == "weekstart" and member.department_name == "Klantenservice")
                    or (name == "weekstart" and member.name in ("Daan Visser", "Hanna Bos", "Mila Dekker"))
                ):
                    await repos.channels.add_member(channel, member.id)
        weekstart = channels["weekstart"]
        starts_at = _next_monday_ten(now, zone)
        rule = weekly(["MO"], 10, 0)
        meeting = Meeting(
            name="Weekstart Klantenservice",
            topic="Klantcontacten van vorige week, wachttijden en de planning van deze week",
            channel_id=weekstart.id,
            rrule=rule,
            timezone=zone,
            starts_at=starts_at,
            duration_minutes=45,
            ritual_enabled=True,
            created_at=now,
        )
        meeting.participants = [
            MeetingParticipant(member_id=member_id)
            for member_id in await repos.channels.member_ids(weekstart.id)
        ]
        session.add(meeting)
        await session.flush()
        # In the same transaction: a feature whose seed fails leaves no half demo behind (the next start
        # seeds it all again), instead of members without the rest of the tour.
        await _seed_features(services, session)
    return True


async def _seed_features(services: Services, session: AsyncSession) -> None:
    """Each feature module may offer ``async def seed_demo(ctx: JobContext)`` for the five-minute tour."""
    import importlib
    import pkgutil

    import handlers

    for module_info in sorted(pkgutil.iter_modules(handlers.__path__), key=lambda info: info.name):
        module = importlib.import_module(f"handlers.{module_info.name}")
        seed_feature = getattr(module, "seed_demo", None)
        if seed_feature is not None:
            await seed_feature(services.job_context(session))


def _next_monday_ten(now: datetime, zone: str) -> datetime:
    local = now.astimezone(ZoneInfo(zone))
    days = (7 - local.weekday()) % 7 or 7
    monday = (local + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)
    return monday.astimezone(ZoneInfo("UTC"))
