"""Neutral messages → Slack Block Kit, within Slack's documented limits (`slack_blocks`), degrading on purpose.

Degradation: long text is split into several sections at paragraph, line or word boundaries; buttons
beyond a block's capacity go into further blocks; a choice of more than 100 options becomes one select that
searches as the person types (its options come from the options URL); a video becomes a link; an image with
an unsafe URL is left out; too many blocks are first merged, then cut with an ellipsis. Nothing raises.
Modals (forms) are rendered in `bot.platforms.slack_modals`.

Buttons, options and form openers carry a short server-side token (`token_for`), never a payload. A
form cannot live inside a Slack message: it becomes a button that opens a modal. That button's token
stands for the form itself (action :data:`FORM_ACTION`), which `SlackPlatform.send` registers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bot import markup
from bot.messages import Buttons, Choice, Context, Divider, Form, Image, Message, Quote, Text, Video
from bot.platforms.slack_blocks import (
    ALT_TEXT,
    CONTEXT_TEXT,
    ELLIPSIS,
    FALLBACK_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_VIEW_BLOCKS,
    OPTION_TEXT,
    OPTIONS_PER_SELECT,
    PLACEHOLDER,
    SECTION_TEXT,
    Block,
    Tokens,
    action_blocks,
    button_element,
    chunked,
    clip,
    context_blocks,
    plain_text,
    safe_url,
    sections,
    split_text,
)
from storage.repositories.tokens import token_for

ACTION_PREFIX = "kp:"
"""``action_id`` of every button and select whose value is a router token."""
FORM_OPENER_PREFIX = "kp-form:"
"""``action_id`` of a button that opens a form's modal."""
OPTIONS_PREFIX = "kp-options:"
"""``action_id`` of an external select: its options come from the options URL (`external_select`)."""
FORM_ACTION = "slack.form"
"""The token action standing for a whole form (its fields), resolved by the Slack platform itself."""
OPTIONS_ACTION = "slack.options"
"""The token action standing for the option list of an external select, resolved by the platform itself."""


@dataclass
class Rendered:
    blocks: list[Block]
    text: str
    tokens: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(action, payload) pairs the sender registers before posting: forms behind their opener buttons
    (`FORM_ACTION`) and the option lists of long selects (`OPTIONS_ACTION`)."""


class _Ids:
    def __init__(self) -> None:
        self.count = 0

    def next(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"


def _choice(block: Choice, ids: _Ids, tokens: Tokens) -> Iterator[Block]:
    if block.label:
        yield from sections(block.label)
    if block.style == "scale":
        buttons = [
            button_element(option.label, ids.next(ACTION_PREFIX), token_for(block.action, option.payload))
            for option in block.options
        ]
        yield from action_blocks(buttons)
        if (block.low_label or block.high_label) and block.options:
            first, last = block.options[0].label, block.options[-1].label
            anchors = " · ".join(
                f"{markup.to_slack(value)} = {markup.to_slack(label)}"
                for value, label in ((first, block.low_label), (last, block.high_label))
                if label
            )
            yield {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(anchors, CONTEXT_TEXT)}]}
        return
    placeholder = plain_text(block.label or ELLIPSIS, PLACEHOLDER)
    if len(block.options) > OPTIONS_PER_SELECT:  # one select that searches, not several of 100 each
        options = [(option.label, token_for(block.action, option.payload)) for option in block.options]
        yield from action_blocks([external_select(options, placeholder, ids.next(""), tokens)])
        return
    selects = []
    for group in chunked(list(block.options), OPTIONS_PER_SELECT):
        selects.append(
            {
                "type": "static_select",
                "action_id": ids.next(ACTION_PREFIX),
                "placeholder": placeholder,
                "options": [
                    {
                        "text": plain_text(option.label, OPTION_TEXT),
                        "value": token_for(block.action, option.payload),
                    }
                    for option in group
                ],
            }
        )
    yield from action_blocks(selects)


def external_select(
    options: list[tuple[str, str]], placeholder: Block | None, suffix: str, tokens: Tokens
) -> Block:
    """A select whose options Slack asks for as the person types (``block_suggestion`` on the options URL).

    The (label, value) list is stored behind a token in the ``action_id``; see `options_matching`.
    """
    payload = {"options": [[clip(label.strip() or ELLIPSIS, OPTION_TEXT), value] for label, value in options]}
    tokens.append((OPTIONS_ACTION, payload))
    element: Block = {
        "type": "external_select",
        "action_id": f"{OPTIONS_PREFIX}{token_for(OPTIONS_ACTION, payload)}:{suffix}",
        "min_query_length": 0,
    }
    if placeholder is not None:
        element["placeholder"] = placeholder
    return element


def options_token(action_id: str) -> str:
    """The token of an external select's option list, from its ``action_id``."""
    return action_id.removeprefix(OPTIONS_PREFIX).split(":", 1)[0]


