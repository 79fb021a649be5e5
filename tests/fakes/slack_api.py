"""A local fake of the Slack Web API (plus helpers for *inbound* Slack requests), for tests and benches.

Point the real client at it unchanged::

    fake = FakeSlack()
    with serve(fake.app) as url:
        client = AsyncWebClient(token=DEFAULT_TOKEN, base_url=f"{url}/api/")

Faithful to Slack (api.slack.com / docs.slack.dev):
* transport: ``POST|GET /api/<method>``; params from the query string, a form-encoded body (JSON
  fields such as ``blocks``/``view`` given as JSON strings) or a JSON body; token from
  ``Authorization: Bearer`` or a ``token`` param; answers ``{"ok": true, ...}`` /
  ``{"ok": false, "error": ...}`` with HTTP 200 (``unknown_method``, ``not_authed``, ``invalid_auth``,
  ``channel_not_found``, ``msg_too_long``, ``invalid_blocks``, ...);
* rate limits: HTTP 429 + integer ``Retry-After`` header + ``{"ok": false, "error": "ratelimited"}``;
  chat.postMessage ~1 msg/s per channel with a small burst, optional workspace-wide cap, optional
  per-method tiers (``enforce_tiers``);
* ids and shapes: ``ts`` strings unique and increasing, DMs to ``U…`` open a ``D…`` channel,
  users.list cursor pagination (``response_metadata.next_cursor``), ``locale`` only with
  ``include_locale``, views with ``id``/``hash``;
* Block Kit limits (see :func:`validate_blocks`): 50 blocks per message (100 per view), section text
  3000, fields 10 x 2000, header 150, unique block_id <= 255 and action_id <= 255, actions 25 elements,
  context 10 elements, button text 75 and value 2000, option text 75 and value 150, 100 options, select
  placeholder 150, no empty text, image URL and alt text; input blocks need a label and an element;
  modals: title, submit and close <= 24, ``private_metadata`` <= 3000, ``submit`` required with inputs;
  message text 40,000 chars;
* users: custom profile fields (``profile.fields``) only from ``users.profile.get``, as Slack does
  (users.list, users.info and ``team_join`` leave them out);
* trigger ids expire 3 s after they were issued (``expired_trigger_id``), like Slack's;
* tokens: in the ``Authorization`` header, or as a ``token`` form/query parameter; a JSON body must use
  the header (Slack ignores a token inside JSON: ``not_authed``);
* channels: ``chat:write.public`` is assumed for public channels; a private channel the bot is not a
  member of answers ``channel_not_found`` (Slack does not reveal it).

Simplified: no other scopes; JSON bodies are accepted for every method; no files; threads are only
stored as ``thread_ts``; the bot user itself appears in users.list (like real Slack).

Time: ``time_scale`` < 1 makes the rate-limit clock run faster (a 1 s window lasts ``time_scale``
real seconds), so benches can run quickly. ``Retry-After`` stays an integer count of *fake* seconds
(as Slack sends); the real wait is ``Retry-After * time_scale``, also sent as the non-Slack header
``X-Fake-Retry-After-Real``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import math
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

JsonDict = dict[str, Any]

DEFAULT_TOKEN = "xoxb-0000-fake-token"
TEAM_ID = "T0FAKETEAM"
TEAM_DOMAIN = "fake-team"
BOT_USER_ID = "U0FAKEBOT"
BOT_ID = "B0FAKEBOT"
APP_ID = "A0FAKEAPP"
GENERAL_CHANNEL = "C0GENERAL"
FAULT_KINDS = ("429", "500", "503", "timeout")
FAULT_BODIES = {
    "429": (429, "ratelimited"),
    "500": (500, "internal_error"),
    "503": (503, "service_unavailable"),
}
JSON_PARAMS = ("blocks", "attachments", "view", "metadata", "profile")
TEXT_TYPES = ("plain_text", "mrkdwn")
TRIGGER_LIFETIME = 3.0
"""Seconds a trigger id can open a modal (Slack: 3)."""
# Documented tiers (calls/minute); only enforced with ``enforce_tiers=True``. chat.postMessage is "special".
TIERS = {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0}
METHOD_TIERS = {
    "auth.test": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "chat.delete": 3,
    "views.open": 4,
    "views.push": 4,
    "views.publish": 4,
    "views.update": 4,
    "users.list": 2,
    "users.info": 4,
    "users.profile.get": 4,
    "conversations.info": 3,
    "conversations.members": 4,
    "conversations.open": 3,
    "reactions.get": 3,
    "reactions.add": 3,
}
_counter = itertools.count(1)


class ApiError(Exception):
    def __init__(self, error: str, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.status, self.extra = error, status, extra


@dataclass
class Call:
    method: str
    params: JsonDict
    at: float  # time.monotonic() (real, unscaled) when the request arrived
    status: int = 200
    error: str | None = None


@dataclass
class User:
    id: str
    name: str
    real_name: str
    tz: str = "Europe/Amsterdam"
    locale: str = "nl-NL"
    deleted: bool = False
    is_bot: bool = False
    profile_fields: dict[str, JsonDict] = field(default_factory=dict)
    email: str | None = None
    display_name: str = ""

    def profile(self) -> JsonDict:
        return {
            "real_name": self.real_name,
            "display_name": self.display_name,
            "email": self.email,
            "fields": self.profile_fields,
            "real_name_normalized": self.real_name,
        }

    def listed_profile(self) -> JsonDict:
        """The profile in users.list / users.info / events: without the custom fields."""
        return {key: value for key, value in self.profile().items() if key != "fields"}

    def member(self, include_locale: bool = False) -> JsonDict:
        zone = ZoneInfo(self.tz)
        now = datetime.now(zone)
        offset = now.utcoffset()
        out: JsonDict = {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "tz": self.tz,
            "tz_label": now.tzname(),
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "profile": self.listed_profile(),
            "updated": int(time.time()),
        }
        if include_locale:
            out["locale"] = self.locale
        return out


@dataclass
class Channel:
    id: str
    name: str
    members: list[str] = field(default_factory=list)
    is_private: bool = False
    dm_user: str | None = None

    def info(self) -> JsonDict:
        if self.dm_user:
            return {"id": self.id, "is_im": True, "user": self.dm_user, "is_open": True, "created": 0}
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": False,
            "is_im": False,
            "is_private": self.is_private,
            "is_member": True,
            "is_archived": False,
            "created": 0,
            "num_members": len(self.members),
        }


class _Bucket:
    """Token bucket on the (scaled) fake clock."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.last = rate, burst, burst, now

    def wait(self, now: float) -> float:
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


