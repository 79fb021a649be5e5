"""The contract every platform adapter fulfils (web, Slack, Teams, Telegram)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.messages import Message
from bot.ratelimit import Limit

if TYPE_CHECKING:
    from fastapi import FastAPI

    from storage.models import Identity


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery, ready for a platform's sender."""

    delivery_id: int
    key: str
    platform: str
    target: str
    message: Message
    locale: str
    ephemeral: bool
    member_id: int | None
    thread_ref: str | None
    edit_ref: str | None
    attempts: int
    claimed_until: datetime | None = None


class SendError(Exception):
    """Base of sender failures; the message is what gets logged (never a secret)."""


class RetryAfter(SendError):
    """The platform rate-limited us: try again after ``seconds`` (not counted as a failed attempt)."""

    def __init__(self, seconds: float, scope: str | None = None) -> None:
        super().__init__(f"rate limited for {seconds:.1f}s")
        self.seconds = max(0.0, seconds)
        self.scope = scope


class TransientSendError(SendError):
    """A failure worth retrying with backoff (5xx, timeout, connection reset)."""


class PermanentSendError(SendError):
    """A failure retrying cannot fix (unknown channel, invalid payload, user gone)."""


class Platform(Protocol):
    """What the composition root, router and outbox need from an adapter."""

    name: str

    @property
    def throughput(self) -> float:
        """Messages per second the platform accepts from the whole app (the outbox claims ahead by it)."""
        ...

    def limits(self, target: str) -> list[Limit]:
        """The rate limits a send to ``target`` is subject to."""
        ...

    async def send(self, outgoing: Outgoing) -> str | None:
        """Send (or edit, when ``edit_ref`` is set); return the platform's message reference. A platform
        whose `limits` have a window calls `bot.ratelimit.leaving()` right before the request goes out
        (after any lookups): the window counts the send from then."""
        ...

    def dm_target(self, identity: Identity) -> str:
        """Where a direct message to this member goes on this platform."""
        ...

    def mount(self, app: FastAPI) -> None:
        """Add the platform's inbound routes to the web app."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