def options_matching(payload: dict[str, Any], typed: str) -> list[Block]:
    """The options of a stored list whose label contains ``typed`` (any case), at most a select's worth."""
    wanted = typed.strip().casefold()
    found = [
        {"text": plain_text(str(label), OPTION_TEXT), "value": str(value)}
        for label, value in payload.get("options") or []
        if wanted in str(label).casefold()
    ]
    return found[:OPTIONS_PER_SELECT]


def _quote(block: Quote) -> Iterator[Block]:
    body = "\n".join(f"> {line}" if line.strip() else ">" for line in block.text.strip().splitlines())
    if block.author:
        body += f"\n> — _{block.author}_"
    for chunk in split_text(body, SECTION_TEXT, convert=_quote_convert):
        yield {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}


def _quote_convert(text: str) -> str:
    # Keep the leading "> " of each line as Slack's quote marker, escape the rest.
    return "\n".join(
        ">" + markup.to_slack(line[1:]) if line.startswith(">") else markup.to_slack(line)
        for line in text.splitlines()
    )


def form_value(form: Form) -> tuple[str, dict[str, Any]]:
    """The token of the button that opens ``form``, and what it stands for."""
    payload = form.model_dump(mode="json")
    return token_for(FORM_ACTION, payload), payload


def _form_opener(form: Form, ids: _Ids, tokens: Tokens) -> Iterator[Block]:
    token, payload = form_value(form)
    tokens.append((FORM_ACTION, payload))
    yield {
        "type": "actions",
        "elements": [button_element(form.title, ids.next(FORM_OPENER_PREFIX), token, "primary")],
    }
    if form.errors:
        yield from context_blocks("\n".join(f"⚠️ {error}" for error in form.errors.values()))


def _blocks(message: Message, ids: _Ids, tokens: Tokens) -> Iterator[Block]:
    for block in message.blocks:
        if isinstance(block, Text):
            yield from sections(block.text)
        elif isinstance(block, Context):
            yield from context_blocks(block.text)
        elif isinstance(block, Quote):
            yield from _quote(block)
        elif isinstance(block, Image):
            url = safe_url(block.url)
            if url:
                yield {"type": "image", "image_url": url, "alt_text": clip(block.alt or ELLIPSIS, ALT_TEXT)}
        elif isinstance(block, Video):
            url = safe_url(block.url)
            if url:
                title = re.sub(r"[\[\]\n]", " ", block.title).strip()[:300] or url
                yield from sections(f"▶️ [{title}]({url})")
        elif isinstance(block, Divider):
            yield {"type": "divider"}
        elif isinstance(block, Buttons):
            yield from action_blocks(
                [
                    button_element(
                        button.label,
                        ids.next(ACTION_PREFIX),
                        token_for(button.action, button.payload),
                        button.style,
                    )
                    for button in block.buttons
                ]
            )
        elif isinstance(block, Choice):
            yield from _choice(block, ids, tokens)
        elif isinstance(block, Form):
            yield from _form_opener(block, ids, tokens)


def _is_text_section(block: Block) -> bool:
    return block.get("type") == "section" and set(block) == {"type", "text"}


def fit(blocks: list[Block], limit: int) -> list[Block]:
    """At most ``limit`` blocks: merge neighbouring text sections first, then cut with an ellipsis."""
    if len(blocks) <= limit:
        return blocks
    merged: list[Block] = []
    for block in blocks:
        previous = merged[-1] if merged else None
        if previous is not None and _is_text_section(previous) and _is_text_section(block):
            joined = previous["text"]["text"] + "\n\n" + block["text"]["text"]
            if len(joined) <= SECTION_TEXT:
                merged[-1] = {"type": "section", "text": {"type": "mrkdwn", "text": joined}}
                continue
        merged.append(block)
    if len(merged) <= limit:
        return merged
    return [*merged[: limit - 1], {"type": "context", "elements": [{"type": "mrkdwn", "text": ELLIPSIS}]}]


def fallback_text(message: Message) -> str:
    """The notification text Slack shows where blocks cannot be (push, screen readers)."""
    text = markup.to_plain(message.plain_text).strip()
    if not text:
        text = " · ".join(_labels(message))
    return clip(text or ELLIPSIS, FALLBACK_TEXT)


def _labels(message: Message) -> Iterator[str]:
    for block in message.blocks:
        if isinstance(block, Buttons):
            yield from (button.label for button in block.buttons)
        elif isinstance(block, Choice):
            yield from (option.label for option in block.options)


def render(message: Message, *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> Rendered:
    """Block Kit blocks and fallback text for a message."""
    tokens: Tokens = []
    blocks = fit(list(_blocks(message, _Ids(), tokens)), max_blocks)
    return Rendered(blocks=blocks, text=fallback_text(message), tokens=tokens)


def render_home(messages: list[Message]) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """An App Home view from sections (each a neutral message), divided, within the view's limit."""
    blocks: list[Block] = []
    tokens: Tokens = []
    ids = _Ids()
    for index, message in enumerate(messages):
        if index:
            blocks.append({"type": "divider"})
        blocks.extend(_blocks(message, ids, tokens))
    return {"type": "home", "blocks": fit(blocks, MAX_VIEW_BLOCKS)}, tokens
