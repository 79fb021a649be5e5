"""Teams activities → normalized events for the router (the inbound half of `bot.platforms.teams`).

- personal chat: every message is a command or free text (the shared grammar, as in any DM);
- group and meeting chats: messages that @mention the bot (the mention is stripped);
- channels: an @mention starts a command; a reply in the thread of one of our posts is a `Reply`;
- everything else Teams delivers (with the RSC permissions it sends every message of a chat or channel)
  is left alone: no event, nothing stored;
- ``Action.Execute`` (invoke) and ``Action.Submit`` from our cards: `ButtonClick` / `FormSubmit`; the invoke is
  answered with the card as it now is (edited by the handler, or unchanged);
- meeting start/end (``application/vnd.microsoft.meetingStart|End``, PascalCase values) → `MeetingEvent`;
- installation / bot added: the conversation reference is stored; a personal install is a `MemberJoined`;
- reactions on our messages → `Reaction`.
"""

from __future__ import annotations

import contextvars
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from microsoft_agents.activity import Activity, AdaptiveCardInvokeResponse
from microsoft_agents.hosting.core import TurnContext, TurnState
from microsoft_agents.hosting.core.app.proactive import Conversation
from pydantic import ValidationError

from bot.events import (
    ButtonClick,
    Command,
    FormSubmit,
    Inbound,
    MeetingEvent,
    MemberJoined,
    Reaction,
    Reply,
    Where,
)
from bot.messages import Message
from bot.platforms.teams_activities import (
    actor,
    clean_text,
    event_id,
    mapping,
    normal_url,
    tenant_of,
    thread_root,
    where_of,
)
from bot.platforms.teams_render import CARD_CONTENT_TYPE, VERB, CardAction, read_action, render
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.platforms.teams import TeamsPlatform

log = logging.getLogger(__name__)

MEETING_PHASES = {
    "application/vnd.microsoft.meetingStart": "start",
    "application/vnd.microsoft.meetingEnd": "end",
}
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_turn_failed: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar(
    "teams_turn_failed", default=None
)


