"""Block Kit rendering: every neutral block, Slack's limits kept, and nothing the Slack API would refuse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk import WebClient

from bot.messages import (
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
from bot.platforms.slack_blocks import split_text
from bot.platforms.slack_modals import modal_values, render_modal
from bot.platforms.slack_render import (
    FORM_ACTION,
    OPTIONS_ACTION,
    options_matching,
    options_token,
    render,
    render_home,
)
from storage.repositories.tokens import token_for
from tests.fakes.server import serve
from tests.fakes.slack_api import DEFAULT_TOKEN, GENERAL_CHANNEL, FakeSlack, new_trigger_id

words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120)
long_text = st.one_of(words, st.text(alphabet="ab &<>*_`[]()\n-", max_size=9000))
labels = st.text(max_size=200)
payloads = st.dictionaries(st.sampled_from(["id", "score", "x"]), st.integers(0, 10**12), max_size=3)
urls = st.sampled_from(
    ["https://example.com/a.png", "javascript:alert(1)", "http://x.nl/v?a=1&b=2", "ftp://x"]
)

blocks = st.one_of(
    st.builds(Text, text=long_text),
    st.builds(Context, text=long_text),
    st.builds(Quote, text=long_text, author=st.none() | words),
    st.builds(Image, url=urls, alt=labels),
    st.builds(Video, url=urls, title=labels),
    st.builds(Divider),
    st.builds(
        Buttons,
        buttons=st.lists(
            st.builds(
                Button,
                label=labels,
                action=st.just("a.b"),
                payload=payloads,
                style=st.sampled_from(["default", "primary", "danger"]),
            ),
            min_size=1,
            max_size=60,
        ).map(tuple),
    ),
    st.builds(
        Choice,
        style=st.sampled_from(["scale", "select"]),
        action=st.just("pulse.answer"),
        label=words,
        options=st.lists(st.builds(Option, label=labels, payload=payloads), min_size=1, max_size=260).map(
            tuple
        ),
        low_label=st.none() | words,
        high_label=st.none() | words,
    ),
    st.builds(
        Form,
        action=st.just("feedback.give"),
        title=labels,
        submit_label=labels,
        fields=st.lists(
            st.builds(Field_, name=st.from_regex(r"[a-z]{1,12}", fullmatch=True), label=labels),
            min_size=1,
            max_size=4,
        ).map(tuple),
    ),
)
messages = st.builds(Message, blocks=st.lists(blocks, min_size=1, max_size=80).map(tuple))


def elements(rendered: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for block in rendered:
        yield from block.get("elements", [])


def assert_within_block_kit_limits(rendered: list[dict[str, Any]], max_blocks: int = 50) -> None:
    assert len(rendered) <= max_blocks
    action_ids = [element["action_id"] for element in elements(rendered) if "action_id" in element]
    assert len(action_ids) == len(set(action_ids)), "action ids are unique within a message"
    for block in rendered:
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= 3000
        if block["type"] == "actions":
            assert 1 <= len(block["elements"]) <= 25
        if block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
            assert all(len(element["text"]) <= 2000 for element in block["elements"])
        if block["type"] == "image":
            assert block["image_url"].startswith(("https://", "http://")) and len(block["alt_text"]) <= 2000
    for element in elements(rendered):
        if element.get("type") == "button":
            assert 0 < len(element["text"]["text"]) <= 75 and 0 < len(element["value"]) <= 2000
        if element.get("type") == "static_select":
            assert 1 <= len(element["options"]) <= 100
            assert all(len(option["text"]["text"]) <= 75 for option in element["options"])


@pytest.fixture(scope="module")
def slack() -> Iterator[WebClient]:
    fake = FakeSlack(rate_per_channel=None)
    with serve(fake.app) as url:
        yield WebClient(token=DEFAULT_TOKEN, base_url=f"{url}/api/", retry_handlers=[])


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(message=messages)
def test_no_message_renders_into_a_payload_slack_refuses(slack: WebClient, message: Message) -> None:
    rendered = render(message)
    assert_within_block_kit_limits(rendered.blocks)
    assert 0 < len(rendered.text) <= 3000
    response = slack.chat_postMessage(channel=GENERAL_CHANNEL, blocks=rendered.blocks, text=rendered.text)
    assert response["ok"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(sections=st.lists(messages, min_size=1, max_size=6))
def test_no_home_renders_into_a_view_slack_refuses(slack: WebClient, sections: list[Message]) -> None:
    view, _ = render_home(sections)
    assert_within_block_kit_limits(view["blocks"], max_blocks=100)
    assert slack.views_publish(user_id="U0FAKEBOT", view=view)["ok"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    title=labels,
    submit=labels,
    fields=st.lists(
        st.builds(
            Field_,
            name=st.from_regex(r"[a-z]{1,12}", fullmatch=True),
            label=labels,
            style=st.sampled_from(["text", "textarea", "select"]),
            max_length=st.integers(1, 5000),
            value=words,
            placeholder=words,
            options=st.lists(st.tuples(words, labels), max_size=130).map(tuple),
        ),
        min_size=1,
        max_size=8,
        unique_by=lambda field: field.name,
    ),
)
def test_every_form_opens_as_a_valid_modal(
    slack: WebClient, title: str, submit: str, fields: list[Field_]
) -> None:
    form = Form(action="feedback.give", title=title, submit_label=submit, fields=tuple(fields))
    view = render_modal(form, {"t": token_for(form.action, form.payload)}, "Annuleren")
    assert len(view["title"]["text"]) <= 24 and len(view["submit"]["text"]) <= 24
    assert slack.views_open(trigger_id=new_trigger_id(), view=view)["ok"]


def test_every_neutral_block_has_a_block_kit_form() -> None:
    form = Form(
        action="feedback.give",
        title="Feedback",
        submit_label="Send",
        fields=(Field_(name="text", label="Wat?"),),
    )
    message = Message(
        blocks=(
            Text(text="**Vet** en _schuin_ met [een link](https://example.com) & <geen html>"),
            Context(text="klein"),
            Quote(text="De klant belde twee keer.", author="Anna"),
            Image(url="https://example.com/a.png", alt="een foto"),
            Video(url="https://example.com/v", title="Vlog van de week"),
            Divider(),
            Buttons(buttons=(Button(label="Ja", action="x.yes", style="primary"),)),
            Choice(
                style="scale",
                action="pulse.answer",
                label="Hoe waarschijnlijk?",
                options=tuple(Option(label=str(n), payload={"score": n}) for n in range(11)),
                low_label="nooit",
                high_label="zeker",
            ),
            Choice(style="select", action="x.pick", options=(Option(label="Sales", payload={"d": 1}),)),
            form,
        )
    )
    rendered = render(message)
    kinds = [block["type"] for block in rendered.blocks]
    assert kinds == [
        "section",
        "context",
        "section",
        "image",
        "section",
        "divider",
        "actions",
        "section",
        "actions",
        "context",
        "actions",
        "actions",
    ]
    assert (
        rendered.blocks[0]["text"]["text"]
        == "*Vet* en _schuin_ met <https://example.com|een link> &amp; &lt;geen html&gt;"
    )
    assert rendered.blocks[2]["text"]["text"] == "> De klant belde twee keer.\n> — _Anna_"
    assert rendered.blocks[4]["text"]["text"] == "▶️ <https://example.com/v|Vlog van de week>"
    assert (
        len(rendered.blocks[8]["elements"]) == 11
        and rendered.blocks[9]["elements"][0]["text"] == "0 = nooit · 10 = zeker"
    )
    assert rendered.blocks[10]["elements"][0]["type"] == "static_select"
    opener = rendered.blocks[11]["elements"][0]
    assert opener["action_id"].startswith("kp-form:") and opener["text"]["text"] == "Feedback"
    assert rendered.tokens == [(FORM_ACTION, form.model_dump(mode="json"))]
    assert opener["value"] == token_for(FORM_ACTION, form.model_dump(mode="json")), (
        "a token, never the payload"
    )


def test_long_text_is_split_at_paragraphs_and_too_many_blocks_are_merged_then_cut() -> None:
    paragraph = "woord " * 400
    chunks = split_text(f"{paragraph}\n\n{paragraph}", 3000)
    assert len(chunks) == 2 and all(len(chunk) <= 3000 for chunk in chunks)
    many = render(Message(blocks=tuple(Text(text=f"regel {n}") for n in range(120))))
    assert len(many.blocks) == 1 and "regel 119" in many.blocks[0]["text"]["text"], "merged, nothing lost"
    buttons = render(
        Message(blocks=tuple(Buttons(buttons=(Button(label=str(n), action="x"),)) for n in range(80)))
    )
    assert len(buttons.blocks) == 50 and buttons.blocks[-1]["type"] == "context", "cut, with an ellipsis"


def test_modal_values_read_text_and_selects() -> None:
    state = {
        "values": {
            "name": {"value": {"type": "plain_text_input", "value": "Anna"}},
            "team": {"value": {"type": "static_select", "selected_option": {"value": "v:sales"}}},
            "empty": {"value": {"type": "plain_text_input", "value": None}},
            "channel": {"value": {"type": "static_select", "selected_option": {"value": "v:"}}},
        }
    }
    assert modal_values(state) == {"name": "Anna", "team": "sales", "empty": "", "channel": ""}


def test_a_long_choice_becomes_one_searchable_select_in_messages_and_modals(slack: WebClient) -> None:
    options = tuple(Option(label=f"Team {n}", payload={"team": n}) for n in range(250))
    rendered = render(Message(blocks=(Choice(action="x.team", label="Welk team?", options=options),)))
    [select] = rendered.blocks[-1]["elements"]
    assert select["type"] == "external_select" and select["action_id"].startswith("kp-options:")
    [(action, listed)] = rendered.tokens
    assert action == OPTIONS_ACTION and len(listed["options"]) == 250
    assert options_token(select["action_id"]) == token_for(OPTIONS_ACTION, listed)
    assert [o["text"]["text"] for o in options_matching(listed, "TEAM 24")][:2] == ["Team 24", "Team 240"]
    assert slack.chat_postMessage(channel=GENERAL_CHANNEL, text="x", blocks=rendered.blocks)["ok"]

    field = Field_(
        name="team",
        label="Team",
        style="select",
        options=tuple((str(n), f"Team {n}") for n in range(250)),
        value="7",
    )
    form = Form(
        action="x.join",
        title="Meedoen",
        submit_label="Ja",
        fields=(field,),
        errors={"team": "Kies een team."},
    )
    tokens: list[tuple[str, dict[str, object]]] = []
    view = render_modal(form, {"t": "t"}, "Annuleren", tokens)
    assert (
        view["blocks"][0]["type"] == "context"
        and "Kies een team." in view["blocks"][0]["elements"][0]["text"]
    )
    element = view["blocks"][1]["element"]
    assert element["type"] == "external_select" and element["initial_option"]["text"]["text"] == "Team 7"
    assert len(tokens) == 1 and slack.views_open(trigger_id=new_trigger_id(), view=view)["ok"]
    state = {
        "values": {
            "team": {
                element["action_id"]: {
                    "type": "external_select",
                    "selected_option": element["initial_option"],
                }
            }
        }
    }
    assert modal_values(state) == {"team": "7"}