_issued: dict[str, float] = {}  # trigger id -> time.time() it was issued


def new_trigger_id() -> str:
    """A trigger id as Slack shapes them; it opens a modal for `TRIGGER_LIFETIME` seconds."""
    now = time.time()
    trigger = f"{int(now)}.{next(_counter)}.{hashlib.sha1(str(time.time_ns()).encode()).hexdigest()[:32]}"
    _issued[trigger] = now
    return trigger


def trigger_expired(trigger: str) -> bool:
    """Past its lifetime (a trigger id not made here counts from the seconds it starts with)."""
    issued = _issued.get(trigger)
    if issued is None:
        issued = float(trigger.split(".", 1)[0]) + 1.0  # the seconds are rounded down
    return time.time() - issued > TRIGGER_LIFETIME


def _cursor(prefix: str, key: str) -> str:
    return base64.b64encode(f"{prefix}:{key}".encode()).decode()


def _paginate(items: list[str], params: JsonDict, prefix: str) -> tuple[list[str], str]:
    start = 0
    if params.get("cursor"):
        try:
            start = items.index(base64.b64decode(str(params["cursor"])).decode().split(":", 1)[1])
        except (ValueError, IndexError, UnicodeDecodeError) as exc:
            raise ApiError("invalid_cursor") from exc
    limit = int(params.get("limit") or 0) or 1000  # Slack: 0 means "server picks", max ~1000
    page = items[start : start + limit]
    return page, (_cursor(prefix, items[start + limit]) if start + limit < len(items) else "")


def _too_long(limit: int, where: str) -> str:
    return f"[ERROR] must be less than {limit + 1} characters [json-pointer:{where}]"


def _check_text(obj: Any, limit: int, where: str, errs: list[str], plain_only: bool = False) -> None:
    """A text object: a type, non-empty text within ``limit`` (``plain_only``: ``plain_text`` only)."""
    if not isinstance(obj, dict) or obj.get("type") not in (("plain_text",) if plain_only else TEXT_TYPES):
        errs.append(f"[ERROR] must be a valid text object [json-pointer:{where}]")
        return
    text = str(obj.get("text", ""))
    if not text.strip():
        errs.append(f"[ERROR] must be more than 0 characters [json-pointer:{where}/text]")
    elif len(text) > limit:
        errs.append(_too_long(limit, f"{where}/text"))


def _check_element(element: Any, where: str, errs: list[str], action_ids: set[str]) -> None:
    """An interactive element (button, select, input): ids, texts, values and options within limits."""
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        errs.append(f"[ERROR] missing required field: type [json-pointer:{where}]")
        return
    kind = element["type"]
    action_id = element.get("action_id")
    if action_id is not None:
        if len(str(action_id)) > 255:
            errs.append(_too_long(255, f"{where}/action_id"))
        if action_id in action_ids:
            errs.append(f"[ERROR] action_id already exists [json-pointer:{where}/action_id]")
        action_ids.add(str(action_id))
    if kind == "button":
        _check_text(element.get("text"), 75, f"{where}/text", errs, plain_only=True)
        if len(str(element.get("value", ""))) > 2000:
            errs.append(_too_long(2000, f"{where}/value"))
        if element.get("style") not in (None, "primary", "danger"):
            errs.append(f"[ERROR] must be a valid enum value [json-pointer:{where}/style]")
    elif kind in ("static_select", "external_select"):
        if "placeholder" in element:
            _check_text(element["placeholder"], 150, f"{where}/placeholder", errs, plain_only=True)
        options = element.get("options")
        if kind == "static_select":
            if not isinstance(options, list) or not options:
                errs.append(f"[ERROR] must provide at least 1 item [json-pointer:{where}/options]")
                options = []
            elif len(options) > 100:
                errs.append(f"[ERROR] no more than 100 items allowed [json-pointer:{where}/options]")
            for j, option in enumerate(options):
                _check_option(option, f"{where}/options/{j}", errs)
        if "initial_option" in element:
            _check_option(element["initial_option"], f"{where}/initial_option", errs)
    elif kind == "plain_text_input":
        if "placeholder" in element:
            _check_text(element["placeholder"], 150, f"{where}/placeholder", errs, plain_only=True)
        if not 0 < int(element.get("max_length", 3000)) <= 3000:
            errs.append(f"[ERROR] must be between 1 and 3000 [json-pointer:{where}/max_length]")
        if len(str(element.get("initial_value", ""))) > int(element.get("max_length", 3000)):
            errs.append(f"[ERROR] longer than max_length [json-pointer:{where}/initial_value]")


