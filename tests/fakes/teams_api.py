"""Local fake of Microsoft Teams' Bot Connector service (v3) and of the Entra ID / Bot Framework
token and key endpoints, for testing the Teams platform adapter built on the Microsoft 365 Agents SDK.

One ASGI app (``FakeTeams().app``) serves:

* Bot Connector v3 (under any path prefix, like ``https://smba.trafficmanager.net/emea/``):
  create conversation, send, reply, update, delete, get members / member / paged members.
  Every call is recorded (``fake.calls``); ``fake.activities(conversation_id)`` is the current state.
  Requests need ``Authorization: Bearer <token from the fake's token endpoint>``; Teams' documented
  rate limits answer 429 + ``Retry-After``; ``fail_next()`` / ``fault_rate`` inject faults.
* Inbound-token side: Bot Framework OpenID metadata + JWKS (``/v1/.well-known/...``), Entra JWKS
  (``/{tenant}/discovery/v2.0/keys``); ``fake.mint_token()`` signs channel tokens like the real
  Bot Connector; ``fake.bad_token(kind)`` builds invalid ones.
* Outbound-token side: client-credentials token endpoint (``/{tenant}/oauth2/v2.0/token`` and the
  ADFS-style ``/adfs/oauth2/token`` that lets real MSAL talk to the fake, see ``TEAMS_NOTES.md``).
* Builders for inbound Teams activities (``fake.message_activity()`` ...).
* ``/_fake/calls``, ``/_fake/reset``, ``/_fake/fail_next``, ``/_fake/token`` for manual use.

Run standalone: ``python -m tests.fakes.teams_api --port 3979`` (from the project root).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import contextlib
import copy
import datetime as dt
import hashlib
import ipaddress
import itertools
import json
import math
import random
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs

import httpx
import jwt
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from jwt.algorithms import RSAAlgorithm
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

try:
    from .server import serve
except ImportError:  # executed as a plain script
    from server import serve  # type: ignore[no-redef]

# --- constants (values the Agents SDK / Bot Framework use) -------------------------------------------

BOTFRAMEWORK_ISSUER = "https://api.botframework.com"  # iss of inbound channel tokens
BOTFRAMEWORK_AUDIENCE = "https://api.botframework.com"  # aud of outbound (bot -> connector) tokens
BOTFRAMEWORK_SCOPE = "https://api.botframework.com/.default"
# JWKS URLs hard-coded in microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator
SDK_BOTFRAMEWORK_JWKS_URL = "https://login.botframework.com/v1/.well-known/keys"
SDK_ENTRA_JWKS_URL = "https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys"

DEFAULT_APP_ID = "0b7a0000-c0de-4b07-8e1c-000000000001"
DEFAULT_APP_SECRET = "fake-client-secret"
DEFAULT_TENANT_ID = "7e4a0000-5e57-4a1e-9d00-000000000002"
DEFAULT_BOT_NAME = "Klantpet"
SERVICE_URL_PATH = "/teams/"  # real ones look like https://smba.trafficmanager.net/emea/

# Teams' documented limits (learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit):
# (max operations, window in seconds). "per bot per thread" + "global per app per tenant 50 RPS".
TEAMS_LIMITS: dict[str, list[tuple[int, float]]] = {
    "send": [(7, 1), (8, 2), (60, 30), (1800, 3600)],  # send/reply/update/delete, per conversation
    "create": [(7, 1), (8, 2), (60, 30), (1800, 3600)],  # create conversation, per app
    "members": [(14, 1), (16, 2), (120, 30), (3600, 3600)],  # get (paged) member(s), per conversation
    "conversations": [(14, 1), (16, 2), (120, 30), (3600, 3600)],  # get conversations, per app
    "app": [(50, 1)],  # every connector call, per app (per tenant in reality)
}

OP_CATEGORY = {
    "send": "send",
    "reply": "send",
    "update": "send",
    "delete": "send",
    "create_conversation": "create",
    "get_members": "members",
    "get_member": "members",
    "get_paged_members": "members",
    "get_conversations": "conversations",
}
CONNECTOR_OPS = (*OP_CATEGORY.keys(),)
ALL_OPS = (*CONNECTOR_OPS, "token")

FaultKind = int | Literal["timeout"]
_FAULT_CODES = {
    400: "BadArgument",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    412: "PreconditionFailed",
    429: "Throttled",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


# --- keys ----------------------------------------------------------------------------------------------


@dataclass
class SigningKey:
    """An RSA key pair with a ``kid``; ``jwk()`` is the public part as published in a JWKS."""

    kid: str
    private_key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid or base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="), key)

    def jwk(self, endorsements: list[str] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        data.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        if endorsements is not None:
            data["endorsements"] = endorsements  # Bot Framework JWKS lists the channels a key endorses
        return data

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": kid or self.kid})


# --- recording -----------------------------------------------------------------------------------------


@dataclass
class Call:
    """One request to the fake (connector or token endpoint)."""

    op: str
    method: str
    path: str
    status: int
    conversation_id: str | None = None
    activity_id: str | None = None
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)
    auth: str = "none"  # "valid" | "invalid" | "none"  (bearer token as seen by the fake)
    fault: str | None = None  # injected fault / "rate_limit" / None
    response: Any = None
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Conversation:
    id: str
    conversation_type: str = "personal"
    tenant_id: str | None = None
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)  # insertion-ordered
    deleted: set[str] = field(default_factory=set)
    bot_removed: bool = False


@dataclass
class _FaultRule:
    op: str
    remaining: int
    kind: FaultKind
    retry_after: float | None = None
    conversation_id: str | None = None


class _FakeTokenCredential:
    """Minimal ``azure.core`` AsyncTokenCredential for ``FakeAccessTokenProvider.get_token_credential``."""

    def __init__(self, provider: FakeAccessTokenProvider):
        self._provider = provider

    async def get_token(self, *scopes: str, **_: Any) -> Any:
        from azure.core.credentials import AccessToken

        token = await self._provider.get_access_token(BOTFRAMEWORK_AUDIENCE, list(scopes))
        return AccessToken(token, int(time.time()) + 3000)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> _FakeTokenCredential:
        return self

    async def __aexit__(self, *_: Any) -> None:
        return None


class FakeAccessTokenProvider:
    """Outbound-token seam: an ``AccessTokenProviderBase`` that does the client-credentials grant
    against the fake's token endpoint (plain HTTP, no MSAL). Use it through
    ``ConnectionManager(provider_factory=fake.token_provider_factory, **sdk_config)``."""

    def __init__(self, fake: FakeTeams, configuration: Any):
        self._fake = fake
        self._configuration = configuration
        self._cache: dict[tuple[str, ...], tuple[str, float]] = {}
        self.requests = 0

    @property
    def configuration(self) -> Any:
        return self._configuration

    async def get_access_token(
        self, resource_url: str, scopes: list[str], force_refresh: bool = False
    ) -> str:
        cfg = self._configuration
        key = tuple(scopes or [BOTFRAMEWORK_SCOPE])
        cached = self._cache.get(key)
        if cached and not force_refresh and cached[1] > time.time() + 60:
            return cached[0]
        tenant = cfg.TENANT_ID or "botframework.com"
        async with httpx.AsyncClient(timeout=10) as client:
            resp = await client.post(
                f"{self._fake.base_url}/{tenant}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": cfg.CLIENT_ID or "",
                    "client_secret": cfg.CLIENT_SECRET or "",
                    "scope": " ".join(key),
                },
            )
        self.requests += 1
        payload = resp.json()
        if resp.status_code != 200 or "access_token" not in payload:
            raise ValueError(f"Failed to acquire token: {payload}")
        self._cache[key] = (payload["access_token"], time.time() + int(payload["expires_in"]))
        return str(payload["access_token"])

    def get_token_credential(self) -> _FakeTokenCredential:
        return _FakeTokenCredential(self)

    async def acquire_token_on_behalf_of(self, scopes: list[str], user_assertion: str) -> str:
        raise NotImplementedError("on-behalf-of is not faked")


# --- TLS helper (MSAL only accepts https authorities) ----------------------------------------------------


def make_self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """Write a self-signed cert for 127.0.0.1/localhost (usable as its own CA bundle)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "klantpet-fake-teams")])
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = directory / "fake-teams-cert.pem", directory / "fake-teams-key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certfile, keyfile


