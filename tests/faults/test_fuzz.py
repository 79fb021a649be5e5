"""Fuzzing the four renderers: any neutral message renders without a crash and within the platform's limits.

Slack: Block Kit's documented limits (the checks of `tests/platforms/test_slack_render.py`). Teams: an activity
the Agents SDK's `Activity` model accepts, at most 28 KB, unique input ids; or `CardTooLarge`, and then only
when the controls alone cannot fit (the sender turns it into a permanent failure). Telegram: every part parses as Telegram's HTML (only its tags, balanced;
the fake's own parser), is not empty and at most 4096 characters as Telegram counts them; callback data of
1–64 bytes, non-empty labels, at most 8 buttons a row and 100 a keyboard. Web chat: only the tags and
attributes the renderer itself writes, balanced, links http(s) only: nothing a member typed becomes markup.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from microsoft_agents.activity import Activity

from bot.app import Services
from bot.messages import Button, Buttons, Choice, Context, Form, Message, Option, Quote, Text
from bot.platforms import slack_render, teams_render, telegram_render, web_render
from bot.platforms.base import Outgoing, PermanentSendError
from bot.platforms.teams_render import MAX_ACTIVITY_BYTES, CardTooLarge, Labels
from tests.fakes.teams_api import FakeTeams
from tests.fakes.telegram_api import ApiError, FakeTelegram, u16len
from tests.faults.strategies import FUZZ, messages
from tests.platforms.teams_harness import teams_settings
from tests.platforms.test_slack_render import assert_within_block_kit_limits

TEAMS_LABELS = Labels(choose="Kies", required="Dit veld is verplicht.")
TELEGRAM = FakeTelegram()
TELEGRAM_ROW = 8
TELEGRAM_KEYBOARD = 100

MARKUP_TANGLES = [
    "**a [b** c](https://example.com)",
    "`[a](https://example.com`)",
    "[a](https://example.com/_x_/)",
    "[a](https://example.com/**x**)",
    "**a _b** c_",
    "_a **b_ c**",
    "`**a` b**",
]
"""Markdown whose spans overlap: each must still become balanced tags with intact links."""


def check_slack(message: Message) -> None:
    rendered = slack_render.render(message)
    assert_within_block_kit_limits(rendered.blocks)
    assert 0 < len(rendered.text) <= 3000


def _size(activity: dict[str, Any]) -> int:
    return len(json.dumps(activity, ensure_ascii=False, separators=(",", ":")).encode())


def _input_ids(node: Any) -> list[str]:
    if isinstance(node, list):
        return [found for item in node for found in _input_ids(item)]
    if not isinstance(node, dict):
        return []
    own = [node["id"]] if str(node.get("type", "")).startswith("Input.") else []
    return own + [found for value in node.values() for found in _input_ids(value)]


def _shortest_texts(message: Message) -> Message:
    """``message`` with every text already as short as the Teams renderer may make it."""

    def cut(text: str) -> str:
        return text if len(text) < 200 else text[:198] + "…"

    blocks = [
        block.model_copy(update={"text": cut(block.text)})
        if isinstance(block, Text | Context | Quote)
        else block
        for block in message.blocks
    ]
    return Message(blocks=tuple(blocks), key=message.key)


def check_teams(message: Message) -> None:
    for card in (False, True):
        try:
            activity = teams_render.render(message, TEAMS_LABELS, card=card)
        except CardTooLarge:
            with pytest.raises(CardTooLarge):  # shortening every text would not have helped either
                teams_render.render(_shortest_texts(message), TEAMS_LABELS, card=card)
            continue
        assert _size(activity) <= MAX_ACTIVITY_BYTES
        Activity.model_validate(activity)
        ids = _input_ids(activity)
        assert len(ids) == len(set(ids)), "input ids are unique within a card"
        if "text" in activity:
            assert activity["text"].strip() or not message.plain_text.strip()


def check_telegram(message: Message) -> None:
    parts = telegram_render.render(message, lambda key: f"[{key}]")
    assert parts
    for number, part in enumerate(parts, start=1):
        try:
            text, entities = TELEGRAM._text({"text": part.html, "parse_mode": "HTML"})
        except ApiError as error:
            raise AssertionError(
                f"Telegram refuses part {number}: {error.description}\n{part.html}"
            ) from None
        assert u16len(text) <= telegram_render.MAX_TEXT
        for entity in entities:
            if entity["type"] == "text_link":
                assert entity["url"].startswith(("https://", "http://")), entity
        if number < len(parts):
            assert part.keyboard == (), "the keyboard goes on the last part only"
    keyboard = parts[-1].keyboard
    markup = {
        "inline_keyboard": [
            [{"text": label, "callback_data": data} for label, data in row] for row in keyboard
        ]
    }
    TELEGRAM._markup({"reply_markup": markup})
    assert all(1 <= len(row) <= TELEGRAM_ROW for row in keyboard)
    assert sum(len(row) for row in keyboard) <= TELEGRAM_KEYBOARD


WEB_TAGS = {
    "a": {"class", "href", "target", "rel"},
    "b": set(),
    "blockquote": {"class"},
    "br": set(),
    "button": {"type", "class", "data-token"},
    "code": set(),
    "div": {"class", "role"},
    "footer": set(),
    "form": {"class", "data-token"},
    "hr": {"class"},
    "i": set(),
    "img": {"class", "src", "alt", "loading"},
    "input": {"type", "name", "value", "maxlength", "placeholder", "required"},
    "label": {"class"},
    "option": {"value", "selected"},
    "p": set(),
    "select": {"class", "name", "required"},
    "span": set(),
    "textarea": {"name", "maxlength", "placeholder", "required"},
}
VOID = {"br", "hr", "img", "input"}


class _WebChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in WEB_TAGS, f"a <{tag}> the renderer never writes"
        for name, value in attrs:
            assert name in WEB_TAGS[tag], f"an attribute {name!r} on <{tag}>"
            if name in ("href", "src"):
                assert (value or "").startswith(("https://", "http://")), f"{name}={value!r}"
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise AssertionError(f"a self-closing <{tag}/> the renderer never writes")

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()


def check_web(message: Message) -> None:
    checker = _WebChecker()
    checker.feed(web_render.render(message))
    checker.close()
    assert checker.open == [], f"unclosed {checker.open}"


CHECKS = {"slack": check_slack, "teams": check_teams, "telegram": check_telegram, "web": check_web}


@pytest.mark.parametrize("platform", sorted(CHECKS))
@settings(FUZZ, max_examples=100)
@given(message=messages)
@example(message=Message(blocks=(Buttons(buttons=(Button(label="Ja", action="x.y"),)),)))  # no summary
@example(message=Message.text("<&\x1f\x07\x07" * 1061))  # JSON writes each control character in 6 bytes
@example(message=Message(blocks=(Quote(text=""),)))  # Telegram: "message text is empty"
@example(message=Message(blocks=(Context(text="woord " * 1500),) * 60))  # Teams gave up shortening too soon
@example(message=Message(blocks=(Buttons(buttons=(Button(label="", action="x.y"),)),)))  # BUTTON_TEXT_INVALID
@example(  # Telegram: REPLY_MARKUP_TOO_LONG past 100 buttons
    message=Message(blocks=(Choice(action="x.y", options=tuple(Option(label=f"{n}") for n in range(150))),))
)
def test_every_message_renders_within_the_platform_limits(platform: str, message: Message) -> None:
    CHECKS[platform](message)


@pytest.mark.parametrize("platform", sorted(CHECKS))
@pytest.mark.parametrize("text", MARKUP_TANGLES)
def test_overlapping_markdown_still_renders_valid_markup(platform: str, text: str) -> None:
    CHECKS[platform](Message(blocks=(Text(text=text), Context(text=text), Quote(text=text, author=text))))


@pytest.mark.parametrize(
    ("text", "addresses"),
    [
        ("**a [b** c](https://example.com)", ["https://example.com"]),
        ("[a](https://example.com/_x_/)", ["https://example.com/_x_/"]),
        ("[a](https://example.com/**x**)", ["https://example.com/**x**"]),
        ("`[a](https://example.com`)", []),
    ],
)
def test_a_link_keeps_its_address_whatever_surrounds_it(text: str, addresses: list[str]) -> None:
    web = web_render.render(Message.text(text))
    telegram = telegram_render.render(Message.text(text), str)[0].html
    for rendered in (web, telegram):
        assert re.findall(r'<a href="([^"]*)"', rendered) == addresses


def test_a_form_renders_everywhere_with_its_errors() -> None:
    form = Form(action="x.y", title="<b>Titel", submit_label="", fields=(), errors={"x": "<i>fout"})
    for check in CHECKS.values():
        check(Message(blocks=(form,)))


DISCARD_PORT = 9


async def test_the_teams_sender_gives_up_on_a_card_that_cannot_fit(tmp_path: Path) -> None:
    fake = FakeTeams()
    fake.base_url = f"http://127.0.0.1:{DISCARD_PORT}"  # never called: the card is refused before it is sent
    services = Services(teams_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/unused.db", fake))
    options = tuple(Option(label=f"Optie {n} " + "x" * 60, payload={"n": n}) for n in range(600))
    too_big = Message(blocks=(Choice(action="x.y", options=options),))
    with pytest.raises(CardTooLarge):
        teams_render.render(too_big, TEAMS_LABELS)
    outgoing = Outgoing(
        delivery_id=1,
        key="fuzz:too-big",
        platform="teams",
        target="19:fuzz@thread.v2",
        message=too_big,
        locale="nl",
        ephemeral=False,
        member_id=None,
        thread_ref=None,
        edit_ref=None,
        attempts=0,
    )
    with pytest.raises(PermanentSendError):  # the outbox stops: Teams would never take it
        await services.platforms["teams"].send(outgoing)
