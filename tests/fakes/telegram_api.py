"""Local fake of the Telegram Bot API for tests and benchmarks.

Faithful (checked against python-telegram-bot 22 and the Bot API docs):
  * URLs ``/bot<token>/<method>`` (GET/POST, method names case-insensitive), params as query string,
    urlencoded form (PTB's default: every value a string, nested objects JSON-encoded), JSON body,
    or multipart. Responses ``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code",
    "description"[, "parameters"]}``; 429 carries ``parameters.retry_after`` (PTB -> RetryAfter).
  * Malformed token / unknown method -> 404 "Not Found"; well-formed wrong token -> 401
    "Unauthorized" (PTB -> InvalidToken). getUpdates while a webhook is set -> 409 Conflict.
  * HTML parse_mode: supported tags only, balanced nesting, Telegram-style error texts; the stored
    message holds plain text + entities (UTF-16 offsets) like the real server returns.
  * Limits: text 1..4096 (UTF-16 units, after parsing), callback_data 1..64 bytes, rate limits from
    the FAQ (1 msg/s per chat, 20 msg/min per group, ~30 msg/s overall) as token buckets.
  * getUpdates offset semantics (offset confirms older updates, negative offset = last N).
Simplified: no media/files (file URLs 404), MarkdownV2 is not validated, inline_message_id edits
just return True, webhooks are stored but updates are never pushed (post the builders' JSON to your
app yourself), rate buckets are approximations of undocumented server behaviour.
``time_scale`` = real seconds per API second (0.01 -> limits 100x looser in wall time; retry_after
stays in API seconds, ``rate_limited`` records also carry the real wait).
"""

from __future__ import annotations

import argparse
import asyncio
import email.parser
import email.policy
import html
import json
import math
import random
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

JSON_FIELDS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "scope",
    "entities",
    "link_preview_options",
    "reply_parameters",
    "caption_entities",
    "media",
}
INT_FIELDS = {
    "chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "max_connections",
    "cache_time",
    "user_id",
    "from_chat_id",
    "message_thread_id",
}
BOOL_FIELDS = {"drop_pending_updates", "show_alert", "disable_notification", "protect_content"}
TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "tg-emoji": "custom_emoji",
}
_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR_RE = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_HTML_ENT_RE = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_CMD_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def bad(description: str) -> ApiError:
    return ApiError(400, "Bad Request: " + description)