_KEY_POOL: list[SigningKey] = []

# --- the fake --------------------------------------------------------------------------------------------


class FakeTeams:
    """Fake Teams Bot Connector + Entra ID / Bot Framework token service. See module docstring."""

    def __init__(
        self,
        *,
        app_id: str = DEFAULT_APP_ID,
        app_secret: str = DEFAULT_APP_SECRET,
        tenant_id: str = DEFAULT_TENANT_ID,
        bot_name: str = DEFAULT_BOT_NAME,
        require_auth: bool = True,
        rate_limits: dict[str, list[tuple[int, float]]] | None = None,
        rate_limiting: bool = True,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        fault_rate: float = 0.0,
        fault_kinds: tuple[FaultKind, ...] = (429, 502, 503, 504),
        seed: int | None = None,
        timeout_delay: float = 10.0,
        strict_conversations: bool = False,
        base_url: str | None = None,
        fresh_keys: bool = False,
    ):
        self.app_id = app_id
        self.app_secret = app_secret
        self.tenant_id = tenant_id
        self.bot_name = bot_name
        self.require_auth = require_auth
        self.rate_limits = copy.deepcopy(rate_limits or TEAMS_LIMITS)
        self.rate_limiting = rate_limiting
        self.time_scale = time_scale
        self.clock = clock
        self.fault_rate = fault_rate
        self.fault_kinds = fault_kinds
        self.timeout_delay = timeout_delay
        self.strict_conversations = strict_conversations
        self.base_url: str | None = base_url  # http://127.0.0.1:PORT once served
        self.tls_base_url: str | None = None  # https://127.0.0.1:PORT2 once serve_tls()-ed
        self.ca_bundle: Path | None = None
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._ids = itertools.count(int(time.time() * 1000))
        # inbound (channel -> bot) token key, the key outbound tokens are signed with, and a foreign key
        # with the same kid. RSA generation is slow, so keys are shared per process unless fresh_keys.
        if fresh_keys or not _KEY_POOL:
            channel = SigningKey.generate()
            keys = (channel, SigningKey.generate(), SigningKey.generate(kid=channel.kid))
            if not _KEY_POOL:
                _KEY_POOL.extend(keys)
        else:
            keys = (_KEY_POOL[0], _KEY_POOL[1], _KEY_POOL[2])
        self.channel_key, self.entra_key, self.foreign_key = keys
        self._calls: list[Call] = []
        self._conversations: dict[str, _Conversation] = {}
        self._faults: list[_FaultRule] = []
        self._windows: dict[tuple[str, str], list[float]] = {}
        self.app = self  # ASGI callable (a bound method would look like ASGI2 to uvicorn)

    # ---- serving -------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def running(self, port: int | None = None) -> Iterator[FakeTeams]:
        """Serve over HTTP on 127.0.0.1 (uses ``server.serve``); sets ``base_url``."""
        with serve(self.app, port) as url:
            self.base_url = url
            yield self

    @contextlib.contextmanager
    def running_tls(self, port: int | None = None) -> Iterator[FakeTeams]:
        """Additionally serve the same app over HTTPS (for real MSAL); sets ``tls_base_url``/``ca_bundle``.

        Point MSAL at it with ``AUTHORITY=fake.msal_authority`` and ``REQUESTS_CA_BUNDLE=fake.ca_bundle``.
        """
        with tempfile.TemporaryDirectory(prefix="fake-teams-tls-") as tmp:
            certfile, keyfile = make_self_signed_cert(Path(tmp))
            with serve(self.app, port, certfile=certfile, keyfile=keyfile) as url:
                self.tls_base_url, self.ca_bundle = url, certfile
                try:
                    yield self
                finally:
                    self.tls_base_url = self.ca_bundle = None

    def _base(self) -> str:
        if not self.base_url:
            raise RuntimeError("FakeTeams is not running: use `with fake.running():` or set base_url")
        return self.base_url

    @property
    def service_url(self) -> str:
        """serviceUrl for activities (has a path, like the real ``https://smba.trafficmanager.net/emea/``)."""
        return self._base() + SERVICE_URL_PATH

    @property
    def jwks_url(self) -> str:
        return f"{self._base()}/v1/.well-known/keys"

    @property
    def openid_metadata_url(self) -> str:
        return f"{self._base()}/v1/.well-known/openidconfiguration"

    @property
    def token_url(self) -> str:
        return f"{self._base()}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def msal_authority(self) -> str:
        """AUTHORITY value that makes the SDK's MsalAuth talk to this fake (needs ``running_tls``).
        ``/adfs`` makes MSAL skip instance discovery (which would call login.microsoftonline.com)."""
        if not self.tls_base_url:
            raise RuntimeError("use `with fake.running_tls():` for the MSAL authority")
        return f"{self.tls_base_url}/adfs"

    @property
    def bot_id(self) -> str:
        return f"28:{self.app_id}"

    # ---- SDK configuration helpers ------------------------------------------------------------------

    def sdk_env(self, *, msal: bool = False, **extra: str) -> dict[str, str]:
        """Env-style settings for ``load_configuration_from_env`` (Agents SDK naming)."""
        prefix = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
        env = {
            f"{prefix}CLIENTID": self.app_id,
            f"{prefix}CLIENTSECRET": self.app_secret,
            f"{prefix}TENANTID": self.tenant_id,
            f"{prefix}AUTHTYPE": "ClientSecret",
        }
        if msal:
            env[f"{prefix}AUTHORITY"] = self.msal_authority
        env.update({f"{prefix}{k}": v for k, v in extra.items()})
        return env

    def token_provider_factory(self, configuration: Any) -> FakeAccessTokenProvider:
        """``provider_factory`` for ``microsoft_agents.hosting.core.ConnectionManager``."""
        return FakeAccessTokenProvider(self, configuration)

    @contextlib.contextmanager
    def patch_sdk_jwks(self, tenant_ids: tuple[str, ...] = ()) -> Iterator[None]:
        """Make the SDK's ``JwtTokenValidator`` fetch signing keys from this fake.

        The SDK hard-codes the JWKS URLs (no config key); this pre-seeds its class-level PyJWKClient
        cache (``JwtTokenValidator._jwk_client_manager._cache``, keyed by URL) with clients that point
        at the fake, so the SDK's own issuer->URL routing still runs. Restored on exit.
        """
        from microsoft_agents.hosting.core.authorization.jwt import jwt_token_validator as jtv

        manager = jtv.JwtTokenValidator._jwk_client_manager
        tenants = {"common", self.tenant_id, *tenant_ids}
        urls = [SDK_BOTFRAMEWORK_JWKS_URL, *(SDK_ENTRA_JWKS_URL.format(tenant=t) for t in tenants)]
        saved = {url: manager._cache.get(url) for url in urls}
        for url in urls:
            manager._cache[url] = jtv._JwkClientCacheEntry(jwt.PyJWKClient(self.jwks_url), threading.Lock())
        try:
            yield
        finally:
            for url, entry in saved.items():
                if entry is None:
                    manager._cache.pop(url, None)
                else:
                    manager._cache[url] = entry

    # ---- tokens -------------------------------------------------------------------------------------

    def mint_token(
        self,
        audience: str | None = None,
        issuer: str = BOTFRAMEWORK_ISSUER,
        expires_in: int = 3600,
        service_url: str | None = None,
        kid: str | None = None,
        *,
        not_before: int | None = None,
        key: Literal["channel", "foreign", "entra"] = "channel",
        extra_claims: dict[str, Any] | None = None,
    ) -> str:
        """A channel -> bot token like the real Bot Connector's (RS256, kid header; claims ``serviceurl``,
        ``nbf``, ``exp``, ``iss``, ``aud`` = bot app id). The SDK checks signature (key chosen by ``kid``
        from the JWKS chosen by ``iss``), ``exp``/``nbf`` (300 s leeway) and ``aud``; ``serviceurl`` is
        compared to ``activity.serviceUrl`` host only by the HTTP adapter."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "serviceurl": service_url if service_url is not None else self.service_url,
            "nbf": not_before if not_before is not None else now - 5,
            "exp": now + expires_in,
            "iss": issuer,
            "aud": audience if audience is not None else self.app_id,
        }
        claims.update(extra_claims or {})
        signer = {"channel": self.channel_key, "foreign": self.foreign_key, "entra": self.entra_key}[key]
        return signer.sign(claims, kid=kid)

    def bad_token(
        self,
        kind: Literal[
            "expired",
            "wrong_audience",
            "wrong_issuer",
            "alg_none",
            "foreign_key",
            "unknown_kid",
            "tampered",
            "no_kid",
        ],
        **kwargs: Any,
    ) -> str:
        """Invalid channel tokens. ``expired`` is past the SDK's 300 s leeway; ``wrong_issuer`` is signed
        with the channel's own key but issued by another organisation's Entra (``sts.windows.net/<other>/``),
        so only an issuer check refuses it."""
        if kind == "expired":
            return self.mint_token(expires_in=-3600, not_before=int(time.time()) - 7200, **kwargs)
        if kind == "wrong_audience":
            return self.mint_token(audience=kwargs.pop("audience", str(uuid.uuid4())), **kwargs)
        if kind == "wrong_issuer":
            return self.mint_token(issuer=f"https://sts.windows.net/{uuid.uuid4()}/", **kwargs)
        if kind == "foreign_key":  # same kid as the published key, signed by another key
            return self.mint_token(key="foreign", **kwargs)
        if kind == "unknown_kid":
            return self.mint_token(key="foreign", kid="not-in-jwks", **kwargs)
        if kind == "tampered":
            head, payload, sig = self.mint_token(**kwargs).split(".")
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            claims["aud"] = claims["aud"] + "x"
            forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
            return f"{head}.{forged}.{sig}"
        if kind in ("alg_none", "no_kid"):
            claims = jwt.decode(self.mint_token(**kwargs), options={"verify_signature": False})
            if kind == "no_kid":
                return jwt.encode(claims, self.channel_key.private_key, algorithm="RS256")
            return jwt.encode(claims, None, algorithm="none", headers={"kid": self.channel_key.kid})
        raise ValueError(kind)

    def issue_connector_token(self, app_id: str | None = None, expires_in: int = 3599) -> str:
        """What the token endpoint hands out: an Entra v1 app token for the Bot Framework API."""
        now = int(time.time())
        app = app_id or self.app_id
        return self.entra_key.sign(
            {
                "aud": BOTFRAMEWORK_AUDIENCE,
                "iss": f"https://sts.windows.net/{self.tenant_id}/",
                "iat": now,
                "nbf": now - 5,
                "exp": now + expires_in,
                "appid": app,
                "appidacr": "1",
                "idp": f"https://sts.windows.net/{self.tenant_id}/",
                "tid": self.tenant_id,
                "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, app)),
                "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, app)),
                "ver": "1.0",
            }
        )

    def _check_connector_token(self, header: str | None) -> str:
        if not header or not header.lower().startswith("bearer "):
            return "none"
        try:
            claims = jwt.decode(
                header[7:].strip(),
                self.entra_key.private_key.public_key(),
                algorithms=["RS256"],
                audience=BOTFRAMEWORK_AUDIENCE,
                options={"require": ["exp", "aud"]},
            )
        except jwt.PyJWTError:
            return "invalid"
        return "valid" if claims.get("appid") == self.app_id else "invalid"

    # ---- state, inspection, control ------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_for(self, op: str, conversation_id: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.op == op and (conversation_id is None or c.conversation_id == conversation_id)
        ]

    def activities(self, conversation_id: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Current state of the activities the bot created in a conversation (updates applied)."""
        with self._lock:
            conv = self._conversations.get(conversation_id)
            if conv is None:
                return []
            return [
                copy.deepcopy(a)
                for aid, a in conv.activities.items()
                if include_deleted or aid not in conv.deleted
            ]

    def conversation_ids(self) -> list[str]:
        with self._lock:
            return list(self._conversations)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._conversations.clear()
            self._faults.clear()
            self._windows.clear()

    def fail_next(
        self,
        op: str = "*",
        n: int = 1,
        kind: FaultKind = 429,
        *,
        retry_after: float | None = None,
        conversation_id: str | None = None,
    ) -> None:
        """Fail the next ``n`` calls of ``op`` (one of ``ALL_OPS`` or ``*``) with HTTP ``kind``
        (429/412/502/503/504/...) or ``"timeout"`` (hangs ``timeout_delay`` s, then 504)."""
        if op != "*" and op not in ALL_OPS:
            raise ValueError(f"unknown op {op!r}; one of {ALL_OPS}")
        with self._lock:
            self._faults.append(_FaultRule(op, n, kind, retry_after, conversation_id))

    def add_conversation(
        self,
        conversation_id: str,
        *,
        conversation_type: str = "personal",
        members: list[dict[str, Any]] | None = None,
        tenant_id: str | None = None,
    ) -> None:
        with self._lock:
            conv = self._conversations.setdefault(
                conversation_id,
                _Conversation(conversation_id, conversation_type, tenant_id or self.tenant_id),
            )
            for m in members or []:
                conv.members[m["id"]] = {**m}

    def remove_bot(self, conversation_id: str) -> None:
        """Simulate uninstall / bot removed: later sends get 403 BotNotInConversationRoster."""
        with self._lock:
            self._conversations.setdefault(conversation_id, _Conversation(conversation_id)).bot_removed = True

    def restore_bot(self, conversation_id: str) -> None:
        """The app was added again: sends to the conversation work again."""
        with self._lock:
            if conversation_id in self._conversations:
                self._conversations[conversation_id].bot_removed = False

    # ---- rate limiting --------------------------------------------------------------------------------

    def _rate_check(self, op: str, conversation_id: str | None) -> float | None:
        """None if allowed (and counted), else seconds until allowed."""
        if not self.rate_limiting:
            return None
        category = OP_CATEGORY[op]
        per_conv = category in ("send", "members")
        buckets = [
            (category, conversation_id if per_conv and conversation_id else self.app_id),
            ("app", self.app_id),
        ]
        now = self.clock()
        wait = 0.0
        with self._lock:
            for bucket in buckets:
                limits = self.rate_limits.get(bucket[0], [])
                stamps = self._windows.setdefault(bucket, [])
                horizon = max((p for _, p in limits), default=0) * self.time_scale
                del stamps[: bisect.bisect_right(stamps, now - horizon)]
                for limit, period in limits:
                    window = period * self.time_scale
                    start = bisect.bisect_right(stamps, now - window)
                    if len(stamps) - start >= limit:
                        # allowed again once the oldest call counted in this window leaves it
                        wait = max(wait, stamps[len(stamps) - limit] + window - now)
            if wait > 0:
                return wait
            for bucket in buckets:
                self._windows[bucket].append(now)
        return None

    def _retry_after_headers(self, seconds: float) -> dict[str, str]:
        # integer seconds (HTTP) normally; fractional when time is scaled so clients can honour it
        value = str(max(1, math.ceil(seconds))) if self.time_scale == 1.0 else f"{max(seconds, 0.001):.3f}"
        return {"Retry-After": value, "Retry-After-Ms": str(max(1, math.ceil(seconds * 1000)))}

    def _take_fault(self, op: str, conversation_id: str | None) -> tuple[FaultKind, float | None] | None:
        with self._lock:
            for rule in self._faults:
                if rule.remaining > 0 and rule.op in ("*", op):
                    if rule.conversation_id and rule.conversation_id != conversation_id:
                        continue
                    rule.remaining -= 1
                    self._faults = [r for r in self._faults if r.remaining > 0]
                    return rule.kind, rule.retry_after
            if self.fault_rate and self._rng.random() < self.fault_rate:
                return self._rng.choice(self.fault_kinds), None
        return None

    async def _fault_response(self, kind: FaultKind, retry_after: float | None) -> Response:
        if kind == "timeout":
            await asyncio.sleep(self.timeout_delay)
            return _error(504, "GatewayTimeout", "The upstream service timed out.")
        status = int(kind)
        headers = None
        if status == 429:
            headers = self._retry_after_headers(
                retry_after if retry_after is not None else 1.0 * self.time_scale
            )
        return _error(status, _FAULT_CODES.get(status, "Error"), f"Injected fault {status}.", headers)

    # ---- ASGI ---------------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self._dispatch(request)
        await response(scope, receive, send)

    async def _dispatch(self, request: Request) -> Response:
        path = request.url.path
        method = request.method
        origin = f"{request.url.scheme}://{request.url.netloc}"
        idx = path.find("/v3/")
        if idx >= 0:
            return await self._connector(request, method, path[idx:])
        parts = [p for p in path.split("/") if p]
        if path.startswith("/_fake/"):
            return await self._control(request, method, parts[1] if len(parts) > 1 else "")
        if method == "GET" and path == "/v1/.well-known/openidconfiguration":
            return JSONResponse(
                {
                    "issuer": BOTFRAMEWORK_ISSUER,
                    "authorization_endpoint": "https://invalid.botframework.com",
                    "jwks_uri": f"{origin}/v1/.well-known/keys",
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                }
            )
        if method == "GET" and (path == "/v1/.well-known/keys" or path.endswith("/discovery/v2.0/keys")):
            return JSONResponse(self.jwks())
        if method == "GET" and path.endswith("/.well-known/openid-configuration"):
            tenant = parts[0]
            base = f"{origin}/{tenant}"
            adfs = tenant.lower() == "adfs"
            return JSONResponse(
                {
                    "issuer": f"{base}"
                    if adfs
                    else f"https://login.microsoftonline.com/{self.tenant_id}/v2.0",
                    "authorization_endpoint": f"{base}/oauth2/authorize"
                    if adfs
                    else f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/token" if adfs else f"{base}/oauth2/v2.0/token",
                    "jwks_uri": f"{base}/discovery/v2.0/keys",
                    "response_types_supported": ["code", "id_token", "token"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                }
            )
        if method == "POST" and (path.endswith("/oauth2/v2.0/token") or path == "/adfs/oauth2/token"):
            return await self._token(request, path)
        return _error(404, "NotFound", f"No route for {method} {path}")

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.channel_key.jwk(["msteams", "webchat"])]}

    async def _token(self, request: Request, path: str) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        redacted = {k: ("***" if k in ("client_secret", "client_assertion") else v) for k, v in form.items()}
        fault = self._take_fault("token", None)
        if fault:
            resp = await self._fault_response(*fault)
            self._record(Call("token", "POST", path, resp.status_code, body=redacted, fault=str(fault[0])))
            return resp

        def aad_error(status: int, error: str, code: int, desc: str) -> JSONResponse:
            return JSONResponse(
                {"error": error, "error_description": f"AADSTS{code}: {desc}", "error_codes": [code]},
                status_code=status,
            )

        scopes = form.get("scope", "").split()
        if form.get("grant_type") != "client_credentials":
            resp = aad_error(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        elif form.get("client_id") != self.app_id:
            resp = aad_error(400, "unauthorized_client", 700016, "Application not found in the directory.")
        elif form.get("client_secret") != self.app_secret:
            resp = aad_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
        elif BOTFRAMEWORK_SCOPE not in scopes:
            resp = aad_error(
                400, "invalid_scope", 1002012, f"The provided value for scope {scopes} is not valid."
            )
        else:
            resp = JSONResponse(
                {
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "ext_expires_in": 3599,
                    "access_token": self.issue_connector_token(),
                }
            )
        self._record(Call("token", "POST", path, resp.status_code, body=redacted))
        return resp

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def _new_activity_id(self) -> str:
        with self._lock:
            return str(next(self._ids))

    def _route(self, method: str, rest: str) -> tuple[str, str | None, str | None, str | None] | None:
        seg = rest.strip("/").split("/")  # ["v3", "conversations", cid, "activities", aid]
        if len(seg) < 2 or seg[1] != "conversations":
            return None
        cid = seg[2] if len(seg) > 2 else None
        sub = seg[3].lower() if len(seg) > 3 else None
        extra = seg[4] if len(seg) > 4 else None
        table: dict[tuple[str, int, str | None], str] = {
            ("POST", 2, None): "create_conversation",
            ("GET", 2, None): "get_conversations",
            ("POST", 4, "activities"): "send",
            ("POST", 5, "activities"): "reply",
            ("PUT", 5, "activities"): "update",
            ("DELETE", 5, "activities"): "delete",
            ("GET", 4, "members"): "get_members",
            ("GET", 5, "members"): "get_member",
            ("GET", 4, "pagedmembers"): "get_paged_members",
        }
        op = table.get((method, len(seg), sub))
        return (
            (op, cid, extra if sub == "activities" else None, extra if sub == "members" else None)
            if op
            else None
        )

    async def _connector(self, request: Request, method: str, rest: str) -> Response:
        routed = self._route(method, rest)
        path = request.url.path
        if routed is None:
            return _error(404, "NotFound", f"No connector route for {method} {path}")
        op, cid, aid, member_id = routed
        body: Any = None
        raw = await request.body()
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return _error(400, "BadSyntax", "Request body is not valid JSON.")
        auth = self._check_connector_token(request.headers.get("authorization"))
        call = Call(op, method, path, 0, cid, aid, body, dict(request.query_params), auth)
        try:
            response = await self._connector_op(call, op, cid, aid, member_id, body)
        except Exception as exc:  # pragma: no cover - bug in the fake
            response = _error(500, "FakeError", repr(exc))
        call.status = response.status_code
        with contextlib.suppress(ValueError):
            call.response = json.loads(bytes(response.body)) if response.body else None
        self._record(call)
        return response

    async def _connector_op(
        self, call: Call, op: str, cid: str | None, aid: str | None, member_id: str | None, body: Any
    ) -> Response:
        if self.require_auth and call.auth != "valid":
            return JSONResponse(
                {"message": "Authorization has been denied for this request."}, status_code=401
            )
        fault = self._take_fault(op, cid)
        if fault:
            call.fault = str(fault[0])
            return await self._fault_response(*fault)
        wait = self._rate_check(op, cid)
        if wait is not None:
            call.fault = "rate_limit"
            return _error(
                429, "Throttled", "Too many requests for this conversation.", self._retry_after_headers(wait)
            )
        if op == "create_conversation":
            return self._create_conversation(call, body or {})
        if op == "get_conversations":
            with self._lock:
                convs = [
                    {"id": c.id, "conversationType": c.conversation_type}
                    for c in self._conversations.values()
                ]
            return JSONResponse({"conversations": convs, "continuationToken": None})
        assert cid is not None
        with self._lock:
            conv = self._conversations.get(cid)
            if conv is None:
                if self.strict_conversations:
                    return _error(404, "ConversationNotFound", "Conversation not found.")
                conv = self._conversations.setdefault(cid, _Conversation(cid, tenant_id=self.tenant_id))
            if conv.bot_removed:
                return _error(
                    403, "BotNotInConversationRoster", "The bot is not part of the conversation roster."
                )
            if op in ("send", "reply"):
                if not isinstance(body, dict) or not body.get("type"):
                    return _error(400, "BadArgument", "Activity type is required.")
                new_id = self._new_activity_id()
                stored = {**copy.deepcopy(body), "id": new_id, "timestamp": _now_iso()}
                stored.setdefault("conversation", {"id": cid})
                if op == "reply":
                    stored["replyToId"] = aid
                conv.activities[new_id] = stored
                call.activity_id = new_id
                return JSONResponse({"id": new_id}, status_code=201)
            if op in ("update", "delete"):
                assert aid is not None
                if aid not in conv.activities or aid in conv.deleted:
                    return _error(
                        404, "ActivityNotFoundInConversation", "Activity not found in conversation."
                    )
                if op == "delete":
                    conv.deleted.add(aid)
                    return JSONResponse({}, status_code=200)
                if not isinstance(body, dict):
                    return _error(400, "BadArgument", "Activity is required.")
                previous = conv.activities[aid]
                updated = {**copy.deepcopy(body), "id": aid, "timestamp": previous.get("timestamp")}
                updated["lastModified"] = _now_iso()
                updated["_updates"] = previous.get("_updates", 0) + 1
                updated.setdefault("conversation", previous.get("conversation", {"id": cid}))
                if "replyToId" in previous:
                    updated.setdefault("replyToId", previous["replyToId"])
                conv.activities[aid] = updated
                return JSONResponse({"id": aid}, status_code=200)
            members = list(conv.members.values())
            if op == "get_members":
                return JSONResponse(members)
            if op == "get_paged_members":
                return JSONResponse({"members": members, "continuationToken": None})
            if op == "get_member":
                for m in members:
                    if member_id in (m.get("id"), m.get("aadObjectId"), m.get("userPrincipalName")):
                        return JSONResponse(m)
                return _error(
                    404, "MemberNotFoundInConversation", "The member was not found in the conversation."
                )
        return _error(404, "NotFound", op)  # pragma: no cover

    def _create_conversation(self, call: Call, body: dict[str, Any]) -> Response:
        channel_data = body.get("channelData") or {}
        tenant = body.get("tenantId") or (channel_data.get("tenant") or {}).get("id")
        if not tenant:
            return _error(400, "BadArgument", "Tenant ID is required for creating a conversation.")
        members = body.get("members") or []
        channel_id = (channel_data.get("channel") or {}).get("id")
        activity = body.get("activity")
        with self._lock:
            if channel_id:  # new thread in a channel
                if not activity:
                    return _error(400, "BadArgument", "An activity is required to start a channel thread.")
                aid = self._new_activity_id()
                cid = f"{channel_id};messageid={aid}"
                conv_type = "channel"
            else:
                if not members:
                    return _error(400, "BadArgument", "Members are required.")
                if body.get("isGroup") or len(members) > 1:
                    return _error(400, "BadArgument", "Bots can only create 1:1 chats or channel threads.")
                digest = hashlib.sha256(f"{self.app_id}|{members[0]['id']}".encode()).digest()
                cid = "a:1" + base64.urlsafe_b64encode(digest).decode().rstrip("=")  # stable per user
                aid = self._new_activity_id() if activity else None
                conv_type = "personal"
            conv = self._conversations.setdefault(cid, _Conversation(cid, conv_type, tenant))
            conv.bot_removed = False
            for m in members:
                conv.members.setdefault(m["id"], {**m})
            if activity and aid:
                conv.activities[aid] = {**copy.deepcopy(activity), "id": aid, "timestamp": _now_iso()}
        call.conversation_id, call.activity_id = cid, aid
        result: dict[str, Any] = {"id": cid}
        if aid:
            result["activityId"] = aid
        return JSONResponse(result, status_code=201)

    async def _control(self, request: Request, method: str, action: str) -> Response:
        if method == "GET" and action == "calls":
            return JSONResponse([c.to_dict() for c in self.calls])
        if method == "POST" and action == "reset":
            self.reset()
            return JSONResponse({"ok": True})
        if method == "GET" and action == "activities":
            return JSONResponse(self.activities(request.query_params.get("conversation_id", "")))
        if method == "POST" and action == "fail_next":
            data = await request.json()
            kind = data.get("kind", 429)
            self.fail_next(
                data.get("op", "*"), int(data.get("n", 1)), kind if kind == "timeout" else int(kind)
            )
            return JSONResponse({"ok": True})
        if method == "POST" and action == "token":  # inbound channel token for manual testing
            data = await request.json() if await request.body() else {}
            return JSONResponse({"token": self.mint_token(**data)})
        return _error(404, "NotFound", f"unknown control {method} {action}")

    # ---- inbound activity builders ----------------------------------------------------------------

    def _user(self, from_id: str | None, name: str, aad_object_id: str | None) -> dict[str, Any]:
        aad = aad_object_id or str(uuid.uuid5(uuid.NAMESPACE_DNS, from_id or name))
        return {"id": from_id or f"29:1{aad.replace('-', '')}", "name": name, "aadObjectId": aad}

    def _conversation_ids(
        self, conversation_type: str, conversation_id: str | None, activity_id: str
    ) -> tuple:
        if conversation_type == "personal":
            return conversation_id or f"a:1{uuid.uuid4().hex}", None
        if conversation_type == "groupChat":
            return conversation_id or f"19:{uuid.uuid4().hex}@thread.v2", None
        if conversation_type == "channel":
            channel = (conversation_id or f"19:{uuid.uuid4().hex}@thread.tacv2").split(";")[0]
            return conversation_id or f"{channel};messageid={activity_id}", channel
        raise ValueError(f"conversation_type must be personal|groupChat|channel, not {conversation_type!r}")

    def _base_activity(
        self,
        type_: str,
        *,
        from_id: str | None,
        from_name: str,
        aad_object_id: str | None,
        conversation_id: str | None,
        conversation_type: str,
        service_url: str | None,
        activity_id: str | None,
        team_id: str | None = None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        activity_id = activity_id or self._new_activity_id()
        user = self._user(from_id, from_name, aad_object_id)
        cid, channel = self._conversation_ids(conversation_type, conversation_id, activity_id)
        conversation: dict[str, Any] = {
            "conversationType": conversation_type,
            "tenantId": self.tenant_id,
            "id": cid,
        }
        channel_data: dict[str, Any] = {"tenant": {"id": self.tenant_id}}
        if conversation_type != "personal":
            conversation["isGroup"] = True
        if channel:
            team = team_id or channel
            channel_data.update(
                {
                    "teamsChannelId": channel,
                    "teamsTeamId": team,
                    "channel": {"id": channel},
                    "team": {"id": team},
                }
            )
        self.add_conversation(
            cid,
            conversation_type=conversation_type,
            members=[{**user, "tenantId": self.tenant_id, "userRole": "user"}],
        )
        return {
            "type": type_,
            "id": activity_id,
            "timestamp": _now_iso(),
            "localTimestamp": dt.datetime.now().astimezone().isoformat(),
            "serviceUrl": service_url or self.service_url,
            "channelId": "msteams",
            "from": user,
            "conversation": conversation,
            "recipient": {"id": self.bot_id, "name": self.bot_name},
            "entities": [{"type": "clientInfo", "locale": locale, "country": "NL", "platform": "Web"}],
            "channelData": channel_data,
            "locale": locale,
        }

    def message_activity(
        self,
        text: str,
        from_id: str | None = None,
        aad_object_id: str | None = None,
        conversation_id: str | None = None,
        conversation_type: Literal["personal", "groupChat", "channel"] = "personal",
        service_url: str | None = None,
        activity_id: str | None = None,
        mentions: list[dict[str, str]] | None = None,
        *,
        mention_bot: bool | None = None,
        from_name: str = "Test User",
        reply_to_id: str | None = None,
        value: Any = None,
    ) -> dict[str, Any]:
        """A Teams message. In groupChat/channel the bot is @mentioned by default (Teams only delivers
        those when mentioned); ``mentions`` = extra ``[{"id": "29:..", "name": ".."}]`` (the ``<at>`` tags
        are prepended to ``text``)."""
        act = self._base_activity(
            "message",
            from_id=from_id,
            from_name=from_name,
            aad_object_id=aad_object_id,
            conversation_id=conversation_id,
            conversation_type=conversation_type,
            service_url=service_url,
            activity_id=activity_id,
        )
        if mention_bot is None:
            mention_bot = conversation_type != "personal"
        tagged = ([{"id": self.bot_id, "name": self.bot_name}] if mention_bot else []) + list(mentions or [])
        prefix = ""
        for m in tagged:
            tag = f"<at>{m['name']}</at>"
            prefix += tag + " "
            act["entities"].append(
                {"type": "mention", "text": tag, "mentioned": {"id": m["id"], "name": m["name"]}}
            )
        act["text"] = prefix + text if text else text
        act["textFormat"] = "plain"
        if reply_to_id:
            act["replyToId"] = reply_to_id
        if value is not None:
            act["value"] = value
        return act

    def submit_activity(
        self, value: dict[str, Any], *, reply_to_id: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Adaptive Card ``Action.Submit``: a message without text whose ``value`` is the card's data."""
        act = self.message_activity("", reply_to_id=reply_to_id, value=value, mention_bot=False, **kwargs)
        act.pop("text", None)
        return act

    def invoke_action_execute(
        self,
        verb: str,
        data: dict[str, Any] | None = None,
        *,
        action_id: str | None = None,
        reply_to_id: str | None = None,
        trigger: str = "manual",
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Universal Action ``Action.Execute``: invoke ``adaptiveCard/action``. The bot must answer the
        HTTP request with 200 + ``{"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive",
        "value": <card>}`` (or ``...activity.message`` + text)."""
        act = self._base_activity(
            "invoke",
            from_id=kwargs.pop("from_id", None),
            from_name=kwargs.pop("from_name", "Test User"),
            aad_object_id=kwargs.pop("aad_object_id", None),
            conversation_id=kwargs.pop("conversation_id", None),
            conversation_type=kwargs.pop("conversation_type", "personal"),
            service_url=kwargs.pop("service_url", None),
            activity_id=kwargs.pop("activity_id", None),
        )
        act["name"] = "adaptiveCard/action"
        act["value"] = {
            "action": {
                "type": "Action.Execute",
                "id": action_id or uuid.uuid4().hex,
                "verb": verb,
                "data": data or {},
            },
            "trigger": trigger,
        }
        if reply_to_id:
            act["replyToId"] = reply_to_id
        return act

    def _meeting_event(
        self, name: str, value_time_key: str, title: str, meeting_id: str | None, **kwargs: Any
    ):
        thread = kwargs.pop("conversation_id", None) or f"19:meeting_{uuid.uuid4().hex}@thread.v2"
        act = self._base_activity(
            "event",
            from_id=kwargs.pop("from_id", None),
            from_name=kwargs.pop("from_name", "Test User"),
            aad_object_id=kwargs.pop("aad_object_id", None),
            conversation_id=thread,
            conversation_type="groupChat",
            service_url=kwargs.pop("service_url", None),
            activity_id=kwargs.pop("activity_id", None),
        )
        mid = meeting_id or base64.b64encode(f"0#{thread}#0".encode()).decode()
        act["name"] = name
        act["channelData"].update({"source": None, "meeting": {"id": mid}})
        act["value"] = {  # PascalCase, as Teams sends it
            "Id": mid,
            "MeetingType": kwargs.pop("meeting_type", "Scheduled"),
            "JoinUrl": f"https://teams.microsoft.com/l/meetup-join/{thread}/0",
            "Title": title,
            value_time_key: kwargs.pop("at", None) or _now_iso(),
        }
        return act

    def meeting_start(
        self, title: str = "Weekly sync", meeting_id: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        return self._meeting_event(
            "application/vnd.microsoft.meetingStart", "StartTime", title, meeting_id, **kwargs
        )

    def meeting_end(
        self, title: str = "Weekly sync", meeting_id: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        return self._meeting_event(
            "application/vnd.microsoft.meetingEnd", "EndTime", title, meeting_id, **kwargs
        )

    def installation_update(
        self,
        action: Literal["add", "remove"] = "add",
        conversation_type: Literal["personal", "groupChat", "channel"] = "personal",
        **kwargs: Any,
    ) -> dict[str, Any]:
        act = self._base_activity(
            "installationUpdate",
            from_id=kwargs.pop("from_id", None),
            from_name=kwargs.pop("from_name", "Test User"),
            aad_object_id=kwargs.pop("aad_object_id", None),
            conversation_id=kwargs.pop("conversation_id", None),
            conversation_type=conversation_type,
            service_url=kwargs.pop("service_url", None),
            activity_id=kwargs.pop("activity_id", None),
        )
        act["action"] = action
        act["channelData"]["source"] = {"name": "message"}
        act["channelData"]["settings"] = {"selectedChannel": {"id": act["channelData"].get("teamsChannelId")}}
        if action == "remove":
            self.remove_bot(act["conversation"]["id"])
        else:
            self.restore_bot(act["conversation"]["id"])
        return act

    def conversation_update(
        self, members_added: list[dict[str, Any]] | None = None, *, bot_added: bool = True, **kwargs: Any
    ) -> dict[str, Any]:
        """conversationUpdate (Teams sends it with installationUpdate when the bot is added)."""
        act = self._base_activity(
            "conversationUpdate",
            from_id=kwargs.pop("from_id", None),
            from_name=kwargs.pop("from_name", "Test User"),
            aad_object_id=kwargs.pop("aad_object_id", None),
            conversation_id=kwargs.pop("conversation_id", None),
            conversation_type=kwargs.pop("conversation_type", "personal"),
            service_url=kwargs.pop("service_url", None),
            activity_id=kwargs.pop("activity_id", None),
        )
        added = list(members_added or []) + ([{"id": self.bot_id}] if bot_added else [])
        act["membersAdded"] = added
        act["channelData"]["eventType"] = "teamMemberAdded"
        return act

    # ---- delivering inbound activities to the bot ---------------------------------------------------

    async def post_activity(
        self, bot_url: str, activity: dict[str, Any], *, token: str | None = None, timeout: float = 15.0
    ) -> httpx.Response:
        """POST an activity to the bot's messaging endpoint as the channel would (Bearer channel token
        whose ``serviceurl`` matches the activity; ``token=""`` sends no Authorization header)."""
        if token is None:
            token = self.mint_token(service_url=activity.get("serviceUrl"))
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(timeout=timeout) as client:
            return await client.post(bot_url, json=activity, headers=headers)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Teams Bot Connector + token service")
    parser.add_argument("--port", type=int, default=3979)
    parser.add_argument("--app-id", default=DEFAULT_APP_ID)
    parser.add_argument("--app-secret", default=DEFAULT_APP_SECRET)
    parser.add_argument("--tenant-id", default=DEFAULT_TENANT_ID)
    parser.add_argument("--no-auth", action="store_true", help="accept connector calls without a token")
    parser.add_argument("--no-rate-limit", action="store_true")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    args = parser.parse_args(argv)
    fake = FakeTeams(
        app_id=args.app_id,
        app_secret=args.app_secret,
        tenant_id=args.tenant_id,
        require_auth=not args.no_auth,
        rate_limiting=not args.no_rate_limit,
        fault_rate=args.fault_rate,
        base_url=f"http://127.0.0.1:{args.port}",
    )
    print(f"fake Teams on {fake.base_url}  serviceUrl={fake.service_url}  token={fake.token_url}")
    uvicorn.run(fake.app, host="127.0.0.1", port=args.port, log_level="info", lifespan="off")


if __name__ == "__main__":
    main()
