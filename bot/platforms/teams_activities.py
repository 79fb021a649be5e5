"""Reading a Teams activity: who sent it, where, its text as typed, and an id to handle it once by.

Pure functions over the SDK's `Activity` (and the raw body for the tenant), used by `bot.platforms.teams_inbound`.
"""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from microsoft_agents.activity import Activity

from bot.events import Actor, Where

_AT = re.compile(r"<at>([^<]{0,200})</at>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,500}>")


def clean_text(text: str) -> str:
    """Teams message text as a member typed it: other mentions as @name, no markup, entities decoded."""
    text = _AT.sub(lambda match: f"@{match.group(1)}", text)
    return html.unescape(_TAG.sub("", text)).replace("\xa0", " ").strip()


def event_id(activity: Activity) -> str:
    """Teams message ids are only unique per conversation: qualify them with a digest of it. An activity
    without an id (Playground, emulators) is known by a digest of its whole body, so two different ones
    are never taken for the same."""
    conversation = (activity.conversation.id if activity.conversation else "").split(";", 1)[0]
    digest = hashlib.sha256(conversation.encode()).hexdigest()[:16]
    own = activity.id or "body-" + hashlib.sha256(activity.model_dump_json().encode()).hexdigest()[:32]
    return f"{activity.type}:{own}@{digest}"[:200]


def actor(activity: Activity) -> Actor:
    person = activity.from_property
    timezone: str | None = activity.local_timezone
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            timezone = None
    return Actor(
        platform="teams",
        external_id=str(person.aad_object_id or person.id),
        name=person.name or None,
        locale=activity.locale,
        timezone=timezone,
    )


def where_of(activity: Activity) -> Where:
    conversation = activity.conversation
    kind = conversation.conversation_type or ("groupChat" if conversation.is_group else "personal")
    if kind == "personal":
        return Where(external_id=conversation.id, kind="dm", ref=conversation.id)
    if kind == "channel":
        name = mapping(mapping(activity.channel_data).get("channel")).get("name") or conversation.name
        return Where(
            external_id=conversation.id.split(";", 1)[0], kind="channel", name=name, ref=conversation.id
        )
    return Where(external_id=conversation.id, kind="group", name=conversation.name, ref=conversation.id)


def thread_root(activity: Activity) -> str | None:
    _, found, root = activity.conversation.id.partition(";messageid=")
    return root if found and root else None


def tenant_of(body: dict[str, Any]) -> str | None:
    tenant = mapping(mapping(body.get("channelData")).get("tenant"))
    found = mapping(body.get("conversation")).get("tenantId") or tenant.get("id")
    return str(found) if found else None


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def normal_url(url: str) -> str:
    return url.strip().rstrip("/").lower()
