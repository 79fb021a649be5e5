"""Microsoft Teams, through the Microsoft 365 Agents SDK (FastAPI hosting, MSAL authentication).

Meets the bar every adapter meets:
- authenticates every inbound request: the Bot Framework JWT on ``POST /api/messages`` is validated by the SDK
  (RS256 signature against Microsoft's published keys, expiry, audience = our app id, issuer allow-list —
  switched on here, the SDK leaves it off), then its ``serviceurl`` claim must equal the activity's
  ``serviceUrl`` and the conversation must be in our tenant; anonymous requests only with
  ``KLANTPET_TEAMS_ALLOW_ANONYMOUS`` (local development), never by default;
- de-duplicates by the activity id (Teams re-delivers when we are slow), in the router;
- acknowledges at once: the router only writes to the database, replies leave through the outbox;
  ``Action.Execute`` invokes are answered in the same request with the (updated) card;
- renders every block of the neutral model as an Adaptive Card (`bot.platforms.teams_render`), text-only
  messages as Markdown, and keeps every activity under 28 KB;
- respects Teams' limits (per conversation 7/s, 8/2 s, 60/30 s, 1800/h; 50 requests/s per app) and retries
  429 (with its ``Retry-After``), 412, 5xx and timeouts with backoff — the SDK itself retries nothing;
- unloads cleanly: nothing runs in the background, connector sessions close after each send;
- is tested through the SDK's own hosting and connector client against a local fake of the Bot Connector and
  Entra endpoints (`tests/fakes/teams_api.py`), with strict typing.

Conversation references (with the service URL and tenant) are kept in our database through the SDK's
proactive store (`bot.platforms.teams_storage`), written on install and on every activity, so scheduled
messages reach people, group chats and channels after restarts. Teams has no ephemeral messages for bots:
an ephemeral reply in a group chat or channel goes to the member's personal chat instead.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from microsoft_agents.activity import (
    Activity,
    ChannelAccount,
    ChannelId,
    ConversationParameters,
    ConversationReference,
    load_configuration_from_env,
)
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.core import (
    AgentApplication,
    AnonymousTokenProvider,
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectionManager,
    TeamsConnectorClient,
    TurnContext,
    TurnState,
)
from microsoft_agents.hosting.core.app import ApplicationOptions, ProactiveOptions
from microsoft_agents.hosting.core.app.proactive import Conversation
from microsoft_agents.hosting.fastapi import CloudAdapter, jwt_authorization_decorator

from bot.platforms.base import Outgoing, PermanentSendError, RetryAfter, TransientSendError
from bot.platforms.teams_conversations import ConversationStore
from bot.platforms.teams_inbound import TeamsInbound
from bot.platforms.teams_render import CardTooLarge, Labels, render
from bot.platforms.teams_storage import DatabaseStorage
from bot.ratelimit import Limit, leaving, per_second
from storage.models import Identity
from storage.repositories import Repos

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.app import Services

log = logging.getLogger(__name__)

SETTINGS_PREFIX = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
SEND_TIMEOUT_SECONDS = 20.0
RETRYABLE = {412, 429, 500, 502, 503, 504}
APP_RATE = 50.0  # requests per second for the whole app (learn.microsoft.com: bots, rate limiting)


def build(services: Services) -> TeamsPlatform:
    return TeamsPlatform(services)


def sdk_configuration(services: Services) -> dict[str, Any]:
    """The Agents SDK configuration, built from our settings (the SDK's own environment names)."""
    settings = services.settings
    values = {
        "AUTHTYPE": "ClientSecret",
        "VALIDATE_ISSUER": "true",
        "ANONYMOUS_ALLOWED": "true" if settings.teams_allow_anonymous else "false",
        "CLIENTID": settings.teams_client_id,
        "CLIENTSECRET": settings.teams_client_secret.get_secret_value()
        if settings.teams_client_secret
        else None,
        "TENANTID": settings.teams_tenant_id,
        "AUTHORITY": settings.teams_authority,
    }
    return dict(
        load_configuration_from_env({SETTINGS_PREFIX + key: value for key, value in values.items() if value})
    )


class TeamsPlatform:
    name = "teams"

    def __init__(
        self, services: Services, *, token_provider_factory: Callable[[Any], Any] | None = None
    ) -> None:
        """``token_provider_factory``: how the bot gets its own tokens (default MSAL; tests pass the fake's)."""
        self.services = services
        settings = services.settings
        self.app_id = settings.teams_client_id or ""
        self.tenant_id = settings.teams_tenant_id
        self.anonymous = settings.teams_allow_anonymous and not self.app_id
        config = sdk_configuration(services)
        self.connections: ConnectionManager = (
            ConnectionManager(provider_factory=token_provider_factory, **config)
            if token_provider_factory
            else MsalConnectionManager(**config)
        )
        self.auth_configuration = self.connections.get_default_connection_configuration()
        self.adapter = CloudAdapter(connection_manager=self.connections)
        self._sessions: dict[str, aiohttp.ClientSession] = {}  # per service URL, kept alive between sends
        self.adapter.on_turn_error = _log_turn_error
        self.storage = DatabaseStorage(services.database, services.clock)
        self.agent: AgentApplication[TurnState] = AgentApplication[TurnState](
            ApplicationOptions(
                storage=self.storage,
                bot_app_id=self.app_id,
                start_typing_timer=False,  # typing indicators would count against Teams' rate limits
                remove_recipient_mention=True,
                proactive=ProactiveOptions(storage=self.storage),
            ),
            connection_manager=self.connections,
        )
        self.conversations = ConversationStore(services, self.storage, self.name)
        self.inbound = TeamsInbound(self)

    # --- Outbound ---------------------------------------------------------------------------------
    def labels(self, locale: str) -> Labels:
        catalog = self.services.catalog
        return Labels(
            choose=catalog.t(locale, "teams.choose"), required=catalog.t(locale, "error.field_required")
        )

    @property
    def throughput(self) -> float:
        return APP_RATE

    def limits(self, target: str) -> list[Limit]:
        # Teams counts per conversation (thread): 7/1 s, 8/2 s, 60/30 s, 1800/h; and 50/s for the whole app.
        return [
            Limit(f"teams:conversation:{target}", rate=1.8, burst=4),
            Limit(f"teams:conversation-hour:{target}", rate=0.45, burst=180),
            per_second("teams:app", APP_RATE),
        ]

    def dm_target(self, identity: Identity) -> str:
        """A member's personal chat, or ``user:<AAD id>`` to open one on the first message."""
        return f"user:{identity.external_id}"

    async def send(self, outgoing: Outgoing) -> str | None:
        target = await self._private_target(outgoing) if outgoing.ephemeral else outgoing.target
        if outgoing.thread_ref and ";messageid=" not in target and not target.startswith("user:"):
            target = f"{target};messageid={outgoing.thread_ref}"
        try:
            body = render(outgoing.message, self.labels(outgoing.locale))
        except CardTooLarge as error:
            raise PermanentSendError(str(error)) from None
        activity = Activity.model_validate(body)
        try:
            async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
                if target.startswith("user:"):
                    user_id = target.removeprefix("user:")
                    target = await self.conversations.personal_chat(
                        user_id
                    ) or await self._open_personal_chat(user_id)
                return await self._deliver(target, activity, outgoing.edit_ref)
        except aiohttp.ClientResponseError as error:
            raise _send_error(error, target) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TransientSendError(f"Teams unreachable: {type(error).__name__}") from None

    async def _deliver(self, target: str, activity: Activity, edit_ref: str | None) -> str | None:
        reference = await self.conversations.reference(target)
        if reference is None:
            raise PermanentSendError("no conversation reference for this Teams conversation (never seen)")
        activity.channel_id = ChannelId(channel="msteams")
        client = await self._client(reference.service_url)
        await leaving()
        if edit_ref:
            activity.id = edit_ref
            await client.conversations.update_activity(target, edit_ref, activity)
            return edit_ref
        sent = await client.conversations.send_to_conversation(target, activity)
        return str(sent.id) if sent.id else None

    async def _client(self, service_url: str) -> TeamsConnectorClient:
        """A connector client on the kept-alive HTTP session of ``service_url`` (the SDK's factory opens a new
        session, and so a new connection, for every call). The token is asked for every time, as the factory
        does: the provider caches it and renews it before it expires."""
        identity = ClaimsIdentity({"aud": self.app_id, "appid": self.app_id}, authentication_type="Bearer")
        provider = (
            AnonymousTokenProvider()
            if self.anonymous
            else self.connections.get_token_provider(identity, service_url)
        )
        token = await provider.get_access_token(
            AuthenticationConstants.AGENTS_SDK_SCOPE, [BOT_FRAMEWORK_SCOPE]
        )
        endpoint = service_url if service_url.endswith("/") else f"{service_url}/"
        session = self._sessions.get(endpoint)
        if session is None or session.closed:
            session = self._sessions[endpoint] = aiohttp.ClientSession(base_url=endpoint)
        return TeamsConnectorClient(endpoint=endpoint, token=token, session=session)

    async def _private_target(self, outgoing: Outgoing) -> str:
        """Where an ephemeral reply goes: the conversation itself if personal, else the member's personal chat."""
        reference = await self.conversations.reference(outgoing.target)
        personal = reference is not None and reference.conversation.conversation_type == "personal"
        if personal or outgoing.member_id is None:
            return outgoing.target
        async with self.services.database.transaction() as session:
            identity = await Repos(session).members.identity(outgoing.member_id, self.name)
        if identity is None:
            return outgoing.target
        return identity.dm_ref or self.dm_target(identity)

    async def _open_personal_chat(self, user_id: str) -> str:
        """Create (or find: Teams answers with the same id) the 1:1 chat with a member, and remember it."""
        template = await self.conversations.any_reference()
        service_url = template.service_url if template else self.services.settings.teams_service_url
        tenant = self.tenant_id or (template.conversation.tenant_id if template else None)
        client = await self._client(service_url)
        created = await client.conversations.create_conversation(
            ConversationParameters(
                is_group=False,
                agent=ChannelAccount(id=f"28:{self.app_id}"),
                members=[ChannelAccount(id=user_id)],
                tenant_id=tenant,
                channel_data={"tenant": {"id": tenant}},
            )
        )
        conversation_id = str(created.id)
        reference = ConversationReference.model_validate(
            {
                "channelId": "msteams",
                "serviceUrl": service_url,
                "bot": {"id": f"28:{self.app_id}"},
                "user": {"id": user_id, "aadObjectId": user_id},
                "conversation": {"id": conversation_id, "conversationType": "personal", "tenantId": tenant},
            }
        )
        await self.conversations.remember(Conversation({"aud": self.app_id}, reference))
        await self.conversations.remember_personal_chat(user_id, conversation_id)
        return conversation_id

    # --- HTTP ------------------------------------------------------------------------------------
    def mount(self, app: FastAPI) -> None:
        app.state.agent_configuration = self.auth_configuration
        routes = APIRouter()

        @jwt_authorization_decorator  # type: ignore[untyped-decorator]
        async def authenticated(request: Request) -> Response:
            return await self.inbound.receive(request)

        @routes.post("/api/messages", include_in_schema=False)
        async def messages(request: Request) -> Response:
            try:
                response: Response = await authenticated(request)
            except (KeyError, ValueError):  # e.g. a token without "kid": the SDK raises instead of refusing
                return JSONResponse({"error": "Invalid token or authentication failed."}, status_code=401)
            return response

        app.include_router(routes)

    async def start(self) -> None:
        if self.services.settings.teams_allow_anonymous:
            log.warning(
                "Teams accepts requests WITHOUT a token (KLANTPET_TEAMS_ALLOW_ANONYMOUS): development only"
            )

    async def stop(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()


def _send_error(error: aiohttp.ClientResponseError, target: str) -> Exception:
    if error.status == 429:
        return RetryAfter(retry_after_seconds(error.headers), scope=f"teams:conversation:{target}")
    if (
        error.status in RETRYABLE or error.status == 401
    ):  # 401: a token that just expired; bounded by attempts
        return TransientSendError(f"Teams answered {error.status}")
    return PermanentSendError(f"Teams refused the message ({error.status})")


def retry_after_seconds(headers: Any, default: float = 1.0) -> float:
    """Teams' ``Retry-After`` (seconds or an HTTP date), or ``Retry-After-Ms``; ``default`` when absent."""
    if not headers:
        return default
    milliseconds = headers.get("Retry-After-Ms")
    value = headers.get("Retry-After")
    try:
        if value is not None:
            return max(0.0, float(value))
        if milliseconds is not None:
            return max(0.0, float(milliseconds) / 1000)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(str(value))
        except (TypeError, ValueError):
            return default
        if parsed is not None:
            moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            return max(0.0, (moment - datetime.now(UTC)).total_seconds())
    return default


async def _log_turn_error(context: TurnContext, error: Exception) -> None:
    # The SDK's default sends the exception text to the user; we log it instead.
    log.error("Teams turn failed", extra={"activity_type": context.activity.type}, exc_info=error)