def _check_option(option: Any, where: str, errs: list[str]) -> None:
    if not isinstance(option, dict):
        errs.append(f"[ERROR] must be an object [json-pointer:{where}]")
        return
    _check_text(option.get("text"), 75, f"{where}/text", errs)
    value = str(option.get("value", ""))
    if not value or len(value) > 150:
        errs.append(f"[ERROR] must be 1 to 150 characters [json-pointer:{where}/value]")


def validate_blocks(blocks: Any, max_blocks: int = 50, pointer: str = "/blocks") -> list[str]:
    """Return Slack-style ``[ERROR] ...`` messages for documented Block Kit limits (empty list if valid)."""
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{pointer}]"]
    errs: list[str] = []
    if len(blocks) > max_blocks:
        errs.append(f"[ERROR] no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    block_ids: set[str] = set()
    action_ids: set[str] = set()
    for i, b in enumerate(blocks):
        p = f"{pointer}/{i}"
        if not isinstance(b, dict) or not isinstance(b.get("type"), str):
            errs.append(f"[ERROR] missing required field: type [json-pointer:{p}]")
            continue
        kind = b["type"]
        if "block_id" in b:
            block_id = str(b["block_id"])
            if len(block_id) > 255:
                errs.append(_too_long(255, f"{p}/block_id"))
            if block_id in block_ids:
                errs.append(f"[ERROR] block_id already exists [json-pointer:{p}/block_id]")
            block_ids.add(block_id)
        if kind == "section":
            if "text" not in b and "fields" not in b:
                errs.append(f"[ERROR] must provide at least one of text or fields [json-pointer:{p}]")
            if "text" in b:
                _check_text(b["text"], 3000, f"{p}/text", errs)
            fields = b.get("fields") or []
            if len(fields) > 10:
                errs.append(f"[ERROR] no more than 10 items allowed [json-pointer:{p}/fields]")
            for j, f in enumerate(fields):
                _check_text(f, 2000, f"{p}/fields/{j}", errs)
            if "accessory" in b:
                _check_element(b["accessory"], f"{p}/accessory", errs, action_ids)
        elif kind == "header":
            _check_text(b.get("text"), 150, f"{p}/text", errs, plain_only=True)
        elif kind == "actions":
            elements = b.get("elements") or []
            if not elements or len(elements) > 25:
                errs.append(f"[ERROR] must have 1 to 25 items [json-pointer:{p}/elements]")
            for j, element in enumerate(elements):
                _check_element(element, f"{p}/elements/{j}", errs, action_ids)
        elif kind == "context":
            elements = b.get("elements") or []
            if not elements or len(elements) > 10:
                errs.append(f"[ERROR] must have 1 to 10 items [json-pointer:{p}/elements]")
            for j, element in enumerate(elements):
                if isinstance(element, dict) and element.get("type") in TEXT_TYPES:
                    _check_text(element, 2000, f"{p}/elements/{j}", errs)
        elif kind == "image":
            url = str(b.get("image_url", ""))
            if not url.startswith(("http://", "https://")) or len(url) > 3000:
                errs.append(f"[ERROR] must be a valid URL [json-pointer:{p}/image_url]")
            alt = str(b.get("alt_text", ""))
            if not alt or len(alt) > 2000:
                errs.append(f"[ERROR] must be 1 to 2000 characters [json-pointer:{p}/alt_text]")
        elif kind == "input":
            _check_text(b.get("label"), 2000, f"{p}/label", errs, plain_only=True)
            if not isinstance(b.get("element"), dict):
                errs.append(f"[ERROR] missing required field: element [json-pointer:{p}]")
            else:
                _check_element(b["element"], f"{p}/element", errs, set())
    return errs


def validate_view(view: JsonDict, vtype: str | None) -> list[str]:
    """Slack-style errors for a modal or App Home view."""
    errs = validate_blocks(view.get("blocks", []), 100, "/view/blocks")
    if view.get("type") not in ((vtype,) if vtype else ("modal", "home")):
        errs.append("[ERROR] must be a valid enum value [json-pointer:/view/type]")
    if len(str(view.get("private_metadata", ""))) > 3000:
        errs.append(_too_long(3000, "/view/private_metadata"))
    if view.get("type") == "modal":
        _check_text(view.get("title"), 24, "/view/title", errs, plain_only=True)
        for name in ("submit", "close"):
            if name in view:
                _check_text(view[name], 24, f"/view/{name}", errs, plain_only=True)
        has_inputs = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_inputs and "submit" not in view:
            errs.append("[ERROR] submit is required when an input block is included [json-pointer:/view]")
    return errs


class FakeSlack:
    def __init__(
        self,
        rate_per_channel: float | None = 1.0,
        workspace_rate: float | None = None,
        time_scale: float = 1.0,
        *,
        burst: float = 2.0,
        workspace_burst: float | None = None,
        token: str | None = DEFAULT_TOKEN,
        enforce_tiers: bool = False,
        auto_channels: bool = False,
        fault_rate: float = 0.0,
        fault_kinds: Iterable[str] = ("429", "500", "503"),
        timeout_delay: float = 3.0,
        seed: int = 1234,
    ) -> None:
        """``token=None`` accepts any ``xox…`` token; ``auto_channels`` creates unknown ``C…`` ids
        on first post; ``burst`` is the per-channel burst allowance (tokens)."""
        self.rate_per_channel, self.workspace_rate, self.time_scale = (
            rate_per_channel,
            workspace_rate,
            time_scale,
        )
        self.burst, self.workspace_burst = burst, workspace_burst
        self.token, self.enforce_tiers, self.auto_channels = token, enforce_tiers, auto_channels
        self.fault_rate, self.fault_kinds, self.timeout_delay = fault_rate, tuple(fault_kinds), timeout_delay
        self.rng = random.Random(seed)
        self._lock = threading.RLock()
        self._t0 = time.monotonic()
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.add_user(BOT_USER_ID, "klantpet", "Klantpet", is_bot=True)
        self.add_channel(GENERAL_CHANNEL, "general")
        self.reset()
        self.app = Starlette(
            routes=[
                Route("/api/{method:path}", self._api, methods=["GET", "POST"]),
                Route("/_fake/calls", self._http_calls, methods=["GET"]),
                Route("/_fake/messages", self._http_messages, methods=["GET"]),
                Route("/_fake/reset", self._http_reset, methods=["POST"]),
                Route("/_fake/users", self._http_users, methods=["POST"]),
                Route("/_fake/channels", self._http_channels, methods=["POST"]),
                Route("/_fake/fail_next", self._http_fail_next, methods=["POST"]),
            ]
        )

    # ----- state & helpers for tests -----
    def reset(self) -> None:
        """Forget calls, messages, views, rate-limit state and pending faults (keeps users, channels)."""
        with self._lock:
            self.calls: list[Call] = []
            self.posted: dict[str, dict[str, JsonDict]] = {}  # channel id -> ts -> latest message
            self.ephemerals: list[JsonDict] = []
            self.views: dict[str, JsonDict] = {}  # modal view id -> view
            self.home_views: dict[str, JsonDict] = {}  # user id -> published App Home view
            self.rate_limited = 0
            self.faults: dict[str, int] = {}
            self._pending: list[list[Any]] = []  # [method, remaining, kind, delay]
            self._buckets: dict[str, _Bucket] = {}
            self._last_ts = 0
            for ch in list(self.channels.values()):
                if ch.dm_user:
                    del self.channels[ch.id]

    def add_user(
        self,
        id: str,
        name: str,
        real_name: str = "",
        tz: str = "Europe/Amsterdam",
        locale: str = "nl-NL",
        deleted: bool = False,
        is_bot: bool = False,
        profile_fields: dict[str, Any] | None = None,
        email: str | None = None,
        display_name: str = "",
    ) -> User:
        fields = {
            k: (v if isinstance(v, dict) else {"value": str(v), "alt": ""})
            for k, v in (profile_fields or {}).items()
        }
        user = User(
            id,
            name,
            real_name or name,
            tz,
            locale,
            deleted,
            is_bot,
            fields,
            email if email is not None else (None if is_bot else f"{name}@example.com"),
            display_name,
        )
        with self._lock:
            self.users[id] = user
        return user

    def add_channel(
        self, id: str, name: str, members: Iterable[str] = (), is_private: bool = False
    ) -> Channel:
        with self._lock:
            ch = self.channels[id] = Channel(id, name, list(members), is_private)
        return ch

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[JsonDict]:
        """Latest state of non-deleted messages in ``channel`` (``C``/``D`` id, or user id for the DM)."""
        with self._lock:
            cid = self._dm_id(channel) if channel[:1] in "UW" else channel
            return [dict(m) for _, m in sorted(self.posted.get(cid, {}).items())]

    def message(self, channel: str, ts: str) -> JsonDict | None:
        return next((m for m in self.messages(channel) if m["ts"] == ts), None)

    def fail_next(
        self, method: str, n: int = 1, kind: str = "500", delay: float | None = None, retry_after: int = 1
    ) -> None:
        """Make the next ``n`` calls to ``method`` (``"*"`` = any) fail with ``kind``: 429/500/503/timeout.
        ``timeout`` processes the call normally but answers only after ``delay`` seconds (default
        ``timeout_delay``), like a response lost in transit; a ``429`` says ``Retry-After: retry_after``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}")
        with self._lock:
            wait = float(retry_after) if kind == "429" else self.timeout_delay if delay is None else delay
            self._pending.append([method, n, kind, wait])

    # ----- HTTP plumbing -----
    def _now(self) -> float:
        return (time.monotonic() - self._t0) / self.time_scale

    def _retry_after(self, wait: float) -> dict[str, str]:
        secs = max(1, math.ceil(wait))
        return {"Retry-After": str(secs), "X-Fake-Retry-After-Real": f"{secs * self.time_scale:.3f}"}

    @staticmethod
    async def _params(request: Request) -> JsonDict:
        params: JsonDict = dict(request.query_params)
        ctype = request.headers.get("content-type", "")
        body = await request.body()
        if "json" in ctype and body:
            loaded = json.loads(body)
            params.update(loaded if isinstance(loaded, dict) else {})
            params.pop("token", None)  # Slack reads a JSON body's token only from the header
        elif "multipart" in ctype:
            try:
                form = await request.form()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
            except AssertionError:  # python-multipart missing: files are not supported anyway
                pass
        elif body:
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        for key in JSON_PARAMS:
            if isinstance(params.get(key), str) and params[key]:
                with contextlib.suppress(json.JSONDecodeError):
                    params[key] = json.loads(params[key])
        return params

    async def _api(self, request: Request) -> JSONResponse:
        method, arrived = request.path_params["method"], time.monotonic()
        params = await self._params(request)
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else params.get("token")
        params.pop("token", None)
        status, headers, delay = 200, {}, 0.0
        try:
            with self._lock:
                handler = getattr(self, "_m_" + method.replace(".", "_"), None)
                if handler is None:
                    raise ApiError("unknown_method")
                if not token:
                    raise ApiError("not_authed")
                if (self.token is not None and token != self.token) or not str(token).startswith("xox"):
                    raise ApiError("invalid_auth")
                kind, delay = self._fault(method)
                if kind in FAULT_BODIES:
                    code, err = FAULT_BODIES[kind]
                    wait, delay = (delay or 1.0, 0.0) if code == 429 else (0.0, delay)
                    raise ApiError(
                        err, code, **({"_headers": self._retry_after(wait)} if code == 429 else {})
                    )
                if self.enforce_tiers and method in METHOD_TIERS:
                    self._limit(
                        [(f"tier:{method}", TIERS[METHOD_TIERS[method]] / 60, TIERS[METHOD_TIERS[method]])]
                    )
                body: JsonDict = {"ok": True, **handler(params)}
        except ApiError as exc:
            status = exc.status
            headers = exc.extra.pop("_headers", {})
            body = {"ok": False, "error": exc.error, **exc.extra}
        with self._lock:
            self.calls.append(Call(method, params, arrived, status, body.get("error")))
        if delay:
            end = time.monotonic() + delay
            while time.monotonic() < end and not await request.is_disconnected():
                await asyncio.sleep(0.05)
        return JSONResponse(body, status_code=status, headers=headers)

    def _fault(self, method: str) -> tuple[str | None, float]:
        for entry in self._pending:
            if entry[0] in (method, "*") and entry[1] > 0:
                entry[1] -= 1
                kind = str(entry[2])
                self.faults[kind] = self.faults.get(kind, 0) + 1
                return kind, (float(entry[3]) if kind in ("timeout", "429") else 0.0)
        if self.fault_rate and self.rng.random() < self.fault_rate:
            kind = self.rng.choice(self.fault_kinds)
            self.faults[kind] = self.faults.get(kind, 0) + 1
            return kind, (self.timeout_delay if kind == "timeout" else 0.0)
        return None, 0.0

    def _limit(self, specs: list[tuple[str, float, float]]) -> None:
        """specs: (bucket key, rate per fake second, burst). All need a token, else 429 (none consumed)."""
        now = self._now()
        buckets = [self._buckets.setdefault(k, _Bucket(r, b, now)) for k, r, b in specs]
        wait = max((bk.wait(now) for bk in buckets), default=0.0)
        if wait > 0:
            self.rate_limited += 1
            raise ApiError("ratelimited", 429, _headers=self._retry_after(wait))
        for bk in buckets:
            bk.tokens -= 1

    # ----- channels, ids -----
    def _dm_id(self, user_id: str) -> str:
        return "D" + user_id[1:]

    def _channel(self, ref: Any, open_dm: bool = True) -> Channel:
        ref = str(ref or "")
        if ref in self.channels:
            found = self.channels[ref]
            if found.is_private and not found.dm_user and BOT_USER_ID not in found.members:
                raise ApiError("channel_not_found")  # the bot cannot see a private channel it is not in
            return found
        if ref[:1] in "UW" and open_dm and ref in self.users and not self.users[ref].deleted:
            if self.users[ref].is_bot:
                raise ApiError("cannot_dm_bot")
            dm = Channel(self._dm_id(ref), "", [ref, BOT_USER_ID], True, ref)
            self.channels[dm.id] = dm
            return dm
        by_name = next((c for c in self.channels.values() if c.name and c.name == ref.lstrip("#")), None)
        if by_name:
            return by_name
        if self.auto_channels and ref[:1] == "C" and ref.isalnum() and ref.isupper():
            return self.add_channel(ref, ref.lower())
        raise ApiError("channel_not_found")

    def _ts(self) -> str:
        self._last_ts = max(time.time_ns() // 1000, self._last_ts + 1)
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    def _check_message(self, params: JsonDict) -> None:
        text = params.get("text")
        if not text and not params.get("blocks") and not params.get("attachments"):
            raise ApiError("no_text")
        if len(str(text or "")) > 40_000:
            raise ApiError("msg_too_long")
        if params.get("blocks") is not None:
            errs = validate_blocks(params["blocks"])
            if errs:
                raise ApiError("invalid_blocks", errors=errs, response_metadata={"messages": errs})

    def _message(self, params: JsonDict, ts: str) -> JsonDict:
        msg: JsonDict = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "ts": ts,
            "text": params.get("text") or "",
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(key) is not None:
                msg[key] = params[key]
        return msg

    # ----- API methods (each returns the body minus "ok"; raise ApiError for errors) -----
    def _m_auth_test(self, p: JsonDict) -> JsonDict:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Fake Team",
            "user": "klantpet",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, p: JsonDict) -> JsonDict:
        ch = self._channel(p.get("channel"))
        self._check_message(p)
        specs = []
        if self.rate_per_channel:
            specs.append((f"chan:{ch.id}", self.rate_per_channel, self.burst))
        if self.workspace_rate:
            specs.append(
                ("workspace", self.workspace_rate, self.workspace_burst or max(1.0, self.workspace_rate))
            )
        self._limit(specs)
        msg = self._message(p, self._ts())
        self.posted.setdefault(ch.id, {})[msg["ts"]] = msg
        return {"channel": ch.id, "ts": msg["ts"], "message": msg}

    def _m_chat_postEphemeral(self, p: JsonDict) -> JsonDict:
        ch = self._channel(p.get("channel"))
        user = str(p.get("user") or "")
        if user not in self.users:
            raise ApiError("user_not_found")
        if (ch.members or ch.dm_user) and user not in ch.members:
            raise ApiError("user_not_in_channel")
        self._check_message(p)
        msg = {**self._message(p, self._ts()), "channel": ch.id, "to_user": user}
        self.ephemerals.append(msg)
        return {"message_ts": msg["ts"]}

    def _m_chat_update(self, p: JsonDict) -> JsonDict:
        ch = self._channel(p.get("channel"), open_dm=False)
        old = self.posted.get(ch.id, {}).get(str(p.get("ts")))
        if old is None:
            raise ApiError("message_not_found")
        self._check_message({"text": old["text"], **p})
        msg = {**old, **{k: v for k, v in p.items() if k in ("text", "blocks", "attachments", "metadata")}}
        msg["edited"] = {"user": BOT_USER_ID, "ts": self._ts()}
        self.posted[ch.id][old["ts"]] = msg
        return {"channel": ch.id, "ts": old["ts"], "text": msg["text"], "message": msg}

    def _m_chat_delete(self, p: JsonDict) -> JsonDict:
        ch = self._channel(p.get("channel"), open_dm=False)
        if self.posted.get(ch.id, {}).pop(str(p.get("ts")), None) is None:
            raise ApiError("message_not_found")
        return {"channel": ch.id, "ts": p.get("ts")}

    def _view(self, p: JsonDict, vtype: str | None, base: JsonDict | None = None) -> JsonDict:
        view = p.get("view")
        if not isinstance(view, dict):
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: view"]}
            )
        errs = validate_view(view, vtype)
        if errs:
            raise ApiError("invalid_arguments", response_metadata={"messages": errs})
        vid = base["id"] if base else f"V{next(_counter):08d}"
        return {
            "id": vid,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "root_view_id": vid,
            "previous_view_id": None,
            **view,
            "hash": f"{int(time.time())}.{next(_counter):08x}",
        }

    def _m_views_open(self, p: JsonDict) -> JsonDict:
        trigger = str(p.get("trigger_id") or "")
        if not trigger:
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] missing required field: trigger_id"]},
            )
        parts = trigger.split(".")
        if len(parts) != 3 or not (parts[0].isdigit() and parts[1].isdigit() and parts[2].isalnum()):
            raise ApiError("invalid_trigger_id")
        if trigger_expired(trigger):
            raise ApiError("expired_trigger_id")
        view = self._view(p, "modal")
        self.views[view["id"]] = view
        return {"view": view}

    _m_views_push = _m_views_open

    def _m_views_update(self, p: JsonDict) -> JsonDict:
        old = self.views.get(str(p.get("view_id") or "")) or next(
            (
                v
                for v in self.views.values()
                if p.get("external_id") and v.get("external_id") == p["external_id"]
            ),
            None,
        )
        if old is None:
            raise ApiError("not_found")
        if p.get("hash") and p["hash"] != old["hash"]:
            raise ApiError("hash_conflict")
        view = self._view(p, None, old)
        self.views[view["id"]] = view
        return {"view": view}

    def _m_views_publish(self, p: JsonDict) -> JsonDict:
        user = str(p.get("user_id") or "")
        if user not in self.users:
            raise ApiError("user_not_found")
        old = self.home_views.get(user)
        if p.get("hash") and old and p["hash"] != old["hash"]:
            raise ApiError("hash_conflict")
        view = self.home_views[user] = self._view(p, "home", old)
        return {"view": view}

    def _user(self, p: JsonDict) -> User:
        user = self.users.get(str(p.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        return user

    def _m_users_list(self, p: JsonDict) -> JsonDict:
        page, nxt = _paginate(list(self.users), p, "user")
        loc = str(p.get("include_locale", "")).lower() in ("true", "1")
        return {
            "members": [self.users[u].member(loc) for u in page],
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": nxt},
        }

    def _m_users_info(self, p: JsonDict) -> JsonDict:
        return {"user": self._user(p).member(str(p.get("include_locale", "")).lower() in ("true", "1"))}

    def _m_users_profile_get(self, p: JsonDict) -> JsonDict:
        return {"profile": self._user(p).profile()}

    def _m_conversations_info(self, p: JsonDict) -> JsonDict:
        return {"channel": self._channel(p.get("channel"), open_dm=False).info()}

    def _m_conversations_open(self, p: JsonDict) -> JsonDict:
        users = [u for u in str(p.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise ApiError("not_implemented" if users else "users_list_not_supplied")
        if users[0] not in self.users:
            raise ApiError("user_not_found")
        return {"channel": {"id": self._channel(users[0]).id}}

    def _m_conversations_members(self, p: JsonDict) -> JsonDict:
        page, nxt = _paginate(self._channel(p.get("channel"), open_dm=False).members, p, "member")
        return {"members": page, "response_metadata": {"next_cursor": nxt}}

    def _reacted(self, p: JsonDict) -> tuple[str, JsonDict]:
        ch = self._channel(p.get("channel"), open_dm=False)
        msg = self.posted.get(ch.id, {}).get(str(p.get("timestamp")))
        if msg is None:
            raise ApiError("message_not_found")
        return ch.id, msg

    def _m_reactions_add(self, p: JsonDict) -> JsonDict:
        _, msg = self._reacted(p)
        reactions: list[JsonDict] = msg.setdefault("reactions", [])
        r = next((r for r in reactions if r["name"] == p.get("name")), None)
        if r is None:
            reactions.append({"name": p.get("name"), "users": [BOT_USER_ID], "count": 1})
        elif BOT_USER_ID in r["users"]:
            raise ApiError("already_reacted")
        else:
            r["users"].append(BOT_USER_ID)
            r["count"] += 1
        return {}

    def _m_reactions_get(self, p: JsonDict) -> JsonDict:
        cid, msg = self._reacted(p)
        return {"type": "message", "channel": cid, "message": msg}

    # ----- /_fake control endpoints (for tests in another process) -----
    async def _http_calls(self, request: Request) -> JSONResponse:
        with self._lock:
            calls = [
                asdict(c) for c in self.calls if c.method == request.query_params.get("method", c.method)
            ]
        return JSONResponse({"calls": calls, "rate_limited": self.rate_limited, "faults": self.faults})

    async def _http_messages(self, request: Request) -> JSONResponse:
        return JSONResponse({"messages": self.messages(request.query_params.get("channel", GENERAL_CHANNEL))})

    async def _http_reset(self, request: Request) -> JSONResponse:
        self.reset()
        return JSONResponse({"ok": True})

    async def _http_users(self, request: Request) -> JSONResponse:
        data = await request.json()
        users = [self.add_user(**u) for u in (data if isinstance(data, list) else [data])]
        return JSONResponse({"ok": True, "users": [u.id for u in users]})

    async def _http_channels(self, request: Request) -> JSONResponse:
        data = await request.json()
        chans = [self.add_channel(**c) for c in (data if isinstance(data, list) else [data])]
        return JSONResponse({"ok": True, "channels": [c.id for c in chans]})

    async def _http_fail_next(self, request: Request) -> JSONResponse:
        self.fail_next(**(await request.json()))
        return JSONResponse({"ok": True})


# ----- inbound requests (Slack -> our app) -----
def signed_headers(signing_secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """``X-Slack-Request-Timestamp`` + ``X-Slack-Signature`` (``v0=`` HMAC-SHA256 of ``v0:{ts}:{body}``)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig or ""}


