"""Erasing a member: their personal data goes, every aggregate stays exactly as it was.

The member row is kept, anonymised (``privacy.erased_name`` in the organisation's language, "Gewist lid #<id>";
inactive, no identities, roles or department), so foreign keys and counts hold: pulse counters are never
touched, silo conflicts keep their pair and status with the anonymised owner/reporter, story engagement keeps
counting, snippets, contacts and relay legs keep their rows with their texts emptied, ritual runs lose the
customer moment the member typed, campaign sends and finished journey steps keep counting. What the member
wrote in chat and what was sent to them personally is deleted, and so is their planned new-joiner journey.
The relay mappings of their anonymous feedback are destroyed, so those threads remain but can no longer reach
them.
"""

from __future__ import annotations

from bot.context import JobContext
from bot.i18n import LOCALES
from handlers.campaigns import journeys
from handlers.feedback_common import seal
from handlers.feedback_relay import destroy_mappings_of
from storage.models import Member

ERASED_NAME = "privacy.erased_name"
"""The prompt key of an erased member's new name (stored, so in the organisation's default language)."""


def erased_name(ctx: JobContext, member_id: int) -> str:
    return ctx.t(ctx.settings.default_locale, ERASED_NAME, id=member_id)


def was_erased(ctx: JobContext, member: Member) -> bool:
    """True for a member erased before (in whichever language the organisation had then)."""
    names = {ctx.t(locale, ERASED_NAME, id=member.id) for locale in LOCALES}
    return not member.active and member.name in names


async def _forget_journeys(ctx: JobContext, member_id: int) -> int:
    """Drop the member's planned new-joiner journey and point each campaign's journey at its next joiner."""
    removed = await ctx.repo.campaigns.forget_member(member_id)
    for campaign_id in removed:
        campaign = await ctx.repo.campaigns.get(campaign_id)
        if campaign is not None and campaign.status == "active":
            await journeys.arm(ctx, campaign)
    return sum(removed.values())


async def erase_member(
    ctx: JobContext, member: Member, actor: Member | None = None, **detail: str
) -> dict[str, int]:
    """Remove or anonymise everything personal about ``member`` in the caller's transaction.

    Returns what was done per kind (counts only). The audit entry names the member by id and holds those
    counts (and ``detail``, such as who ran the command), never the erased data itself.
    """
    name, repo = member.name, ctx.repo
    sealer = seal(ctx)
    placeholder = ctx.t(ctx.settings.default_locale, "privacy.erased_text")
    cancelled, deleted = await repo.deliveries.forget_member(member.id)
    teams = next((identity for identity in member.identities if identity.platform == "teams"), None)
    if teams is not None:
        await repo.teams.forget_member(teams.external_id, teams.dm_ref)
    done = {
        "relay_mappings_destroyed": await destroy_mappings_of(ctx, member.id),
        "named_feedback_erased": await repo.feedback.erase_named_texts(
            member.id, lambda: sealer.seal(placeholder)
        ),
        "stories_uncredited": await repo.stories.uncredit(
            member.id, name, {locale: ctx.t(locale, "privacy.colleague") for locale in LOCALES}
        ),
        "leadership_texts_emptied": await repo.leadership.erase_texts_of(member.id),
        "ritual_rows_removed": await repo.ritual.forget_member(member.id),
        "journey_steps_removed": await _forget_journeys(ctx, member.id),
        "web_messages_deleted": await repo.web.forget_member(member.id, f"dm:{member.id}"),
        "telegram_rows_deleted": await repo.telegram.forget_member(member.id),
        "deliveries_cancelled": cancelled,
        "deliveries_deleted": deleted,
        "identities_deleted": len(member.identities),
    }
    await repo.dashboard.forget_member(member.id)
    await repo.members.anonymise(member, erased_name(ctx, member.id))
    await ctx.audit(actor, "privacy.erase", f"member:{member.id}", **done, **detail)
    return done
