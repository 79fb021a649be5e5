"""Neutral messages → Telegram HTML and inline keyboards, split to fit Telegram's 4096-character limit.

Every block kind is rendered: text, context and quotes as HTML (only tags Telegram supports, all text
escaped), images and videos as links (Telegram shows a preview), buttons and choices as inline keyboards
whose callback data is our 20-character server-side token (Telegram allows 64 bytes), and a form as a
button that starts a step-by-step conversation (`bot.platforms.telegram_forms`). No SDK import here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot import markup
from bot.messages import Buttons, Choice, Context, Divider, Form, Image, Message, Quote, Text, Video
from storage.repositories.tokens import token_for

MAX_TEXT = 4096
MAX_BUTTONS = 100
FORM_START = "f."
"""Callback data of a form's start button: ``f.`` and the form's token (never a router action)."""
EMPTY = "…"
_TAG = re.compile(r"<[^>]+>")
_ROW_BUTTONS = 3
_ROW_CHARACTERS = 36
_SCALE_ROW = 6

KeyboardButton = tuple[str, str]
"""(label, callback data)."""
Keyboard = tuple[tuple[KeyboardButton, ...], ...]


@dataclass(frozen=True)
class Part:
    """One Telegram message: HTML text and, on the last part only, the inline keyboard."""

    html: str
    keyboard: Keyboard = ()


def visible_length(fragment: str) -> int:
    """Length as Telegram counts it: UTF-16 code units of the text after HTML parsing."""
    return len(html.unescape(_TAG.sub("", fragment)).encode("utf-16-le")) // 2


def _safe_url(url: str) -> str | None:
    return url if url.startswith(("https://", "http://")) else None


def _inline(text: str) -> str:
    return markup.to_html(text, line_break="\n")


def _paragraphs(text: str) -> list[str]:
    return [_inline(paragraph) for paragraph in re.split(r"\n{2,}", text.strip()) if paragraph.strip()]


def _rows(buttons: list[KeyboardButton], per_row: int = _ROW_BUTTONS) -> list[tuple[KeyboardButton, ...]]:
    """Short labels share a row; long ones get their own (Telegram cuts labels that do not fit)."""
    rows: list[tuple[KeyboardButton, ...]] = []
    row: list[KeyboardButton] = []
    for button in buttons:
        width = sum(len(label) for label, _ in row) + len(button[0])
        if row and (len(row) >= per_row or width > _ROW_CHARACTERS):
            rows.append(tuple(row))
            row = []
        row.append(button)
    if row:
        rows.append(tuple(row))
    return rows


def render(message: Message, label: Callable[[str], str]) -> list[Part]:
    """The parts to send for ``message``; ``label(key)`` gives a prompt in the recipient's language."""
    paragraphs: list[str] = []
    keyboard: list[tuple[KeyboardButton, ...]] = []
    for block in message.blocks:
        if isinstance(block, Text):
            paragraphs.extend(_paragraphs(block.text))
        elif isinstance(block, Context):
            paragraphs.extend(
                f"<i>{paragraph.replace('<i>', '').replace('</i>', '')}</i>"
                for paragraph in _paragraphs(block.text)
            )
        elif isinstance(block, Quote):
            author = f"\n— {html.escape(block.author)}" if block.author else ""
            paragraphs.append(f"<blockquote>{_inline(block.text.strip())}{author}</blockquote>")
        elif isinstance(block, Image | Video):
            url = _safe_url(block.url)
            if url:
                icon, caption = ("🖼", block.alt) if isinstance(block, Image) else ("▶️", block.title)
                link = f'<a href="{html.escape(url, quote=True)}">{html.escape(caption or url)}</a>'
                paragraphs.append(f"{icon} {link}")
        elif isinstance(block, Divider):
            paragraphs.append("──────────")
        elif isinstance(block, Buttons):
            keyboard.extend(
                _rows([(button.label, token_for(button.action, button.payload)) for button in block.buttons])
            )
        elif isinstance(block, Choice):
            paragraphs.extend(_choice_text(block))
            options = [(option.label, token_for(block.action, option.payload)) for option in block.options]
            if block.style == "scale":
                keyboard.extend(
                    tuple(options[i : i + _SCALE_ROW]) for i in range(0, len(options), _SCALE_ROW)
                )
            else:
                keyboard.extend(_rows(options, per_row=2))
        elif isinstance(block, Form):
            paragraphs.append(f"📝 <b>{html.escape(block.title)}</b>")
            for field in block.fields:
                error = block.errors.get(field.name)
                if error:
                    paragraphs.append(f"⚠️ {html.escape(field.label)}: {html.escape(error)}")
            keyboard.append(
                ((label("telegram.form.start"), FORM_START + token_for(block.action, block.payload)),)
            )
    # Telegram refuses a message without visible text (an empty quote, a blank title).
    paragraphs = [paragraph for paragraph in paragraphs if html.unescape(_TAG.sub("", paragraph)).strip()]
    texts = split(paragraphs) or [EMPTY]
    parts = [Part(text) for text in texts]
    parts[-1] = Part(texts[-1], _fit(keyboard))
    return parts


def _fit(keyboard: list[tuple[KeyboardButton, ...]]) -> Keyboard:
    """What Telegram takes: every label non-empty, at most 100 buttons (more is REPLY_MARKUP_TOO_LONG;
    the buttons past that are left out, a form's answers can be typed too)."""
    rows: list[tuple[KeyboardButton, ...]] = []
    room = MAX_BUTTONS
    for row in keyboard:
        kept = tuple((text.strip() or EMPTY, data) for text, data in row[:room])
        if kept:
            rows.append(kept)
        room -= len(kept)
    return tuple(rows)


def _choice_text(block: Choice) -> list[str]:
    lines = _paragraphs(block.label) if block.label else []
    if block.style == "scale" and block.options and (block.low_label or block.high_label):
        low = f"{html.escape(block.options[0].label)} = {html.escape(block.low_label or '')}"
        high = f"{html.escape(block.options[-1].label)} = {html.escape(block.high_label or '')}"
        lines.append(f"<i>{low} · {high}</i>")
    return lines


def split(paragraphs: list[str], limit: int = MAX_TEXT) -> list[str]:
    """Pack paragraphs into texts of at most ``limit`` visible characters, breaking only between
    paragraphs; a single paragraph longer than that is broken at line ends or spaces, as plain text."""
    pieces: list[str] = []
    for paragraph in paragraphs:
        if visible_length(paragraph) <= limit:
            pieces.append(paragraph)
        else:
            pieces.extend(_break_plain(html.unescape(_TAG.sub("", paragraph)), limit))
    texts: list[str] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        length = visible_length(piece)
        if current and size + 2 + length > limit:
            texts.append("\n\n".join(current))
            current, size = [], 0
        size += length + (2 if current else 0)
        current.append(piece)
    if current:
        texts.append("\n\n".join(current))
    return texts


def _break_plain(text: str, limit: int) -> list[str]:
    chunks: list[str] = []
    while text:
        if len(text.encode("utf-16-le")) // 2 <= limit:
            chunks.append(text)
            break
        cut = limit
        while len(text[:cut].encode("utf-16-le")) // 2 > limit:
            cut -= 1
        window = text[:cut]
        at = max(window.rfind("\n"), window.rfind(" "))
        if at > limit // 2:
            cut = at
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [html.escape(chunk, quote=False) for chunk in chunks if chunk]