class TeamsInbound:
    def __init__(self, platform: TeamsPlatform) -> None:
        self.platform = platform
        self.services = platform.services
        agent = platform.agent
        agent.activity("message")(self.on_message)
        agent.activity("event")(self.on_event)
        agent.activity("installationUpdate")(self.on_installation)
        agent.activity("conversationUpdate")(self.on_conversation_update)
        agent.activity("messageReaction")(self.on_reaction)
        agent.adaptive_card.action_execute(VERB)(self.on_action_execute)
        agent.error(self.on_error)

    # --- The HTTP request ---------------------------------------------------------------------------
    async def receive(self, request: Request) -> Response:
        """Check what the SDK's JWT check does not (service URL, tenant), then let the SDK run the turn."""
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "invalid JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "an activity is a JSON object"}, status_code=400)
        try:
            Activity.model_validate(body)
        except ValidationError:  # checked here: inside the SDK it would surface as a failed token (401)
            return JSONResponse({"error": "not a valid activity"}, status_code=400)
        refusal = self._refusal(request, body)
        if refusal is not None:
            log.warning("Teams request refused", extra={"reason": refusal})
            return JSONResponse({"error": refusal}, status_code=401 if "token" in refusal else 403)
        failures: list[BaseException] = []
        token = _turn_failed.set(failures)
        try:
            response = await self.platform.adapter.process(request, self.platform.agent)
        finally:
            _turn_failed.reset(token)
        if failures:  # nothing was committed: a 500 makes Teams deliver the activity again
            return JSONResponse({"error": "the activity could not be handled"}, status_code=500)
        return response or Response(status_code=202)

    def _refusal(self, request: Request, body: dict[str, Any]) -> str | None:
        identity = getattr(request.state, "claims_identity", None)
        claims: dict[str, Any] = dict(getattr(identity, "claims", None) or {})
        if not claims:  # anonymous: only reachable when the setting allows it, and only from this machine
            host = urlparse(str(body.get("serviceUrl", ""))).hostname or ""
            return None if host in LOOPBACK else "anonymous requests must come from this machine"
        claimed = claims.get("serviceurl")
        if not isinstance(claimed, str) or normal_url(claimed) != normal_url(str(body.get("serviceUrl", ""))):
            return "the token's service URL does not match the activity"
        tenant = self.platform.tenant_id
        if tenant and (tenant_of(body) or "").lower() != tenant.lower():
            return "this bot serves one organisation (tenant) only"
        return None

    async def on_error(self, context: TurnContext, error: Exception) -> None:
        log.error("Teams activity failed", extra={"activity_type": context.activity.type}, exc_info=error)
        failures = _turn_failed.get()
        if failures is not None:
            failures.append(error)

    # --- Activities ---------------------------------------------------------------------------------
    async def on_message(self, context: TurnContext, state: TurnState) -> None:
        """A message for the bot is handled; other chatter (delivered through the RSC permissions) is left
        alone and nothing about it is stored, not even the conversation's reference."""
        activity = context.activity
        action = read_action(activity.value)
        if action is not None:  # Action.Submit from one of our cards (older clients)
            await self.remember(context)
            await self.services.router.handle(await self._card_event(activity, action))
            return
        text = clean_text(activity.text or "")
        if not text:
            return
        where = where_of(activity)
        event: Inbound
        if where.kind == "dm":
            event = Command(**await self._base(activity), text=text, explicit=text.startswith("/"))
        else:
            root = thread_root(activity)
            if root and root != activity.id and await self._is_ours(root):
                event = Reply(**await self._base(activity), text=text, thread_ref=root)
            elif self._mentions_bot(activity) or text.startswith("/"):
                event = Command(**await self._base(activity), text=text, explicit=True)
            else:
                return
        await self.remember(context)
        await self.services.router.handle(event)
        if where.kind == "dm":
            await self.platform.conversations.remember_personal_chat(
                event.actor.external_id, activity.conversation.id
            )

    async def on_action_execute(
        self, context: TurnContext, state: TurnState, data: Any
    ) -> AdaptiveCardInvokeResponse:
        activity = context.activity
        await self.remember(context)
        action = read_action(data)
        event = await self._card_event(activity, action) if action else None
        if event is not None:
            await self.services.router.handle(event)
        return await self._card_response(activity, event)

    async def on_event(self, context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        phase = MEETING_PHASES.get(activity.name or "")
        if phase is None:
            return
        await self.remember(context)
        value = mapping(activity.value)
        meeting = mapping(mapping(activity.channel_data).get("meeting"))
        details = {
            "meeting_id": value.get("Id") or meeting.get("id"),
            "title": value.get("Title"),
            "meeting_type": value.get("MeetingType"),
            "join_url": value.get("JoinUrl"),
            "at": value.get("StartTime" if phase == "start" else "EndTime"),
        }
        base = await self._base(activity)
        base["context"] = {key: item for key, item in details.items() if item is not None}
        await self.services.router.handle(MeetingEvent(**base, phase=phase))  # type: ignore[arg-type]

    async def on_installation(self, context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        if (activity.action or "").startswith("remove"):
            await self.platform.conversations.forget(activity.conversation.id)
            return
        await self.remember(context)
        base = await self._base(activity)
        if base["where"].kind == "dm":
            await self.services.router.handle(MemberJoined(**base))
            await self.platform.conversations.remember_personal_chat(
                base["actor"].external_id, activity.conversation.id
            )

    async def on_conversation_update(self, context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        recipient = activity.recipient.id if activity.recipient else None
        if any(member.id == recipient for member in activity.members_added or []):
            await self.remember(context)

    async def on_reaction(self, context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        if not activity.reply_to_id:
            return
        base = await self._base(activity)
        changes = [(reaction, True) for reaction in activity.reactions_added or []]
        changes += [(reaction, False) for reaction in activity.reactions_removed or []]
        for reaction, added in changes:
            emoji = str(reaction.type or "like")
            event_id = f"{base['event_id']}:{emoji}:{'+' if added else '-'}"
            await self.services.router.handle(
                Reaction(
                    **{**base, "event_id": event_id},
                    emoji=emoji,
                    message_ref=activity.reply_to_id,
                    added=added,
                )
            )

    # --- Helpers ----------------------------------------------------------------------------------
    async def remember(self, context: TurnContext) -> None:
        """Store this conversation's reference (and, in a channel thread, the channel's) for later sends."""
        conversation = Conversation.from_turn_context(context)
        await self.platform.conversations.remember(conversation)
        conversation_id = conversation.conversation_reference.conversation.id
        if ";messageid=" in conversation_id:
            reference = conversation.conversation_reference
            channel = reference.conversation.model_copy(update={"id": conversation_id.split(";", 1)[0]})
            await self.platform.conversations.remember(
                Conversation(conversation.claims, reference.model_copy(update={"conversation": channel}))
            )

    async def _card_event(self, activity: Activity, action: CardAction) -> ButtonClick | FormSubmit:
        base = await self._base(activity)
        if action.is_form:
            return FormSubmit(
                **base, token=action.token, fields=action.fields, message_ref=activity.reply_to_id
            )
        return ButtonClick(**base, token=action.token, message_ref=activity.reply_to_id)

    async def _card_response(self, activity: Activity, event: Inbound | None) -> AdaptiveCardInvokeResponse:
        """The card as it is after the click: the handler's edit, else the card as sent."""
        reference = activity.reply_to_id
        stored = None
        if reference:
            async with self.services.database.transaction() as session:
                repos = Repos(session)
                edits = (
                    await repos.teams.card_edits(f"in:teams:{event.event_id}:", reference) if event else []
                )
                stored = (
                    edits[-1] if edits else await repos.deliveries.by_platform_message("teams", reference)
                )
        if stored is None:
            locale = self.services.catalog.locale(activity.locale)
            text = self.services.catalog.t(locale, "teams.received")
            return AdaptiveCardInvokeResponse(status_code=200, type=MESSAGE_RESPONSE, value=text)
        card = render(Message.from_json(stored.message), self.platform.labels(stored.locale), card=True)
        return AdaptiveCardInvokeResponse(
            status_code=200, type=CARD_CONTENT_TYPE, value=card["attachments"][0]["content"]
        )

    async def _is_ours(self, activity_id: str) -> bool:
        async with self.services.database.transaction() as session:
            return await Repos(session).deliveries.by_platform_message("teams", activity_id) is not None

    def _mentions_bot(self, activity: Activity) -> bool:
        recipient = activity.recipient.id if activity.recipient else None
        return any(
            mention.mentioned and mention.mentioned.id == recipient for mention in activity.get_mentions()
        )

    async def _base(self, activity: Activity) -> dict[str, Any]:
        """The fields every normalized event shares."""
        return {
            "platform": "teams",
            "event_id": event_id(activity),
            "actor": actor(activity),
            "where": await self._where(activity),
            "context": {"conversation_type": activity.conversation.conversation_type},
        }

    async def _where(self, activity: Activity) -> Where:
        where = where_of(activity)
        if where.kind == "dm" or where.name:
            return where
        async with self.services.database.transaction() as session:
            existing = await Repos(session).channels.by_external("teams", where.external_id)
        return Where(
            external_id=where.external_id,
            kind=where.kind,
            name=existing.name if existing else None,
            ref=where.ref,
        )
