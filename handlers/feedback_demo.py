"""The demo's feedback: an inbox with items in every status, a theme with its update, an anonymous thread."""

from __future__ import annotations

from datetime import timedelta

from bot.context import JobContext
from handlers.feedback_common import day_of, seal
from handlers.feedback_relay import deliver_to_giver
from handlers.feedback_settings import ensure_schedules
from storage.models import Member
from storage.models.feedback import FeedbackItem, FeedbackMode, FeedbackStatus

# giver, mode, category, status, days old, text
ITEMS: tuple[tuple[str, FeedbackMode, str, FeedbackStatus, int, str], ...] = (
    (
        "Fatima El Amrani",
        FeedbackMode.named,
        "customer",
        FeedbackStatus.acknowledged,
        3,
        "Klanten horen na een offerte soms twee weken niets van ons. Kunnen we na drie dagen standaard even bellen?",
    ),
    (
        "Hanna Bos",
        FeedbackMode.anonymous,
        "silo",
        FeedbackStatus.planned,
        6,
        "Logistiek hoort pas van een spoedorder als de klant al belt. Sales en planning praten te weinig met elkaar.",
    ),
    (
        "Daan Visser",
        FeedbackMode.named,
        "customer",
        FeedbackStatus.done,
        20,
        "De retourpagina is voor klanten onvindbaar: hij staat alleen in de footer.",
    ),
    (
        "Mila Dekker",
        FeedbackMode.anonymous_no_replies,
        "leadership",
        FeedbackStatus.new,
        2,
        "Als we klantfeedback in het MT inbrengen, wordt die vaak weggewuifd als 'incident'.",
    ),
    (
        "Ivo de Boer",
        FeedbackMode.named,
        "process",
        FeedbackStatus.new,
        9,
        "Chauffeurs kunnen een klacht die ze bij de aflevering horen nergens kwijt.",
    ),
    (
        "Gijs Mulder",
        FeedbackMode.named,
        "process",
        FeedbackStatus.wont_do,
        15,
        "Kunnen we de kortingsregels in het CRM laten vervallen? Ze kosten klanten tijd bij elke bestelling.",
    ),
)


async def seed_demo(ctx: JobContext) -> None:
    people = {member.name: member for member in await ctx.repo.members.active()}
    chloe = people.get("Chloé Bakker")
    if chloe is None:
        return
    sealer = seal(ctx)
    items: dict[str, FeedbackItem] = {}
    for name, mode, category, status, days, text in ITEMS:
        giver = people[name]
        at = ctx.now() - timedelta(days=days)
        anonymous = mode is not FeedbackMode.named
        item = await ctx.repo.feedback.add_item(
            text_sealed=sealer.seal(text),
            category=category,
            mode=mode.value,
            source="demo",
            created_at=day_of(ctx, at) if anonymous else at,
            giver_member_id=None if anonymous else giver.id,
            relay_blob=sealer.seal_giver(giver.id) if mode is FeedbackMode.anonymous else None,
        )
        item.status = status.value
        if status is not FeedbackStatus.new:
            item.waiting_since = None
            item.answered_at = item.status_changed_at = day_of(ctx, at + timedelta(days=1))
        if status.closed:
            item.closed_at = item.status_changed_at
        items[name] = item
    gijs_item = items["Gijs Mulder"]
    gijs_item.reason_sealed = sealer.seal(
        "De kortingsregels zijn afspraken met grote klanten; we maken ze wel zichtbaar bij het bestellen."
    )
    items["Fatima El Amrani"].owner_member_id = people["Gijs Mulder"].id
    await _thread(
        ctx,
        items["Fatima El Amrani"],
        chloe,
        "Goed punt! Gijs kijkt met Sales of een belmoment na drie dagen past.",
    )
    hanna_item = items["Hanna Bos"]
    await _thread(
        ctx,
        hanna_item,
        chloe,
        "Dank je. Weet je om welke klanten het vooral gaat? Dan nemen we die als voorbeeld.",
    )
    await ctx.repo.feedback.add_message(
        hanna_item,
        author="giver",
        at=hanna_item.created_at,
        text_sealed=sealer.seal("Vooral de groothandels die op vrijdag bestellen."),
    )
    reply = "We zetten een kort dagelijks overleg tussen Sales en Planning op voor spoedorders."
    await _thread(ctx, hanna_item, chloe, reply)
    await deliver_to_giver(
        ctx,
        hanna_item,
        people["Hanna Bos"],
        "feedback.giver.reply",
        {"replier": chloe.name, "text": reply},
        not_before=None,
    )
    await _themes(ctx, chloe, people, items)
    await ensure_schedules(ctx)


async def _thread(ctx: JobContext, item: FeedbackItem, author: Member, text: str) -> None:
    at = item.created_at if item.kind is not FeedbackMode.named else item.created_at + timedelta(hours=20)
    await ctx.repo.feedback.add_message(
        item, author="staff", text_sealed=seal(ctx).seal(text), at=at, member_id=author.id
    )


async def _themes(
    ctx: JobContext, chloe: Member, people: dict[str, Member], items: dict[str, FeedbackItem]
) -> None:
    silo = await ctx.repo.feedback.add_theme("Spoedorders tussen Sales en Logistiek", chloe.id, ctx.now())
    silo.status = FeedbackStatus.planned.value
    items["Hanna Bos"].theme_id = silo.id
    items["Fatima El Amrani"].theme_id = silo.id
    returns = await ctx.repo.feedback.add_theme("Retourpagina vindbaar maken", chloe.id, ctx.now())
    returns.status = FeedbackStatus.done.value
    items["Daan Visser"].theme_id = returns.id
    text = "De retourpagina staat nu in het hoofdmenu en in elke orderbevestiging. Retourvragen aan de telefoon daalden al met een kwart."
    update = await ctx.repo.feedback.add_update(
        returns,
        status="done",
        text=text,
        author_member_id=chloe.id,
        channel_id=None,
        now=ctx.now() - timedelta(days=5),
    )
    update.contributors = 1
    await deliver_to_giver(
        ctx,
        items["Daan Visser"],
        people["Daan Visser"],
        "feedback.giver.update",
        {"title": returns.title, "text": text, "author": chloe.name, "status": "done"},
        not_before=None,
    )
