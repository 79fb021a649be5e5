"""Light Markdown, the one text format handlers write, turned into each platform's own.

Supported: ``**bold**``, ``_italic_``, ```code```, ``[label](https://…)``, lines starting with ``- `` as bullets,
and line breaks. Everything else is text; output for HTML targets is always escaped first.
"""

from __future__ import annotations

import html
import re

_LINK = re.compile(r"\[([^\]\n]{1,300})\]\((https?://[^)\s]{1,2000})\)")
_BOLD = re.compile(r"\*\*(?=\S)([^*\n]{1,2000}?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])_(?=\S)([^_\n]{1,2000}?)(?<=\S)_(?!\w)")
_CODE = re.compile(r"`([^`\n]{1,2000})`")
_BULLET = re.compile(r"^- ", re.MULTILINE)
_PARKED = re.compile(r"<(\d+)>")


def to_html(text: str, *, line_break: str = "<br>") -> str:
    """Safe HTML (web chat, Telegram): <b>, <i>, <code>, <a href> only, always balanced.

    Each finished span is parked behind a placeholder ``<n>`` (escaped text holds no ``<``), so a later
    span may wrap a whole earlier one but never cut into it: ``**a [b** c](…)`` or a ``_`` inside a link's
    address stay text instead of crossing tags.
    """
    spans: list[str] = []

    def park(html_span: str) -> str:
        spans.append(html_span)
        return f"<{len(spans) - 1}>"

    def emphasis(part: str) -> str:
        part = _BOLD.sub(lambda m: park(f"<b>{m.group(1)}</b>"), part)
        return _ITALIC.sub(lambda m: park(f"<i>{m.group(1)}</i>"), part)

    def link(m: re.Match[str]) -> str:
        if "<" in m.group(2):  # a code span inside the address: not a link
            return m.group(0)
        return park(f'<a href="{m.group(2)}">{emphasis(m.group(1))}</a>')

    escaped = html.escape(text, quote=True)
    escaped = _CODE.sub(lambda m: park(f"<code>{m.group(1)}</code>"), escaped)
    escaped = emphasis(_LINK.sub(link, escaped))
    escaped = _BULLET.sub("• ", escaped).replace("\n", line_break)
    while _PARKED.search(escaped):
        escaped = _PARKED.sub(lambda m: spans[int(m.group(1))], escaped)
    return escaped


def to_slack(text: str) -> str:
    """Slack mrkdwn: *bold*, _italic_, `code`, <url|label>; &, <, > escaped as Slack asks."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", escaped)
    escaped = _BOLD.sub(r"*\1*", escaped)
    return _BULLET.sub("• ", escaped)


def to_teams(text: str) -> str:
    """Adaptive Card TextBlock Markdown: **bold**, _italic_, [label](url) and "- " lists are native."""
    return text


def to_plain(text: str) -> str:
    plain = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    plain = _BOLD.sub(r"\1", plain)
    plain = _ITALIC.sub(r"\1", plain)
    plain = _CODE.sub(r"\1", plain)
    return _BULLET.sub("• ", plain)
