"""Leadership: leaders share vlog/blog snippets about their customer contacts, pass the CX relay baton to
a peer, and log their own customer contacts. See docs/leadership.md.

Commands: ``snippet`` (vlog/blog), ``snippets``, ``relay`` (estafette), ``relay pass``, ``relay stop``,
``contact`` (klantcontact), ``contacts``. Schedule kinds: ``snippet.post``, ``relay.remind``,
``relay.escalate``. Service functions for other features: `posting.post_snippet`,
`posting.schedule_snippet`, `relay.pass_baton`; aggregates in `storage.repositories.leadership`.
"""

from __future__ import annotations

from datetime import timedelta

from bot.context import JobContext
from bot.router import Router
from handlers.leadership import contacts, posting, relay, relay_reminders, responses, review, snippets

router = Router()
for _module in (contacts, posting, relay, relay_reminders, responses, review, snippets):
    router.include(_module.router)


async def seed_demo(ctx: JobContext) -> None:
    """The tour: the CEO's posted snippet in #algemeen and a relay CEO → CFO with the baton at the CFO."""
    members = ctx.repo.members
    ceo = await members.by_name("Lars Hendriks")
    cfo = await members.by_name("Karin Peters")
    marketing = await members.by_name("Emma Smit")
    if (
        ceo is None
        or cfo is None
        or not await ctx.repo.leadership.channels_named(ctx.settings.snippet_channels)
    ):
        return
    now = ctx.now()
    locale = ctx.locale_of(ceo)
    repo = ctx.repo.leadership
    visit = await repo.log_contact(
        ceo.id, "visit", ctx.t(locale, "leadership.demo.contact"), now - timedelta(days=2)
    )
    await repo.log_contact(ceo.id, "call", ctx.t(locale, "leadership.demo.call"), now - timedelta(days=1))
    if marketing is not None:
        await repo.log_contact(
            marketing.id, "dialogue", ctx.t(ctx.locale_of(marketing), "leadership.demo.dialogue"), now
        )
    snippet = await repo.create_snippet(
        ceo.id,
        text=ctx.t(locale, "leadership.demo.snippet"),
        video_url="https://videos.example.com/klantpet/lars-bij-de-klant",
        story_id=None,
        contact_id=visit.id,
        now=now,
    )
    await posting.post_snippet(ctx, snippet)
    await relay.pass_baton(ctx, ceo, cfo, ctx.t(locale, "leadership.demo.challenge"))
