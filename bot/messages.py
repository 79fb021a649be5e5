"""The neutral message model every handler speaks; each platform has a renderer for it.

A `Message` is a list of blocks plus an optional *key* (the prompt key it was built from, used by tests
and analytics). Interactive blocks name an *action* (a router route such as ``pulse.answer``) and a
*payload*; platforms never see the payload, only a short server-side token (see `bot.outbox`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

ButtonStyle = Literal["default", "primary", "danger"]


class _Block(BaseModel):
    model_config = ConfigDict(frozen=True)


class Text(_Block):
    """A paragraph of light Markdown (**bold**, _italic_, `code`, [link](https://…), "- " bullets)."""

    kind: Literal["text"] = "text"
    text: str


class Context(_Block):
    """Small, secondary text (a footer, a credit line)."""

    kind: Literal["context"] = "context"
    text: str


class Quote(_Block):
    kind: Literal["quote"] = "quote"
    text: str
    author: str | None = None


class Image(_Block):
    kind: Literal["image"] = "image"
    url: str
    alt: str


class Video(_Block):
    """A video link (vlog); platforms show a link or a preview."""

    kind: Literal["video"] = "video"
    url: str
    title: str


class Divider(_Block):
    kind: Literal["divider"] = "divider"


class Button(_Block):
    label: str
    action: str
    payload: dict[str, Any] = Field(default_factory=dict)
    style: ButtonStyle = "default"


class Buttons(_Block):
    kind: Literal["buttons"] = "buttons"
    buttons: tuple[Button, ...]


class Option(_Block):
    label: str
    payload: dict[str, Any] = Field(default_factory=dict)


class Choice(_Block):
    """Pick one: ``scale`` (e.g. 0–10, shown as a row of buttons) or ``select`` (a drop-down)."""

    kind: Literal["choice"] = "choice"
    style: Literal["scale", "select"] = "select"
    action: str
    label: str = ""
    options: tuple[Option, ...]
    low_label: str | None = None
    high_label: str | None = None


class Field_(_Block):
    name: str
    label: str
    style: Literal["text", "textarea", "select"] = "text"
    required: bool = True
    max_length: int = 2000
    options: tuple[tuple[str, str], ...] = ()
    """For ``select``: (value, label) pairs."""
    value: str = ""
    placeholder: str = ""


class Form(_Block):
    """A short form: a Slack modal, a Teams card with inputs, a step-by-step Telegram dialogue, an HTML form."""

    kind: Literal["form"] = "form"
    action: str
    title: str
    fields: tuple[Field_, ...]
    submit_label: str
    payload: dict[str, Any] = Field(default_factory=dict)
    errors: dict[str, str] = Field(default_factory=dict)


Block = Annotated[
    Text | Context | Quote | Image | Video | Divider | Buttons | Choice | Form, Field(discriminator="kind")
]


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    blocks: tuple[Block, ...]
    key: str | None = None

    @classmethod
    def text(cls, text: str, key: str | None = None) -> Message:
        return cls(blocks=(Text(text=text),), key=key)

    @property
    def plain_text(self) -> str:
        """A text-only rendering for notifications and fallbacks."""
        parts: list[str] = []
        for block in self.blocks:
            if isinstance(block, Text | Context):
                parts.append(block.text)
            elif isinstance(block, Quote):
                parts.append(f"“{block.text}”" + (f" — {block.author}" if block.author else ""))
            elif isinstance(block, Video | Image):
                parts.append(block.url)
            elif isinstance(block, Form):
                parts.append(block.title)
            elif isinstance(block, Choice) and block.label:
                parts.append(block.label)
        return "\n\n".join(parts)

    def interactive(self) -> list[tuple[str, dict[str, Any]]]:
        """Every (action, payload) a member can trigger from this message."""
        found: list[tuple[str, dict[str, Any]]] = []
        for block in self.blocks:
            if isinstance(block, Buttons):
                found.extend((button.action, button.payload) for button in block.buttons)
            elif isinstance(block, Choice):
                found.extend((block.action, option.payload) for option in block.options)
            elif isinstance(block, Form):
                found.append((block.action, block.payload))
        return found

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return _MESSAGE.validate_python(data)


_MESSAGE = TypeAdapter(Message)
