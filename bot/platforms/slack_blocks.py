"""Block Kit building blocks within Slack's documented limits (docs.slack.dev/reference/block-kit).

Limits: 50 blocks in a message (100 in a view); 3000 characters of section text (2000 in context); 25
elements in an actions block; 75 characters of button, option and select text; 2000 characters of a
button's value; 100 options in a static select; 150 characters of a placeholder. Text that does not fit is
split at the widest boundary (paragraph, line, word) or clipped with an ellipsis; nothing here raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from bot import markup

Block = dict[str, Any]
Tokens = list[tuple[str, dict[str, Any]]]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT = 3000
CONTEXT_TEXT = 2000
FALLBACK_TEXT = 3000
BUTTON_TEXT = 75
OPTION_TEXT = 75
OPTIONS_PER_SELECT = 100
ELEMENTS_PER_ACTIONS = 25
ACTION_VALUE = 2000
URL_LENGTH = 3000
ALT_TEXT = 2000
PLACEHOLDER = 150
ELLIPSIS = "…"

_SPLIT = re.compile(r"(\n\n|\n| )")


def clip(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + ELLIPSIS


def plain_text(text: str, limit: int) -> Block:
    """A ``plain_text`` object: never empty, at most ``limit`` characters."""
    return {"type": "plain_text", "text": clip(text.strip() or ELLIPSIS, limit), "emoji": True}


def _slack_length_bound(text: str) -> int:
    """An upper bound of ``len(markup.to_slack(text))``: escaping grows &, <, > by at most 4 each."""
    return len(text) + 4 * (text.count("&") + text.count("<") + text.count(">"))


def split_text(text: str, limit: int, convert: Callable[[str], str] = markup.to_slack) -> list[str]:
    """Converted chunks of ``text``, each at most ``limit`` characters, cut at the widest boundary."""
    text = text.strip()
    if not text:
        return []
    whole = convert(text)
    if len(whole) <= limit:
        return [whole]
    chunks: list[str] = []
    current = ""
    for piece in _SPLIT.split(text):
        if _slack_length_bound(current + piece) <= limit:
            current += piece
            continue
        if current.strip():
            chunks.append(current)
        current = piece if piece.strip() else ""
        while _slack_length_bound(current) > limit:  # one word longer than a block: cut it
            low, high = 1, min(len(current), limit)
            while low < high:
                middle = (low + high + 1) // 2
                if _slack_length_bound(current[:middle]) <= limit:
                    low = middle
                else:
                    high = middle - 1
            chunks.append(current[:low])
            current = current[low:]
    if current.strip():
        chunks.append(current)
    out = [convert(chunk.strip()) for chunk in chunks if chunk.strip()]
    return [chunk if len(chunk) <= limit else clip(chunk, limit) for chunk in out]


def sections(text: str) -> Iterator[Block]:
    for chunk in split_text(text, SECTION_TEXT):
        yield {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}


def context_blocks(text: str) -> Iterator[Block]:
    """Small print, split into context blocks within their limit."""
    for chunk in split_text(text, CONTEXT_TEXT):
        yield {"type": "context", "elements": [{"type": "mrkdwn", "text": chunk}]}


def safe_url(url: str) -> str | None:
    return url if url.startswith(("https://", "http://")) and len(url) <= URL_LENGTH else None


def chunked[T](items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def button_element(label: str, action_id: str, value: str, style: str = "default") -> Block:
    element: Block = {
        "type": "button",
        "text": plain_text(label, BUTTON_TEXT),
        "action_id": action_id,
        "value": value[:ACTION_VALUE],
    }
    if style in ("primary", "danger"):
        element["style"] = style
    return element


def action_blocks(elements: list[Block]) -> Iterator[Block]:
    for row in chunked(elements, ELEMENTS_PER_ACTIONS):
        yield {"type": "actions", "elements": row}