def _user_obj(user_id: str, team_id: str) -> JsonDict:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}


def slash_command_body(
    command: str,
    text: str = "",
    user_id: str = "U0000USER",
    channel_id: str = GENERAL_CHANNEL,
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    channel_name: str | None = None,
) -> str:
    """Form-encoded body of a slash command request. ``channel_name`` as Slack sends it: the channel's
    name, ``directmessage`` in a DM, ``privategroup`` in a private channel the app cannot see."""
    if channel_name is None:
        channel_name = "general" if channel_id == GENERAL_CHANNEL else "directmessage"
    return urlencode(
        {
            "token": "fake-verification-token",
            "team_id": team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": f"https://hooks.slack.com/commands/{team_id}/1/fake",
            "trigger_id": trigger_id or new_trigger_id(),
        }
    )


def block_actions_body(
    action_id: str,
    value: str | None = None,
    user_id: str = "U0000USER",
    channel_id: str | None = GENERAL_CHANNEL,
    message_ts: str | None = None,
    block_id: str = "block",
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    view: JsonDict | None = None,
    action: JsonDict | None = None,
) -> str:
    """Form-encoded ``payload=<json>`` of a ``block_actions`` interaction (button click by default;
    pass ``action`` to override, e.g. a ``static_select`` action). With ``view`` the container is that
    view (modal / App Home) instead of a message."""
    act: JsonDict = action or {
        "type": "button",
        "text": {"type": "plain_text", "text": action_id, "emoji": True},
        **({"value": value} if value is not None else {}),
    }
    act = {"action_id": action_id, "block_id": block_id, "action_ts": f"{time.time():.6f}", **act}
    payload: JsonDict = {
        "type": "block_actions",
        "user": _user_obj(user_id, team_id),
        "api_app_id": APP_ID,
        "token": "fake-verification-token",
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [act],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0000VIEW")}
        payload["view"] = view
    else:
        ts = message_ts or "1700000000.000100"
        payload["container"] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel_id, "name": "general"}
        payload["message"] = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": ts, "text": ""}
        payload["response_url"] = f"https://hooks.slack.com/actions/{team_id}/1/fake"
    return urlencode({"payload": json.dumps(payload)})


