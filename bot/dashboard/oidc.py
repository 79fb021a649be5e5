"""Signing in to the dashboard with OpenID Connect: Sign in with Slack or Microsoft Entra ID (Authlib).

The authorization code flow with state and nonce (kept in Starlette's signed session cookie, only on
``/admin``, for ten minutes); the id_token is verified by Authlib against the provider's JWKS, issuer,
audience (our client id), expiry and nonce. The person is then matched to a member:

- Slack: the ``https://slack.com/user_id`` claim is the identity ``slack:<id>`` (and, when
  ``KLANTPET_OIDC_TENANT`` holds the workspace id, ``https://slack.com/team_id`` must match it);
- Entra: the ``tid`` claim must be the configured tenant; the ``oid`` claim is the Teams identity
  ``teams:<oid>`` when the member has one, else the member whose e-mail is the ``email`` claim (or the
  ``preferred_username`` when it is an address).

Nobody is created here: an account that matches no active member is refused politely.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware

from storage.models import Member
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.app import Services
    from bot.dashboard.auth import DashboardAuth

log = logging.getLogger(__name__)
CALLBACK = "/admin/login/oidc/callback"
STATE_COOKIE = "klantpet_oidc"
STATE_SECONDS = 600
NAMES = {"slack": "Slack", "entra": "Microsoft"}


class OidcSignIn:
    """The configured provider as an Authlib client, and the mapping from its claims to a member."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        assert settings.oidc_provider and settings.oidc_client_secret
        self.services = services
        self.provider = settings.oidc_provider
        self.name = NAMES[self.provider]
        self.tenant = settings.oidc_tenant
        oauth = OAuth()
        self.client: Any = oauth.register(
            name=self.provider,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            server_metadata_url=settings.oidc_discovery_url,
            client_kwargs={
                "scope": "openid email profile",
                "token_endpoint_auth_method": "client_secret_post",
            },
        )

    async def member_for(self, claims: dict[str, Any]) -> Member | None:
        """The active member these verified claims belong to, or None."""
        async with self.services.database.transaction() as session:
            members = Repos(session).members
            found: Member | None = None
            if self.provider == "slack":
                team = claims.get("https://slack.com/team_id")
                user = claims.get("https://slack.com/user_id")
                if user and (not self.tenant or team == self.tenant):
                    found = await members.by_identity("slack", str(user))
            elif str(claims.get("tid", "")).lower() == str(self.tenant).lower():
                if claims.get("oid"):
                    found = await members.by_identity("teams", str(claims["oid"]))
                address = claims.get("email") or claims.get("preferred_username")
                if found is None and isinstance(address, str) and "@" in address:
                    found = await members.by_email(address)
            return found if found is not None and found.active else None


def install(app: FastAPI, routes: APIRouter, services: Services, auth: DashboardAuth) -> None:
    """Add the OIDC routes (and the state cookie's middleware) when a provider is configured."""
    if services.settings.oidc_provider is None:
        return
    sign_in = OidcSignIn(services)
    app.state.dashboard_oidc = sign_in
    app.add_middleware(
        SessionMiddleware,
        secret_key=services.secret_key.hex(),
        session_cookie=STATE_COOKIE,
        max_age=STATE_SECONDS,
        path="/admin",
        same_site="lax",
        https_only=auth.secure,
    )

    from bot.dashboard.routes import page

    def refused(request: Request, key: str) -> Response:
        return page(
            request, None, "login.html", status=403, oidc_problem=key, login_csrf="", oidc_name=sign_in.name
        )

    @routes.get("/login/oidc")
    async def start(request: Request) -> Response:
        redirect: Response = await sign_in.client.authorize_redirect(
            request, services.settings.base_url + CALLBACK
        )
        return redirect

    @routes.get("/login/oidc/callback")
    async def callback(request: Request) -> Response:
        try:
            token = await sign_in.client.authorize_access_token(request)
        except Exception as error:  # a refused, forged, replayed or expired answer: never signed in
            log.warning(
                "OIDC sign-in failed", extra={"provider": sign_in.provider, "error": type(error).__name__}
            )
            return refused(request, "dashboard.login.oidc_failed")
        claims = token.get("userinfo")
        member = await sign_in.member_for(dict(claims)) if claims else None
        if member is None:
            return refused(
                request, "dashboard.login.oidc_unknown" if claims else "dashboard.login.oidc_failed"
            )
        response = RedirectResponse("/admin", status_code=303)
        await auth.open(response, member.id)
        return response
