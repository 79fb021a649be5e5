"""Everything stored about one member, gathered from each feature's repository, as JSON-ready data.

Each feature keeps its own query (``<Feature>Repository.export_for_member``); this module only puts the
sections together, opens sealed feedback texts, and says in the member's language what is *not* included
and why (anonymous pulse answers and anonymous feedback cannot be linked to anyone).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from bot.context import JobContext
from handlers.feedback_common import seal
from storage.models import Member

FORMAT = "klantpet.member-export"
VERSION = 2
"""2 added ``campaigns``, ``dashboard`` and ``ritual.meetings_created``."""

Progress = Callable[[str], None]
"""Told the name of each section as it is gathered (the command line draws a progress bar)."""


async def _feedback(ctx: JobContext, member: Member) -> dict[str, Any]:
    section = await ctx.repo.feedback.export_for_member(member.id)
    sealer = seal(ctx)

    def opened(row: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in row.items():
            if key.endswith("_sealed"):
                result[key.removesuffix("_sealed")] = sealer.open(value) if value else None
            elif key == "thread":
                result[key] = [opened(message) for message in value]
            else:
                result[key] = value
        return result

    section["named_items"] = [opened(item) for item in section["named_items"]]
    section["staff_answers"] = [opened(answer) for answer in section["staff_answers"]]
    return section


async def _stories(ctx: JobContext, member: Member) -> dict[str, Any]:
    return await ctx.repo.stories.export_for_member(member.id, member.name)


async def _leadership(ctx: JobContext, member: Member) -> dict[str, Any]:
    return await ctx.repo.leadership.export_for_member(member.id)


async def _ritual(ctx: JobContext, member: Member) -> dict[str, Any]:
    return await ctx.repo.ritual.export_for_member(member.id)


async def _pulses(ctx: JobContext, member: Member) -> dict[str, Any]:
    return await ctx.repo.pulses.export_for_member(member.id)


async def _web(ctx: JobContext, member: Member) -> list[dict[str, Any]]:
    return await ctx.repo.web.export_for_member(member.id)


async def _telegram(ctx: JobContext, member: Member) -> dict[str, Any]:
    return await ctx.repo.telegram.export_for_member(member.id)


async def _campaigns(ctx: JobContext, member: Member) -> dict[str, Any]:
    return await ctx.repo.campaigns.export_for_member(member.id)


async def _dashboard(ctx: JobContext, member: Member) -> dict[str, Any]:
    return await ctx.repo.dashboard.export_for_member(member.id)


async def _audit(ctx: JobContext, member: Member) -> list[dict[str, Any]]:
    return await ctx.repo.audit.export_for_member(member.id)


SECTIONS: tuple[tuple[str, Callable[[JobContext, Member], Awaitable[Any]]], ...] = (
    ("feedback", _feedback),
    ("stories", _stories),
    ("leadership", _leadership),
    ("ritual", _ritual),
    ("pulses", _pulses),
    ("campaigns", _campaigns),
    ("web_chat_messages", _web),
    ("telegram", _telegram),
    ("dashboard", _dashboard),
    ("audit_log", _audit),
)


async def export_member(ctx: JobContext, member: Member, progress: Progress | None = None) -> dict[str, Any]:
    """Everything stored about ``member`` (not audited: the caller records who asked)."""
    locale = ctx.locale_of(member)
    exported: dict[str, Any] = {
        "export": {
            "format": FORMAT,
            "version": VERSION,
            "organisation": ctx.settings.organisation,
            "generated_at": ctx.now(),
            "member_id": member.id,
        },
        "member": await ctx.repo.members.export_for_member(member),
    }
    for name, gather in SECTIONS:
        if progress is not None:
            progress(name)
        exported[name] = await gather(ctx, member)
    exported["not_included"] = {
        reason: ctx.t(locale, f"privacy.export.{reason}")
        for reason in ("anonymous_pulses", "anonymous_feedback", "closed_rounds", "chat_platforms")
    }
    return exported


def section_counts(exported: dict[str, Any]) -> dict[str, int]:
    """How many things of each kind an export holds (``privacy.section.<kind>`` names them)."""
    feedback, stories = exported["feedback"], exported["stories"]
    leadership, ritual, campaigns = exported["leadership"], exported["ritual"], exported["campaigns"]
    return {
        "identities": len(exported["member"]["identities"]),
        "channels": len(exported["member"]["channels"]),
        "named_feedback": len(feedback["named_items"]),
        "feedback_owned": len(feedback["items_owned"]),
        "staff_answers": len(feedback["staff_answers"]),
        "stories": len(stories["stories"]),
        "story_engagement": len(stories["engagement"]),
        "snippets": len(leadership["snippets"]),
        "snippet_responses": len(leadership["snippet_replies"]) + len(leadership["snippet_reactions"]),
        "relay_legs": len(leadership["relay_legs"]),
        "customer_contacts": len(leadership["customer_contacts"]),
        "cap_wearer": len(ritual["cap_wearer"]),
        "meetings_created": len(ritual["meetings_created"]),
        "absences": len(ritual["absences"]),
        "silo_conflicts": len(ritual["silo_conflicts"]),
        "pulse_participation": len(exported["pulses"]["participation"]),
        "campaigns": len(campaigns["campaigns"]),
        "campaign_messages": len(campaigns["sent_to_you"]),
        "journey_steps": len(campaigns["journey"]),
        "web_messages": len(exported["web_chat_messages"]),
        "dashboard_login": int(exported["dashboard"]["password_login"] is not None),
        "audit": len(exported["audit_log"]),
    }


def to_json(exported: dict[str, Any]) -> str:
    """The export as indented UTF-8 JSON (times in ISO 8601, UTC)."""
    return json.dumps(exported, ensure_ascii=False, indent=2, default=_plain)


def _plain(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot export {type(value).__name__}")