def u16len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-HTML into (plain text, entities); raises ApiError like the real server."""
    out: list[str] = []
    pos = u16 = 0
    stack: list[tuple[str, int, dict[str, Any] | None]] = []
    entities: list[dict[str, Any]] = []

    def fail(msg: str, at: int) -> ApiError:
        return bad(f"can't parse entities: {msg} at byte offset {len(src[:at].encode())}")

    while pos < len(src):
        nxt = min((i for i in (src.find("<", pos), src.find("&", pos)) if i >= 0), default=len(src))
        if nxt > pos:
            out.append(src[pos:nxt])
            u16 += u16len(src[pos:nxt])
            pos = nxt
            continue
        if src[pos] == "&":
            m = _HTML_ENT_RE.match(src, pos)
            text = html.unescape(m.group(0)) if m else "&"
            out.append(text)
            u16 += u16len(text)
            pos = m.end() if m else pos + 1
            continue
        m = _TAG_RE.match(src, pos)
        if not m:
            name = re.match(r"</?([^\s>]*)", src[pos:])
            raise fail(f'Unsupported start tag "{name.group(1) if name else ""}"', pos)
        tag = m.group(2).lower()
        if m.group(1):
            if not stack:
                raise fail("Unexpected end tag", pos)
            if stack[-1][0] != tag:
                raise fail(f'Unmatched end tag, expected "</{stack[-1][0]}>", found "</{tag}>"', pos)
            _, start, done = stack.pop()
            if done is not None and u16 > start:
                entities.append({**done, "offset": start, "length": u16 - start})
        else:
            attrs = {k.lower(): a or b or c for k, a, b, c in _ATTR_RE.findall(m.group(3))}
            if tag not in TAGS or (tag == "span" and attrs.get("class") != "tg-spoiler"):
                raise fail(f'Unsupported start tag "{tag}"', pos)
            ent: dict[str, Any] | None = {"type": TAGS[tag]}
            if tag == "a":
                ent = {"type": "text_link", "url": attrs["href"]} if attrs.get("href") else None
            elif tag == "blockquote" and "expandable" in attrs:
                ent = {"type": "expandable_blockquote"}
            elif tag == "tg-emoji":
                ent = {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
            elif tag == "code" and stack and stack[-1][0] == "pre" and stack[-1][2] is not None:
                lang = attrs.get("class", "")
                if lang.startswith("language-"):
                    stack[-1][2]["language"] = lang[9:]
                    ent = None
            stack.append((tag, u16, ent))
        pos = m.end()
    if stack:
        raise bad(f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1][0]}\"")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


class _Bucket:
    def __init__(self, rate: float, capacity: float) -> None:
        self.rate, self.capacity, self.tokens, self.t = rate, capacity, capacity, -1.0

    def wait(self, now: float) -> float:
        if self.t >= 0:
            self.tokens = min(self.capacity, self.tokens + (now - self.t) * self.rate)
        self.t = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    t: float
    status: int = 200
    error: str | None = None


@dataclass
class FakeTelegram:
    token: str = "123456:TEST"
    bot_username: str = "klantpet_test_bot"
    per_chat_rate: float | None = 1.0
    group_per_minute: float | None = 20
    global_rate: float | None = 30.0
    time_scale: float = 1.0
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = ("429", "500", "502")
    seed: int = 0
    timeout_delay: float = 6.0  # "timeout" faults stall this long (> PTB's default 5 s read timeout)
    long_poll_cap: float = 1.0  # getUpdates never blocks longer than this many real seconds
    first_name: str = "Klantpet Test"
    calls: list[Call] = field(default_factory=list)
    rate_limited: list[dict[str, Any]] = field(default_factory=list)
    chats: dict[int | str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.migrated: dict[int | str, int] = {}  # old group id -> its supergroup's id
        self.bot_id = int(self.token.split(":")[0])
        self.rng = random.Random(self.seed)
        self._lock = threading.RLock()
        self.reset(chats=False)
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._handle, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
                Route("/_fake/calls", self._ctl_calls, methods=["GET"]),
                Route("/_fake/reset", self._ctl_reset, methods=["POST"]),
                Route("/_fake/chats", self._ctl_chats, methods=["POST"]),
                Route("/_fake/updates", self._ctl_updates, methods=["POST"]),
                Route("/_fake/fail", self._ctl_fail, methods=["POST"]),
                Route("/_fake/messages/{chat_id}", self._ctl_messages, methods=["GET"]),
            ]
        )

    # ----------------------------------------------------------------- public helpers
    def reset(self, chats: bool = False) -> None:
        """Forget calls, messages, updates, webhook, commands, faults, rate state (chats only if asked)."""
        with self._lock:
            self.calls.clear()
            self.rate_limited.clear()
            if chats:
                self.chats.clear()
                self.migrated.clear()
            self._msgs: dict[int | str, dict[int, dict[str, Any]]] = {}
            self._next_mid: dict[int | str, int] = {}
            self.updates: list[dict[str, Any]] = []
            self._allowed_updates: list[str] = []
            self._next_update_id = 1
            self.webhook: dict[str, Any] = {"url": ""}
            self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
            self.callback_answers: dict[str, dict[str, Any]] = {}
            self._callback_ids: set[str] = set()
            self._faults: list[list[Any]] = []  # [method|"*", remaining, kind]
            self.faults_injected: list[dict[str, Any]] = []
            self._buckets: dict[Any, _Bucket] = {}

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.bot_username,
        }

    def bot_kwargs(self, url: str) -> dict[str, Any]:
        """kwargs for ``telegram.Bot(**fake.bot_kwargs(url))``."""
        return {"token": self.token, "base_url": f"{url}/bot", "base_file_url": f"{url}/file/bot"}

    def webhook_headers(self) -> dict[str, str]:
        secret = self.webhook.get("secret_token")
        return {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}

    def add_chat(
        self,
        chat_id: int | str,
        type: str = "private",
        title: str | None = None,
        first_name: str = "Anna",
        username: str | None = None,
    ) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": type}
        if type == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = title or f"Test {type} {chat_id}"
        if username:
            chat["username"] = username
        with self._lock:
            self.chats[chat_id] = chat
        return chat

    def migrate_chat(self, old_id: int | str, new_id: int) -> dict[str, Any]:
        """The group became a supergroup with a new id: sending to the old id now fails with 400 and
        ``parameters.migrate_to_chat_id`` (PTB raises ``ChatMigrated``), as Telegram does."""
        with self._lock:
            old = self.chats.pop(old_id)
            self.migrated[old_id] = new_id
            return self.add_chat(new_id, "supergroup", old.get("title"))

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in list(self.calls) if c.method.lower() == method.lower()]

    def messages(self, chat_id: int | str, include_inbound: bool = False) -> list[dict[str, Any]]:
        """Current (edited, not deleted) messages in a chat; bot-sent only unless include_inbound."""
        with self._lock:
            msgs = list(self._msgs.get(chat_id, {}).values())
        return [json.loads(json.dumps(m)) for m in msgs if include_inbound or m["from"]["id"] == self.bot_id]

    def commands_for(
        self, language_code: str = "", scope: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        return self.commands.get((self._scope_key(scope), language_code), [])

    def fail_next(self, method: str = "*", n: int = 1, kind: str = "429") -> None:
        """Next ``n`` calls of ``method`` ("*" = any) fail with kind "429"|"500"|"502"|"timeout"."""
        assert kind in ("429", "500", "502", "timeout"), kind
        with self._lock:
            self._faults.append([method.lower(), n, kind])

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.updates.append(update)
            self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        return update

    # ----------------------------------------------------------------- update builders
    def _new_mid(self, chat_id: int | str) -> int:
        self._next_mid[chat_id] = self._next_mid.get(chat_id, 0) + 1
        return self._next_mid[chat_id]

    def _chat(self, chat_id: int | str) -> dict[str, Any]:
        if chat_id in self.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrated[chat_id]},
            )
        if chat_id not in self.chats:
            raise bad("chat not found")
        return self.chats[chat_id]

    def _user(
        self, user_id: int, first_name: str = "Anna", language_code: str | None = "nl"
    ) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        return user

    def message_update(
        self,
        update_id: int | None,
        chat_id: int,
        user_id: int,
        text: str,
        first_name: str = "Anna",
        language_code: str | None = "nl",
        chat_type: str = "private",
    ) -> dict[str, Any]:
        """Inbound ``Update`` with a text message (chat auto-registered, /commands get bot_command entities)."""
        with self._lock:
            if chat_id not in self.chats:
                self.add_chat(chat_id, chat_type, first_name=first_name)
            msg: dict[str, Any] = {
                "message_id": self._new_mid(chat_id),
                "from": self._user(user_id, first_name, language_code),
                "chat": dict(self.chats[chat_id]),
                "date": int(time.time()),
                "text": text,
            }
            ents = [
                {"type": "bot_command", "offset": u16len(text[: m.start()]), "length": u16len(m.group(0))}
                for m in _CMD_RE.finditer(text)
            ]
            if ents:
                msg["entities"] = ents
            self._msgs.setdefault(chat_id, {})[msg["message_id"]] = msg
            uid = self._next_update_id if update_id is None else update_id
            self._next_update_id = max(self._next_update_id, uid + 1)
            return {"update_id": uid, "message": json.loads(json.dumps(msg))}

    def callback_query_update(
        self,
        update_id: int | None,
        user_id: int,
        chat_id: int,
        message_id: int,
        data: str,
        first_name: str = "Anna",
        language_code: str | None = "nl",
    ) -> dict[str, Any]:
        """Inbound ``Update`` for a button press on a (preferably fake-sent) message."""
        with self._lock:
            chat = self.chats.get(chat_id) or self.add_chat(chat_id)
            msg = self._msgs.get(chat_id, {}).get(message_id) or {
                "message_id": message_id,
                "from": self.bot_user,
                "chat": chat,
                "date": int(time.time()),
                "text": "?",
            }
            qid = str(self.rng.randrange(10**17, 10**18))
            self._callback_ids.add(qid)
            uid = self._next_update_id if update_id is None else update_id
            self._next_update_id = max(self._next_update_id, uid + 1)
            query = {
                "id": qid,
                "from": self._user(user_id, first_name, language_code),
                "message": json.loads(json.dumps(msg)),
                "chat_instance": str(-abs(chat_id) * 7 - 1),
                "data": data,
            }
            return {"update_id": uid, "callback_query": query}

    # ----------------------------------------------------------------- HTTP plumbing
    @staticmethod
    async def _params(request: Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query_params)
        body = await request.body()
        ctype = request.headers.get("content-type", "")
        if body and "json" in ctype:
            raw.update(json.loads(body))
        elif body and "multipart/form-data" in ctype:
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body
            )
            for part in msg.iter_parts():
                name, payload = (
                    part.get_param("name", header="content-disposition"),
                    part.get_payload(decode=True),
                )
                if isinstance(name, str) and isinstance(payload, bytes):
                    raw[name] = payload if part.get_filename() else payload.decode()
        elif body:
            from urllib.parse import parse_qsl

            raw.update(parse_qsl(body.decode(), keep_blank_values=True))
        params: dict[str, Any] = {}
        for key, val in raw.items():
            if isinstance(val, str) and key in JSON_FIELDS:
                val = json.loads(val)
            elif isinstance(val, str) and key in INT_FIELDS and re.fullmatch(r"-?\d+", val):
                val = int(val)
            elif isinstance(val, str) and key in BOOL_FIELDS:
                val = val.lower() == "true"
            params[key] = val
        return params

    @staticmethod
    def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> JSONResponse:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return JSONResponse(body, status_code=code)

    def _take_fault(self, method: str) -> str | None:
        with self._lock:
            for fault in self._faults:
                if fault[0] in ("*", method.lower()) and fault[1] > 0:
                    fault[1] -= 1
                    self._faults = [f for f in self._faults if f[1] > 0]
                    return str(fault[2])
            if self.fault_rate and self.rng.random() < self.fault_rate:
                return self.rng.choice(self.fault_kinds)
        return None

    async def _handle(self, request: Request) -> Response:
        token, method = request.path_params["token"], request.path_params["method"]
        if not TOKEN_RE.fullmatch(token):
            return self._error(404, "Not Found")
        if token != self.token:
            return self._error(401, "Unauthorized")
        try:
            params = await self._params(request)
        except ValueError as exc:
            return self._error(400, f"Bad Request: can't parse request: {exc}")
        call = Call(method, params, time.monotonic())
        with self._lock:
            self.calls.append(call)
        handler = getattr(self, "_m_" + method.lower(), None)
        if handler is None:
            call.status, call.error = 404, "Not Found"
            return self._error(404, "Not Found")
        fault = self._take_fault(method)
        if fault:
            self.faults_injected.append({"method": method, "kind": fault, "t": call.t})
            call.status, call.error = (
                (int(fault), f"injected {fault}") if fault != "timeout" else (200, "injected timeout")
            )
        if fault == "429":
            return self._error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        if fault == "500":
            return self._error(500, "Internal Server Error")
        if fault == "502":
            return Response("<html><body><h1>502 Bad Gateway</h1></body></html>", 502, media_type="text/html")
        if fault == "timeout":  # stall, then still perform the call (the client has usually given up)
            deadline = time.monotonic() + self.timeout_delay
            while time.monotonic() < deadline and not await request.is_disconnected():
                await asyncio.sleep(0.05)
        try:
            if method.lower() == "getupdates":
                result = await self._get_updates(params)
            else:
                with self._lock:
                    result = handler(params)
        except ApiError as exc:
            call.status, call.error = exc.code, exc.description
            return self._error(exc.code, exc.description, exc.parameters)
        if isinstance(result, tuple):  # (result, description)
            return JSONResponse({"ok": True, "result": result[0], "description": result[1]})
        return JSONResponse({"ok": True, "result": result})

    async def _file(self, request: Request) -> Response:
        return self._error(404, "Not Found")

    # ----------------------------------------------------------------- rate limiting & validation
    def _throttle(self, method: str, chat: dict[str, Any]) -> None:
        now = time.monotonic() / self.time_scale
        specs: list[tuple[Any, str, float, float]] = []
        if self.per_chat_rate:
            specs.append((("chat", chat["id"]), "chat", self.per_chat_rate, max(1.0, self.per_chat_rate)))
        if self.group_per_minute and chat["type"] in ("group", "supergroup"):
            specs.append(
                (("group", chat["id"]), "group", self.group_per_minute / 60, float(self.group_per_minute))
            )
        if self.global_rate:
            specs.append(("global", "global", self.global_rate, max(1.0, self.global_rate)))
        buckets = [
            (scope, self._buckets.setdefault(key, _Bucket(rate, cap))) for key, scope, rate, cap in specs
        ]
        for (_, _, rate, cap), (_, b) in zip(
            specs, buckets, strict=False
        ):  # limits may be changed at runtime
            b.rate, b.capacity = rate, cap
        waits = [(b.wait(now), scope) for scope, b in buckets]
        wait, scope = max(waits, default=(0.0, ""))
        if wait > 0:
            retry = max(1, math.ceil(wait))
            self.rate_limited.append(
                {
                    "method": method,
                    "chat_id": chat["id"],
                    "scope": scope,
                    "retry_after": retry,
                    "wait_real": wait * self.time_scale,
                    "t": time.monotonic(),
                }
            )
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        for _, b in buckets:
            b.tokens -= 1

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return None
        for row in markup["inline_keyboard"]:
            for button in row:
                if not button.get("text"):
                    raise bad("BUTTON_TEXT_INVALID")
                if "callback_data" in button and not 1 <= len(str(button["callback_data"]).encode()) <= 64:
                    raise bad("BUTTON_DATA_INVALID")
                if len(button) == 1:
                    raise bad("text buttons are unallowed in the inline keyboard")
        return markup

    def _text(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        raw = str(params.get("text", ""))
        if str(params.get("parse_mode", "")).upper() == "HTML":
            text, ents = parse_html(raw)
        else:
            text, ents = raw, list(params.get("entities") or [])
        if not text.strip():
            raise bad("message text is empty")
        if u16len(text) > 4096:
            raise bad("message is too long")
        return text, ents

    def _stored(self, params: dict[str, Any], what: str) -> dict[str, Any]:
        msg = self._msgs.get(params.get("chat_id", ""), {}).get(params.get("message_id", -1))
        if msg is None:
            raise bad(f"message to {what} not found")
        return msg

    # ----------------------------------------------------------------- Bot API methods
    def _m_getme(self, p: dict[str, Any]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_sendmessage(self, p: dict[str, Any]) -> Any:
        chat = self._chat(p.get("chat_id", ""))
        text, ents = self._text(p)
        markup = self._markup(p)
        self._throttle("sendMessage", chat)
        msg: dict[str, Any] = {
            "message_id": self._new_mid(chat["id"]),
            "from": self.bot_user,
            "chat": dict(chat),
            "date": int(time.time()),
            "text": text,
        }
        if ents:
            msg["entities"] = ents
        if markup:
            msg["reply_markup"] = markup
        self._msgs.setdefault(chat["id"], {})[msg["message_id"]] = msg
        return msg

    def _edit(self, p: dict[str, Any], method: str, text_change: bool) -> Any:
        if "inline_message_id" in p:
            return True
        chat = self._chat(p.get("chat_id", ""))
        msg = self._stored(p, "edit")
        new = dict(msg)
        if text_change:
            new["text"], ents = self._text(p)
            new.pop("entities", None)
            if ents:
                new["entities"] = ents
        markup = self._markup(p)
        new.pop("reply_markup", None)
        if markup:
            new["reply_markup"] = markup
        if new == msg:
            raise bad(NOT_MODIFIED[len("Bad Request: ") :])
        self._throttle(method, chat)
        new["edit_date"] = int(time.time())
        self._msgs[chat["id"]][msg["message_id"]] = new
        return new

    def _m_editmessagetext(self, p: dict[str, Any]) -> Any:
        return self._edit(p, "editMessageText", True)

    def _m_editmessagereplymarkup(self, p: dict[str, Any]) -> Any:
        return self._edit(p, "editMessageReplyMarkup", False)

    def _m_deletemessage(self, p: dict[str, Any]) -> Any:
        self._chat(p.get("chat_id", ""))
        msg = self._stored(p, "delete")
        del self._msgs[msg["chat"]["id"]][msg["message_id"]]
        return True

    def _m_answercallbackquery(self, p: dict[str, Any]) -> Any:
        qid = str(p.get("callback_query_id", ""))
        if qid not in self._callback_ids:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        self.callback_answers[qid] = p
        return True

    def _m_setwebhook(self, p: dict[str, Any]) -> Any:
        url = str(p.get("url", ""))
        if url and not url.startswith("https://"):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad("secret token contains unallowed characters")
        if p.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = {
            "url": url,
            "has_custom_certificate": "certificate" in p,
            **{
                k: p[k]
                for k in (
                    "secret_token",
                    "allowed_updates",
                    "max_connections",
                    "drop_pending_updates",
                    "ip_address",
                )
                if k in p
            },
        }
        return True, "Webhook was set" if url else "Webhook was deleted"

    def _m_deletewebhook(self, p: dict[str, Any]) -> Any:
        was = bool(self.webhook.get("url"))
        if p.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = {"url": ""}
        return True, "Webhook was deleted" if was else "Webhook is already deleted"

    def _m_getwebhookinfo(self, p: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook["url"],
            "has_custom_certificate": bool(self.webhook.get("has_custom_certificate")),
            "pending_update_count": len(self.updates),
        }
        if info["url"]:
            info.update(max_connections=self.webhook.get("max_connections", 40), ip_address="127.0.0.1")
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    @staticmethod
    def _scope_key(scope: Any) -> str:
        return json.dumps(scope or {"type": "default"}, sort_keys=True)

    def _m_setmycommands(self, p: dict[str, Any]) -> Any:
        commands = list(p.get("commands") or [])
        for cmd in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(cmd.get("command", ""))):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", ""))) <= 256:
                raise bad("command description must be non-empty")
        self.commands[(self._scope_key(p.get("scope")), str(p.get("language_code", "")))] = commands
        return True

    def _m_getmycommands(self, p: dict[str, Any]) -> Any:
        return self.commands_for(str(p.get("language_code", "")), p.get("scope"))

    def _m_deletemycommands(self, p: dict[str, Any]) -> Any:
        self.commands.pop((self._scope_key(p.get("scope")), str(p.get("language_code", ""))), None)
        return True

    def _m_getchat(self, p: dict[str, Any]) -> Any:
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return {
            **self._chat(p.get("chat_id", "")),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    def _m_sendchataction(self, p: dict[str, Any]) -> Any:
        self._chat(p.get("chat_id", ""))
        if p.get("action") not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        return True

    def _m_getupdates(self, p: dict[str, Any]) -> Any:  # real work in _get_updates (async long poll)
        raise AssertionError("unreachable")

    def _poll(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            if self.webhook["url"]:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            offset, limit = int(p.get("offset") or 0), max(1, min(100, int(p.get("limit") or 100)))
            if "allowed_updates" in p and p["allowed_updates"] is not None:
                self._allowed_updates = list(p["allowed_updates"])
            if offset > 0:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            pending = self.updates[offset:] if offset < 0 else self.updates
            if self._allowed_updates:
                pending = [u for u in pending if set(u) & set(self._allowed_updates)]
            return pending[:limit]

    async def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        deadline = time.monotonic() + min(float(p.get("timeout") or 0), self.long_poll_cap)
        while not (result := self._poll(p)) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return result

    # ----------------------------------------------------------------- control endpoints
    async def _ctl_calls(self, request: Request) -> Response:
        method = request.query_params.get("method")
        calls = self.calls_to(method) if method else list(self.calls)
        return Response(
            json.dumps({"calls": [asdict(c) for c in calls]}, default=repr), media_type="application/json"
        )

    async def _ctl_reset(self, request: Request) -> Response:
        self.reset(chats=request.query_params.get("chats") in ("1", "true"))
        return JSONResponse({"ok": True})

    async def _ctl_chats(self, request: Request) -> Response:
        body = await request.json()
        return JSONResponse({"ok": True, "result": self.add_chat(**body)})

    async def _ctl_updates(self, request: Request) -> Response:
        body = await request.json()
        for update in body if isinstance(body, list) else [body]:
            self.queue_update(update)
        return JSONResponse({"ok": True})

    async def _ctl_fail(self, request: Request) -> Response:
        self.fail_next(**await request.json())
        return JSONResponse({"ok": True})

    async def _ctl_messages(self, request: Request) -> Response:
        chat_id: int | str = request.path_params["chat_id"]
        chat_id = int(chat_id) if re.fullmatch(r"-?\d+", str(chat_id)) else chat_id
        return JSONResponse({"ok": True, "result": self.messages(chat_id, include_inbound=True)})


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    ap = argparse.ArgumentParser(description="Run a fake Telegram Bot API server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--token", default="123456:TEST")
    ap.add_argument("--bot-username", default="klantpet_test_bot")
    ap.add_argument("--per-chat-rate", type=float, default=1.0)
    ap.add_argument("--group-per-minute", type=float, default=20)
    ap.add_argument("--global-rate", type=float, default=30.0)
    ap.add_argument("--time-scale", type=float, default=1.0)
    ap.add_argument("--fault-rate", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    fake = FakeTelegram(
        token=a.token,
        bot_username=a.bot_username,
        per_chat_rate=a.per_chat_rate or None,
        group_per_minute=a.group_per_minute or None,
        global_rate=a.global_rate or None,
        time_scale=a.time_scale,
        fault_rate=a.fault_rate,
        seed=a.seed,
    )
    uvicorn.run(fake.app, host=a.host, port=a.port, log_level="warning")


if __name__ == "__main__":
    main()
