"""Neutral messages → Microsoft Teams activities: Markdown text, or an Adaptive Card (1.5) for anything richer.

Every block of the neutral model is rendered:

- text → a TextBlock (Teams' card Markdown: **bold**, _italic_, [links](https://…), "- " lists; `code` loses
  its backticks, cards have no inline code); context → small, subtle text; quote → an emphasised container;
- image → an Image (https only, as Teams requires); video → an "open" button with the title;
- divider → a separator line above the next block;
- buttons → an ActionSet of ``Action.Execute`` (with an ``Action.Submit`` fallback for old clients);
- choice ``scale`` (0–10, 1–5) → a row of tappable numbers with the anchor labels below; ``select`` → a
  drop-down with a confirm button;
- form → labelled inputs (text, multi-line, drop-down) with Teams' own required-field check and our
  validation errors under each field, and a submit button.

Buttons carry only the short server-side token (``bot.messages``), never a payload. A message made of text
only is sent as a plain Markdown message (searchable, lighter notifications). Teams refuses activities over
28 KB: long texts are shortened until the card fits; a card whose controls alone are too big is refused
(`CardTooLarge`), so the outbox gives up instead of retrying a payload Teams will never take.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.messages import (
    Block,
    Button,
    Buttons,
    Choice,
    Context,
    Divider,
    Form,
    Image,
    Message,
    Quote,
    Text,
    Video,
)
from storage.repositories.tokens import token_for

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"
VERB = "klantpet"
MAX_ACTIVITY_BYTES = 28 * 1024
_SAFETY_BYTES = 1024  # the connector adds ids, conversation and channel data to what we send
_CODE = re.compile(r"`([^`\n]{1,2000})`")
_STYLES = {"primary": "positive", "danger": "destructive"}


class CardTooLarge(ValueError):
    """The message cannot be made to fit Teams' 28 KB limit without losing its controls."""


@dataclass(frozen=True)
class Labels:
    """The few words a card adds itself, in the recipient's language."""

    choose: str
    required: str


@dataclass(frozen=True)
class CardAction:
    """What a click or submit on one of our cards carries back."""

    token: str
    fields: dict[str, str]
    is_form: bool


def render(message: Message, labels: Labels, *, card: bool = False) -> dict[str, Any]:
    """The activity (``type: message``) for ``message``; raises `CardTooLarge` when it cannot fit.

    ``card``: always an Adaptive Card, also for text only (an ``Action.Execute`` answer must be a card).
    """
    if not card and all(isinstance(block, Text) for block in message.blocks):
        return _text_activity(message)
    texts = [_text_of(block) for block in message.blocks]
    while True:
        activity = _card_activity(message, labels, texts)
        if _size(activity) <= MAX_ACTIVITY_BYTES - _SAFETY_BYTES:
            return activity
        longest = max((len(text or "") for text in texts), default=0)
        if longest < 200:
            break
        # Lower the ceiling on every long text at once: many long texts shrink in a few rounds too.
        cap = longest * 2 // 3
        texts = [text[:cap].rstrip() + "…" if text and len(text) > cap else text for text in texts]
    raise CardTooLarge(f"the card is {_size(activity)} bytes even with shortened texts")


def read_action(data: Any) -> CardAction | None:
    """Decode the data of an ``Action.Execute``/``Action.Submit`` from one of our cards (None if not ours)."""
    if not isinstance(data, dict):
        return None
    select = data.get("kp_select")
    if isinstance(select, str):
        token = data.get(select)
        return CardAction(token, {}, False) if isinstance(token, str) and token else None
    token = data.get("kp")
    if not isinstance(token, str) or not token:
        return None
    prefix = data.get("kp_form")
    if not isinstance(prefix, str):
        return CardAction(token, {}, False)
    fields = {
        key.removeprefix(f"{prefix}."): str(value)
        for key, value in data.items()
        if key.startswith(f"{prefix}.") and isinstance(value, str | int | float)
    }
    return CardAction(token, fields, True)


