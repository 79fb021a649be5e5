"""Inbound events, normalized from every platform before they reach the router."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ChannelKind = Literal["dm", "channel", "group"]


def without_nul(text: str) -> str:
    """``text`` without NUL characters: PostgreSQL cannot store them (and no platform shows them)."""
    return text.replace("\x00", "")


@dataclass(frozen=True)
class Actor:
    """Who acted, as the platform knows them."""

    platform: str
    external_id: str
    name: str | None = None
    locale: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Where:
    """The conversation the event happened in; ``ref`` is where replies go."""

    external_id: str
    kind: ChannelKind
    name: str | None = None
    ref: str | None = None


@dataclass(frozen=True, kw_only=True)
class Inbound:
    platform: str
    event_id: str
    actor: Actor
    where: Where
    context: dict[str, Any] = field(default_factory=dict)
    """Platform specifics a renderer needs for an answer (Slack trigger_id, Teams activity, …)."""


@dataclass(frozen=True, kw_only=True)
class Command(Inbound):
    """A command (slash command, DM text, @mention, /command) in the shared grammar."""

    text: str
    explicit: bool = True
    """False for plain DM text that may or may not be a command."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", without_nul(self.text))


@dataclass(frozen=True, kw_only=True)
class ButtonClick(Inbound):
    token: str
    message_ref: str | None = None
    value_override: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class FormSubmit(Inbound):
    token: str
    fields: dict[str, str]
    message_ref: str | None = None

    def __post_init__(self) -> None:
        fields = {without_nul(name): without_nul(str(value)) for name, value in self.fields.items()}
        object.__setattr__(self, "fields", fields)


@dataclass(frozen=True, kw_only=True)
class Reply(Inbound):
    """A reply in a thread under one of the bot's messages."""

    text: str
    thread_ref: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", without_nul(self.text))


@dataclass(frozen=True, kw_only=True)
class Reaction(Inbound):
    emoji: str
    message_ref: str
    added: bool = True


@dataclass(frozen=True, kw_only=True)
class MemberJoined(Inbound):
    pass


@dataclass(frozen=True, kw_only=True)
class MeetingEvent(Inbound):
    """A platform's meeting start or end signal (Teams)."""

    phase: Literal["start", "end"]
