"""The klantpet ritual and the silo-conflict register.

The feature is split along the ritual's own steps; each module has its routes:

- `handlers.ritual_meetings` — meetings in chat (``meetings``, ``meetings add|edit|ritual|remove``);
- `handlers.ritual_meeting_input` — a meeting as typed (form or CLI): parsed, validated, saved;
- `handlers.ritual_schedule` — when a meeting happens; the ``ritual.*`` schedule kinds;
- `handlers.ritual_rotation` — the fair rotation and the question choice (pure functions);
- `handlers.ritual_opening` — the opening (``pet``, ``pet start``), passing and taking the cap;
- `handlers.ritual_absence` — ``absent``/``present`` and the "not there" button;
- `handlers.ritual_debrief` — the debrief DM, "no" and the customer moment (``pet end``);
- `handlers.ritual_conflicts` — the conflict form and recording a conflict;
- `handlers.ritual_register` — ``silos``, ``silo``, ``silos map``, ``ritual stats``;
- `handlers.ritual_weekly` — owner reminders, escalation and the weekly digest.

This module adds what ties them to the platforms: real meeting start/end events (Teams) run the opening and
the debrief, de-duplicated against the scheduled ones by the per-occurrence run and idempotency key; and at
every start it makes sure the register's weekly jobs exist once the ritual is in use.
"""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context, JobContext
from bot.events import MeetingEvent
from bot.router import Router
from handlers import ritual_schedule as timing
from handlers.ritual_conflicts import ConflictDraft, record_conflict
from handlers.ritual_debrief import debrief_now
from handlers.ritual_opening import open_now
from handlers.ritual_register import ritual_stats
from storage.models import Meeting
from storage.models.ritual import DebriefAnswer, RitualRun, SiloStatus

router = Router()

__all__ = ["meeting_event", "on_meeting_event", "on_start", "ritual_stats", "seed_demo"]


async def on_start(ctx: JobContext) -> None:
    """Every start: the weekly reminders, escalation and digest exist as soon as there is a meeting or a
    conflict (they are not left waiting for the first conflict)."""
    if await ctx.repo.ritual.meetings() or await ctx.repo.ritual.conflicts(limit=1):
        await timing.ensure_weekly(ctx)


async def on_meeting_event(ctx: JobContext, meeting: Meeting, phase: str) -> None:
    """A platform says the meeting started or ended: open the ritual now, or debrief it now."""
    if not meeting.ritual_enabled:
        return
    if phase == "start":
        await open_now(ctx, meeting)
    else:
        await debrief_now(ctx, meeting)


@router.meeting()
async def meeting_event(ctx: Context, event: MeetingEvent) -> None:
    if ctx.channel is None:
        return
    meeting = await ctx.repo.ritual.meeting_for_channel(ctx.channel.id)
    if meeting is not None:
        await on_meeting_event(ctx, meeting, event.phase)


# --- The demo -------------------------------------------------------------------------------------------
# (weeks ago, pair, goals, customer impact, next step, owner, status, weeks to resolve)
_DEMO_CONFLICTS = (
    (
        6,
        ("Klantenservice", "Logistiek"),
        "Logistiek stuurt op volle vrachtwagens; Klantenservice belooft levering binnen 24 uur.",
        "Klanten wachten een dag langer dan beloofd en bellen dan opnieuw.",
        "Samen één realistische levertijd op de website zetten.",
        "Hanna Bos",
        SiloStatus.discussed,
        None,
    ),
    (
        5,
        ("Marketing", "Klantenservice"),
        "Marketing meet succes in nieuwe aanmeldingen; Klantenservice hoort pas van een actie als de klant belt.",
        "Klanten vragen naar een korting die niemand aan de telefoon kent.",
        "Elke actie een week vooraf in de weekstart bespreken.",
        "Daan Visser",
        SiloStatus.escalated,
        None,
    ),
    (
        4,
        ("Sales", "Finance"),
        "Sales wil dezelfde dag leveren; Finance levert pas na een kredietcheck.",
        "Nieuwe zakelijke klanten wachten drie dagen op hun eerste bestelling.",
        "Kredietcheck vooraf bij de offerte doen.",
        "Karin Peters",
        SiloStatus.resolved,
        2,
    ),
    (
        3,
        ("Klantenservice", "Logistiek"),
        "Logistiek boekt een retour pas na controle; Klantenservice wil direct terugbetalen.",
        "Klanten wachten twee weken op hun geld en twijfelen of het pakket aankwam.",
        "Terugbetalen bij de eerste scan van het retourpakket.",
        "Bram Jansen",
        SiloStatus.open,
        None,
    ),
    (
        1,
        ("Klantenservice", "Logistiek"),
        "Chauffeurs rijden op een strak schema; Klantenservice belooft klanten een tijdvak.",
        "Klanten nemen vrij voor een tijdvak dat niet gehaald wordt.",
        "Het tijdvak laten berekenen door de planning, niet beloven aan de telefoon.",
        "Hanna Bos",
        SiloStatus.open,
        None,
    ),
)


async def seed_demo(ctx: JobContext) -> None:
    """Give the demo's "Weekstart Klantenservice" its ritual schedules, a little history and a register."""
    meeting = next(
        (m for m in await ctx.repo.ritual.meetings() if m.name == "Weekstart Klantenservice"), None
    )
    if meeting is None:
        return
    await timing.sync_schedules(ctx, meeting)
    now = ctx.now()
    participants = await ctx.repo.ritual.participants(meeting)
    _, first = timing.anchor(meeting)
    reporter = participants[0] if participants else None
    for number, (weeks, pair, goals, impact, step, owner_name, status, resolve_weeks) in enumerate(
        _DEMO_CONFLICTS
    ):
        created = now - timedelta(weeks=weeks)
        wearer = participants[number % len(participants)] if participants else None
        run = await ctx.repo.ritual.add_run(
            RitualRun(
                meeting_id=meeting.id,
                occurrence=first - timedelta(weeks=weeks),
                scheduled=True,
                cap_member_id=wearer.id if wearer else None,
                questions=[],
                passed_by=[],
                opened_at=created,
                debrief_sent_at=created,
                debrief_answer=DebriefAnswer.conflict.value,
                debriefed_at=created,
            )
        )
        owner = await ctx.repo.members.by_name(owner_name)
        departments = [await ctx.repo.members.department(name) for name in pair]
        if owner is None:
            continue
        conflict = await record_conflict(
            ctx,
            ConflictDraft(departments[0].id, departments[1].id, goals, impact, step, owner, None),
            run=run,
            reporter=wearer or reporter,
        )
        conflict.created_at = conflict.updated_at = created  # recorded as it was, weeks ago
        conflict.status = status.value
        if status is SiloStatus.escalated:
            conflict.escalated_at = created + timedelta(weeks=4)
        if resolve_weeks is not None:
            conflict.resolved_at = created + timedelta(weeks=resolve_weeks)