def fallback_text(message: Message, limit: int = 250) -> str:
    """A one-line preview for notifications and clients that cannot show cards."""
    text = " ".join(_CODE.sub(r"\1", message.plain_text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- Text messages ---------------------------------------------------------------------------------


def _text_activity(message: Message) -> dict[str, Any]:
    text = "\n\n".join(_escape_html(block.text) for block in message.blocks if isinstance(block, Text))
    activity: dict[str, Any] = {"type": "message", "text": text, "textFormat": "markdown"}
    budget = MAX_ACTIVITY_BYTES - _SAFETY_BYTES
    # Measured as sent: JSON escapes a control character into six bytes.
    while (overflow := _size(activity) - budget) > 0:
        text = text[: max(0, len(text) - overflow - 8)].rstrip() + "…"
        activity["text"] = text
    return activity


def _escape_html(text: str) -> str:
    # Teams reads HTML in Markdown messages: a member's "<at>…</at>" or "<img>" must stay text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- Adaptive Cards --------------------------------------------------------------------------------


def _text_of(block: Block) -> str | None:
    if isinstance(block, Text | Context | Quote):
        return block.text
    return None


def _size(activity: dict[str, Any]) -> int:
    return len(json.dumps(activity, ensure_ascii=False, separators=(",", ":")).encode())


def _card_activity(message: Message, labels: Labels, texts: list[str | None]) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    separate = False
    for index, block in enumerate(message.blocks):
        if isinstance(block, Divider):
            separate = True
            continue
        elements = _elements(block, index, texts[index], labels)
        if elements and separate:
            elements[0] = {**elements[0], "separator": True, "spacing": "medium"}
            separate = False
        body.extend(elements)
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    activity: dict[str, Any] = {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
    }
    summary = fallback_text(message)
    if summary:  # the Activity model refuses an empty summary (a card of buttons only has none)
        activity["summary"] = summary
    return activity


def _elements(block: Block, index: int, text: str | None, labels: Labels) -> list[dict[str, Any]]:
    if isinstance(block, Text):
        return [_text_block(text or "")]
    if isinstance(block, Context):
        return [{**_text_block(text or ""), "size": "small", "isSubtle": True}]
    if isinstance(block, Quote):
        items = [_text_block(text or "")]
        if block.author:
            items.append({**_text_block(f"— {block.author}"), "size": "small", "isSubtle": True})
        return [{"type": "Container", "style": "emphasis", "items": items}]
    if isinstance(block, Image):
        if not block.url.startswith("https://"):
            return []
        return [{"type": "Image", "url": block.url, "altText": block.alt, "size": "stretch"}]
    if isinstance(block, Video):
        if not block.url.startswith(("https://", "http://")):
            return []
        action = {"type": "Action.OpenUrl", "title": f"▶ {block.title}", "url": block.url}
        return [{"type": "ActionSet", "actions": [action]}]
    if isinstance(block, Buttons):
        return [{"type": "ActionSet", "actions": [_button(button) for button in block.buttons]}]
    if isinstance(block, Choice):
        return _scale(block) if block.style == "scale" else _select(block, index, labels)
    if isinstance(block, Form):
        return _form(block, index, labels)
    return []


def _text_block(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": _CODE.sub(r"\1", text), "wrap": True}


def _execute(
    title: str, data: dict[str, Any], *, inputs: bool = False, style: str | None = None
) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "title": title,
        "verb": VERB,
        "data": data,
        "associatedInputs": "auto" if inputs else "none",
        "fallback": {
            "type": "Action.Submit",
            "title": title,
            "data": {"verb": VERB, **data},
            "associatedInputs": "auto" if inputs else "none",
        },
    }
    if style:
        action["style"] = style
    return action


def _button(button: Button) -> dict[str, Any]:
    return _execute(
        button.label, {"kp": token_for(button.action, button.payload)}, style=_STYLES.get(button.style)
    )


def _scale(block: Choice) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    if block.label:
        elements.append({**_text_block(block.label), "weight": "bolder"})
    columns = []
    for option in block.options:
        click = _execute(option.label, {"kp": token_for(block.action, option.payload)})
        click.pop("fallback")  # a column's selectAction takes no fallback
        columns.append(
            {
                "type": "Column",
                "width": "stretch",
                "style": "emphasis",
                "selectAction": click,
                "items": [
                    {
                        "type": "TextBlock",
                        "text": option.label,
                        "horizontalAlignment": "center",
                        "weight": "bolder",
                    }
                ],
            }
        )
    elements.append({"type": "ColumnSet", "spacing": "small", "columns": columns})
    if block.low_label or block.high_label:
        elements.append(
            {
                "type": "ColumnSet",
                "spacing": "small",
                "columns": [
                    {"type": "Column", "width": "stretch", "items": [_anchor(block.low_label, "left")]},
                    {"type": "Column", "width": "stretch", "items": [_anchor(block.high_label, "right")]},
                ],
            }
        )
    return elements


def _anchor(text: str | None, alignment: str) -> dict[str, Any]:
    return {
        "type": "TextBlock",
        "text": text or " ",
        "size": "small",
        "isSubtle": True,
        "wrap": True,
        "horizontalAlignment": alignment,
    }


def _select(block: Choice, index: int, labels: Labels) -> list[dict[str, Any]]:
    input_id = f"b{index}.choice"
    choices = [
        {"title": option.label, "value": token_for(block.action, option.payload)} for option in block.options
    ]
    picker: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "style": "compact",
        "choices": choices,
        "isRequired": True,
        "errorMessage": labels.required,
    }
    if block.label:
        picker["label"] = block.label
    return [
        picker,
        {"type": "ActionSet", "actions": [_execute(labels.choose, {"kp_select": input_id}, inputs=True)]},
    ]


def _form(block: Form, index: int, labels: Labels) -> list[dict[str, Any]]:
    prefix = f"b{index}"
    items: list[dict[str, Any]] = [{**_text_block(block.title), "weight": "bolder", "size": "medium"}]
    for field in block.fields:
        control: dict[str, Any] = {
            "id": f"{prefix}.{field.name}",
            "label": field.label,
            "isRequired": field.required,
            "errorMessage": labels.required,
        }
        if field.style == "select":
            control.update(
                type="Input.ChoiceSet",
                style="compact",
                choices=[{"title": label, "value": value} for value, label in field.options],
            )
        else:
            control.update(
                type="Input.Text",
                maxLength=field.max_length,
                isMultiline=field.style == "textarea",
            )
            if field.placeholder:
                control["placeholder"] = field.placeholder
        if field.value:
            control["value"] = field.value
        items.append(control)
        error = block.errors.get(field.name)
        if error:
            items.append({**_text_block(error), "color": "attention", "size": "small", "spacing": "none"})
    submit = _execute(
        block.submit_label,
        {"kp": token_for(block.action, block.payload), "kp_form": prefix},
        inputs=True,
        style="positive",
    )
    items.append({"type": "ActionSet", "actions": [submit]})
    return [{"type": "Container", "items": items}]
