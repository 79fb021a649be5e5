"""A small local OpenID Connect provider (authorization code flow) for testing dashboard sign-in.

Speaks the protocol Slack's and Microsoft Entra's OIDC endpoints speak: discovery
(``/.well-known/openid-configuration``), ``/authorize`` (redirects back at once with a code and the state, as
if the person had signed in and consented), ``/token`` (client_secret_post or client_secret_basic; a code
works once and only with its redirect_uri) answering with an RS256-signed id_token carrying the nonce,
and ``/jwks``. Who "signs in" is ``FakeOidc.person`` (extra claims such as ``oid``/``tid`` or
``https://slack.com/user_id``). ``forge`` signs id_tokens with a key the JWKS does not hold.
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response


@dataclass
class FakeOidc:
    client_id: str = "klantpet-dashboard"
    client_secret: str = "s3cret-of-the-client"
    issuer_path: str = ""
    person: dict[str, Any] = field(default_factory=dict)
    forge: bool = False
    url: str = ""
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)
        self.app = self._build()

    @property
    def issuer(self) -> str:
        return self.url + self.issuer_path

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> JSONResponse:
            return JSONResponse(
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.url}/authorize",
                    "token_endpoint": f"{self.url}/token",
                    "jwks_uri": f"{self.url}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "scopes_supported": ["openid", "email", "profile"],
                    "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                }
            )

        @app.get("/jwks")
        async def jwks() -> JSONResponse:
            public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return JSONResponse({"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]})

        @app.get("/authorize")
        async def authorize(request: Request) -> Response:
            query = request.query_params
            if query.get("client_id") != self.client_id or query.get("response_type") != "code":
                return JSONResponse({"error": "unauthorized_client"}, status_code=400)
            if "openid" not in (query.get("scope") or "").split():
                return JSONResponse({"error": "invalid_scope"}, status_code=400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"redirect_uri": query["redirect_uri"], "nonce": query.get("nonce")}
            target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query.get("state", "")})
            return RedirectResponse(target, status_code=302)

        @app.post("/token")
        async def token(request: Request) -> JSONResponse:
            self.token_requests += 1
            form = await request.form()
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            header = request.headers.get("authorization", "")
            if header.startswith("Basic "):
                client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
            if client_id != self.client_id or client_secret != self.client_secret:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            grant = self.codes.pop(str(form.get("code")), None)
            if form.get("grant_type") != "authorization_code" or grant is None:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            if form.get("redirect_uri") != grant["redirect_uri"]:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            claims = {
                "iss": self.issuer,
                "aud": self.client_id,
                "sub": str(self.person.get("sub", "subject-1")),
                "iat": now,
                "exp": now + 300,
                "nonce": grant["nonce"],
                **self.person,
            }
            signing_key = self.other_key if self.forge else self.key
            id_token = jwt.encode(claims, signing_key, algorithm="RS256", headers={"kid": self.kid})
            return JSONResponse(
                {
                    "access_token": secrets.token_urlsafe(24),
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "id_token": id_token,
                }
            )

        return app
