"""Neutral messages → HTML for the built-in web chat. Every block kind is rendered; all text is escaped."""

from __future__ import annotations

import html

from bot import markup
from bot.messages import (
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


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _safe_url(url: str) -> str | None:
    return url if url.startswith(("https://", "http://")) else None


def render(message: Message) -> str:
    """HTML for one message; buttons and forms carry server-side tokens, never payloads."""
    parts: list[str] = []
    for block in message.blocks:
        if isinstance(block, Text):
            parts.append(f'<div class="kp-text">{markup.to_html(block.text)}</div>')
        elif isinstance(block, Context):
            parts.append(f'<div class="kp-context">{markup.to_html(block.text)}</div>')
        elif isinstance(block, Quote):
            author = f"<footer>— {html.escape(block.author)}</footer>" if block.author else ""
            parts.append(
                f'<blockquote class="kp-quote"><p>{markup.to_html(block.text)}</p>{author}</blockquote>'
            )
        elif isinstance(block, Image):
            url = _safe_url(block.url)
            if url:
                parts.append(
                    f'<img class="kp-image" src="{_attr(url)}" alt="{_attr(block.alt)}" loading="lazy">'
                )
        elif isinstance(block, Video):
            url = _safe_url(block.url)
            if url:
                parts.append(
                    f'<a class="kp-video" href="{_attr(url)}" target="_blank" rel="noopener noreferrer">'
                    f"▶ {html.escape(block.title)}</a>"
                )
        elif isinstance(block, Divider):
            parts.append('<hr class="kp-divider">')
        elif isinstance(block, Buttons):
            buttons = "".join(
                f'<button type="button" class="kp-button kp-{button.style}" '
                f'data-token="{token_for(button.action, button.payload)}">{html.escape(button.label)}</button>'
                for button in block.buttons
            )
            parts.append(f'<div class="kp-buttons">{buttons}</div>')
        elif isinstance(block, Choice):
            parts.append(_choice(block))
        elif isinstance(block, Form):
            parts.append(_form(block))
    return "".join(parts)


def _choice(block: Choice) -> str:
    label = f'<div class="kp-choice-label">{markup.to_html(block.label)}</div>' if block.label else ""
    if block.style == "scale":
        options = "".join(
            f'<button type="button" class="kp-button kp-scale-option" '
            f'data-token="{token_for(block.action, option.payload)}">{html.escape(option.label)}</button>'
            for option in block.options
        )
        anchors = ""
        if block.low_label or block.high_label:
            anchors = (
                f'<div class="kp-anchors"><span>{html.escape(block.low_label or "")}</span>'
                f"<span>{html.escape(block.high_label or '')}</span></div>"
            )
        return (
            f'<div class="kp-choice kp-scale">{label}<div class="kp-scale-row">{options}</div>{anchors}</div>'
        )
    options = "".join(
        f'<option value="{token_for(block.action, option.payload)}">{html.escape(option.label)}</option>'
        for option in block.options
    )
    return f'<div class="kp-choice">{label}<select class="kp-select"><option value="">…</option>{options}</select></div>'


def _form(block: Form) -> str:
    rows: list[str] = []
    for field in block.fields:
        name = _attr(field.name)
        required = " required" if field.required else ""
        error = block.errors.get(field.name)
        error_html = f'<div class="kp-field-error" role="alert">{html.escape(error)}</div>' if error else ""
        if field.style == "textarea":
            control = (
                f'<textarea name="{name}" maxlength="{field.max_length}" placeholder="{_attr(field.placeholder)}"'
                f"{required}>{html.escape(field.value)}</textarea>"
            )
        elif field.style == "select":
            options = "".join(
                f'<option value="{_attr(value)}"{" selected" if value == field.value else ""}>{html.escape(label)}</option>'
                for value, label in field.options
            )
            control = f'<select name="{name}"{required}><option value=""></option>{options}</select>'
        else:
            control = (
                f'<input type="text" name="{name}" value="{_attr(field.value)}" maxlength="{field.max_length}" '
                f'placeholder="{_attr(field.placeholder)}"{required}>'
            )
        rows.append(
            f'<label class="kp-field"><span>{html.escape(field.label)}</span>{control}{error_html}</label>'
        )
    token = token_for(block.action, block.payload)
    return (
        f'<form class="kp-form" data-token="{token}"><div class="kp-form-title">{html.escape(block.title)}</div>'
        f'{"".join(rows)}<button type="submit" class="kp-button kp-primary">{html.escape(block.submit_label)}</button></form>'
    )
