"""Hypothesis strategies for the fuzz tests: neutral messages that stress every renderer, and nasty input.

Texts mix light-Markdown fragments (which the renderers turn into tags), raw HTML a member might type,
entities, emoji outside the Basic Multilingual Plane (two UTF-16 units each, as Telegram counts), control
characters and zero-width characters; huge texts are a fragment repeated, so they cost little to draw.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from bot.messages import (
    Block,
    Button,
    Buttons,
    Choice,
    Context,
    Divider,
    Field_,
    Form,
    Image,
    Message,
    Option,
    Quote,
    Text,
    Video,
)

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
"""Deterministic (the same examples on every run, no example database), no per-example deadline."""

FRAGMENTS = [
    "**",
    "_",
    "`",
    "[",
    "]",
    "(",
    ")",
    "](",
    "https://example.com/a_b_/c",
    "http://x.nl/?a=1&b=2",
    "javascript:alert(1)",
    "<b>",
    "</i>",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<at>Bo</at>",
    "&amp;",
    "&lt;",
    "&",
    '"',
    "'",
    "\n",
    "\n\n",
    "- ",
    "> ",
    " ",
    "woord",
    "Ĳsselmeer",
    "🎉",
    "👩‍👩‍👧",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\u200b",
    "\u202e",
    "e\u0301",
    "\r\n",
    "\t",
]

plain_words = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
markup_text = st.lists(st.sampled_from(FRAGMENTS) | plain_words, max_size=40).map("".join)
huge_text = st.one_of(
    st.builds(lambda piece, times: piece * times, st.sampled_from(FRAGMENTS), st.integers(300, 3000)),
    st.builds(lambda piece, times: piece * times, plain_words, st.integers(50, 300)),
)
texts = st.one_of(st.just(""), markup_text, markup_text, markup_text, huge_text)
"""Any text a block may hold: empty, marked up, unicode and control characters, or huge."""
labels = st.one_of(st.just(""), st.just("   "), markup_text, plain_words, st.text(min_size=60, max_size=300))
payloads = st.dictionaries(
    st.sampled_from(["id", "score", "draft", "x"]),
    st.integers(-(10**12), 10**12) | plain_words,
    max_size=3,
)
urls = st.sampled_from(
    [
        "https://example.com/a.png",
        "http://x.nl/v?a=1&b=2",
        'https://example.com/"><script>alert(1)</script>',
        "javascript:alert(1)",
        "ftp://x",
        "",
    ]
)
actions = st.sampled_from(["pulse.answer", "feedback.give", "x.y"])


def _button(label: str, action: str, payload: dict[str, Any], style: str) -> Button:
    return Button(label=label, action=action, payload=payload, style=style)  # type: ignore[arg-type]


buttons = st.builds(
    Buttons,
    buttons=st.lists(
        st.builds(_button, labels, actions, payloads, st.sampled_from(["default", "primary", "danger"])),
        min_size=1,
        max_size=30,
    ).map(tuple),
)
choices = st.builds(
    Choice,
    style=st.sampled_from(["scale", "select"]),
    action=actions,
    label=labels,
    options=st.lists(st.builds(Option, label=labels, payload=payloads), min_size=1, max_size=150).map(tuple),
    low_label=st.none() | labels,
    high_label=st.none() | labels,
)
fields = st.builds(
    Field_,
    name=st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
    label=labels,
    style=st.sampled_from(["text", "textarea", "select"]),
    required=st.booleans(),
    max_length=st.integers(1, 5000),
    options=st.lists(st.tuples(plain_words, labels), max_size=40).map(tuple),
    value=texts,
    placeholder=labels,
)
forms = st.builds(
    Form,
    action=actions,
    title=labels,
    submit_label=labels,
    fields=st.lists(fields, min_size=1, max_size=12, unique_by=lambda field: field.name).map(tuple),
    payload=payloads,
    errors=st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), texts, max_size=4),
)
blocks: st.SearchStrategy[Block] = st.one_of(
    st.builds(Text, text=texts),
    st.builds(Context, text=texts),
    st.builds(Quote, text=texts, author=st.none() | labels),
    st.builds(Image, url=urls, alt=labels),
    st.builds(Video, url=urls, title=labels),
    st.builds(Divider),
    buttons,
    choices,
    forms,
)
messages = st.builds(
    Message,
    blocks=st.one_of(st.lists(blocks, min_size=1, max_size=8), st.lists(blocks, min_size=1, max_size=60)).map(
        tuple
    ),
    key=st.none() | st.just("x.y"),
)
"""Any neutral message: every block kind, a few blocks or very many."""

form_values = st.one_of(
    st.just(""),
    st.just("   "),
    markup_text,
    plain_words,
    st.builds(lambda piece, times: piece * times, st.sampled_from(FRAGMENTS), st.integers(2000, 20000)),
    st.sampled_from(["0", "-1", "99999999999999999999", "1e308", "NaN", "ja", "nee", "none", "2026-02-30"]),
)
"""A value a member (or a forged request) might submit in a form field."""