def block_suggestion_body(
    action_id: str,
    value: str = "",
    user_id: str = "U0000USER",
    channel_id: str = GENERAL_CHANNEL,
    message_ts: str = "1700000000.000100",
    block_id: str = "block",
    team_id: str = TEAM_ID,
) -> str:
    """Form-encoded ``payload=<json>`` of a ``block_suggestion``: someone types ``value`` in the external
    select ``action_id`` on a message; Slack wants ``{"options": [...]}`` back within 3 s."""
    payload: JsonDict = {
        "type": "block_suggestion",
        "user": _user_obj(user_id, team_id),
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "api_app_id": APP_ID,
        "token": "fake-verification-token",
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "general"},
        "message": {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": message_ts, "text": ""},
    }
    return urlencode({"payload": json.dumps(payload)})


def view_submission_body(
    callback_id: str,
    values: dict[str, dict[str, JsonDict]] | None = None,
    user_id: str = "U0000USER",
    team_id: str = TEAM_ID,
    private_metadata: str = "",
    view_id: str = "V0000VIEW",
    trigger_id: str | None = None,
    view: JsonDict | None = None,
) -> str:
    """Form-encoded ``payload=<json>`` of a ``view_submission``; ``values`` = ``view.state.values``
    (``{block_id: {action_id: {"type": "plain_text_input", "value": "..."}}}``). ``view``: the view that
    was opened (as ``views.open`` returned it); Slack sends it back with the state filled in."""
    payload: JsonDict = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user_obj(user_id, team_id),
        "api_app_id": APP_ID,
        "token": "fake-verification-token",
        "trigger_id": trigger_id or new_trigger_id(),
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values or {}},
            "hash": "1700000000.fakehash",
            "title": {"type": "plain_text", "text": "Klantpet"},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": {"type": "plain_text", "text": "Submit"},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": APP_ID,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": BOT_ID,
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    if view is not None:
        payload["view"] = {**payload["view"], **view, "state": {"values": values or {}}}
    return urlencode({"payload": json.dumps(payload)})


def event_callback_body(event: JsonDict, event_id: str | None = None, team_id: str = TEAM_ID) -> str:
    """JSON body of an Events API ``event_callback`` wrapping ``event`` (``{"type": "app_mention", ...}``)."""
    return json.dumps(
        {
            "token": "fake-verification-token",
            "team_id": team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_counter):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-fake-{team_id}",
        }
    )


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    ap = argparse.ArgumentParser(description="Run the fake Slack Web API (base_url = http://HOST:PORT/api/)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8099)
    ap.add_argument("--rate-per-channel", type=float, default=1.0, help="msgs/s per channel; 0 disables")
    ap.add_argument("--workspace-rate", type=float, default=None, help="msgs/s workspace-wide cap")
    ap.add_argument("--burst", type=float, default=2.0)
    ap.add_argument("--time-scale", type=float, default=1.0)
    ap.add_argument("--fault-rate", type=float, default=0.0)
    ap.add_argument("--users", type=int, default=0, help="seed N synthetic users U0000000001..")
    ap.add_argument("--auto-channels", action="store_true")
    args = ap.parse_args(argv)
    fake = FakeSlack(
        args.rate_per_channel or None,
        args.workspace_rate,
        args.time_scale,
        burst=args.burst,
        fault_rate=args.fault_rate,
        auto_channels=args.auto_channels,
    )
    for i in range(1, args.users + 1):
        fake.add_user(f"U{i:010d}", f"user{i}", f"User {i}")
    uvicorn.run(fake.app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
