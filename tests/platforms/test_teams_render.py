"""Neutral messages as Teams sees them: Markdown text or an Adaptive Card, always under 28 KB."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.i18n import Catalog
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
from bot.platforms.teams_render import (
    MAX_ACTIVITY_BYTES,
    VERB,
    CardTooLarge,
    Labels,
    read_action,
    render,
)
from storage.repositories.tokens import token_for

LABELS = Labels(choose="Choose", required="This field is required.")


def size(activity: dict[str, Any]) -> int:
    return len(json.dumps(activity, ensure_ascii=False).encode())


def elements(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == kind:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def card(message: Message) -> dict[str, Any]:
    activity = render(message, LABELS)
    assert activity["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    content: dict[str, Any] = activity["attachments"][0]["content"]
    assert content["version"] == "1.5"
    return content


def test_text_only_is_a_markdown_message_with_html_kept_as_text() -> None:
    activity = render(Message(blocks=(Text(text="**Hoi** <at>Bo</at>"), Text(text="- één"))), LABELS)
    assert activity == {
        "type": "message",
        "text": "**Hoi** &lt;at&gt;Bo&lt;/at&gt;\n\n- één",
        "textFormat": "markdown",
    }


def test_every_block_is_rendered() -> None:
    message = Message(
        blocks=(
            Text(text="A `story` from **Jan**"),
            Quote(text="They called me back the same day.", author="A customer"),
            Divider(),
            Image(url="https://example.nl/cap.png", alt="The cap"),
            Image(url="http://example.nl/insecure.png", alt="dropped: Teams shows https images only"),
            Video(url="https://example.nl/vlog", title="Our CEO on listening"),
            Context(text="Story 3 of 12"),
            Buttons(
                buttons=(
                    Button(label="Useful", action="story.useful", payload={"id": 3}, style="primary"),
                    Button(label="Skip", action="story.skip", payload={"id": 3}, style="danger"),
                )
            ),
            Choice(
                style="select",
                action="ritual.pick",
                label="Who wears the cap?",
                options=(Option(label="Anna", payload={"m": 1}), Option(label="Bo", payload={"m": 2})),
            ),
        )
    )
    content = card(message)
    texts = [block["text"] for block in elements(content, "TextBlock")]
    assert texts[0] == "A story from **Jan**"  # cards have no inline code
    assert "They called me back the same day." in texts and "— A customer" in texts
    assert content["body"][1]["type"] == "Container" and content["body"][1]["style"] == "emphasis"
    images = elements(content, "Image")
    assert [image["url"] for image in images] == ["https://example.nl/cap.png"] and images[0].get("separator")
    assert elements(content, "Action.OpenUrl")[0]["url"] == "https://example.nl/vlog"
    buttons = [
        action for action in elements(content, "Action.Execute") if action["title"] in ("Useful", "Skip")
    ]
    assert [(b["verb"], b["data"], b.get("style")) for b in buttons] == [
        (VERB, {"kp": token_for("story.useful", {"id": 3})}, "positive"),
        (VERB, {"kp": token_for("story.skip", {"id": 3})}, "destructive"),
    ]
    assert (
        buttons[0]["fallback"]["type"] == "Action.Submit" and buttons[0]["fallback"]["data"]["verb"] == VERB
    )
    assert "story.useful" not in json.dumps(content), "payloads stay on the server"
    picker = elements(content, "Input.ChoiceSet")[0]
    assert [choice["title"] for choice in picker["choices"]] == ["Anna", "Bo"]
    choose = next(action for action in elements(content, "Action.Execute") if action["title"] == "Choose")
    clicked = read_action({**choose["data"], picker["id"]: picker["choices"][1]["value"]})
    assert clicked is not None and clicked.token == token_for("ritual.pick", {"m": 2}) and not clicked.is_form


def test_a_scale_is_a_row_of_numbers_with_its_anchors() -> None:
    scale = Choice(
        style="scale",
        action="pulse.answer",
        label="How likely…?",
        options=tuple(Option(label=str(n), payload={"score": n}) for n in range(11)),
        low_label="Not at all",
        high_label="Very likely",
    )
    content = card(Message(blocks=(scale,)))
    row = content["body"][1]
    assert row["type"] == "ColumnSet" and [c["items"][0]["text"] for c in row["columns"]] == [
        str(n) for n in range(11)
    ]
    clicked = read_action(row["columns"][9]["selectAction"]["data"])
    assert clicked is not None and clicked.token == token_for("pulse.answer", {"score": 9})
    assert [block["text"] for block in elements(content["body"][2], "TextBlock")] == [
        "Not at all",
        "Very likely",
    ]


def test_a_form_has_labelled_inputs_its_errors_and_a_submit() -> None:
    form = Form(
        action="feedback.give",
        title="Your feedback",
        fields=(
            Field_(name="text", label="What happened?", style="textarea", max_length=1000, value="draft"),
            Field_(
                name="team",
                label="Team",
                style="select",
                options=(("cx", "CX"), ("it", "IT")),
                required=False,
            ),
        ),
        submit_label="Send",
        payload={"anonymous": True},
        errors={"text": "Please write a little more."},
    )
    content = card(Message(blocks=(form,)))
    text, team = elements(content, "Input.Text")[0], elements(content, "Input.ChoiceSet")[0]
    assert (text["label"], text["isMultiline"], text["maxLength"], text["value"], text["isRequired"]) == (
        "What happened?",
        True,
        1000,
        "draft",
        True,
    )
    assert text["errorMessage"] == "This field is required."
    assert (
        team["choices"] == [{"title": "CX", "value": "cx"}, {"title": "IT", "value": "it"}]
        and not team["isRequired"]
    )
    assert any(
        block.get("color") == "attention" and block["text"] == "Please write a little more."
        for block in elements(content, "TextBlock")
    )
    submit = elements(content, "Action.Execute")[0]
    assert submit["associatedInputs"] == "auto"
    sent = read_action({**submit["data"], text["id"]: "It took a week", team["id"]: "it", "other": "ignored"})
    assert sent is not None and sent.is_form
    assert sent.token == token_for("feedback.give", {"anonymous": True})
    assert sent.fields == {"text": "It took a week", "team": "it"}


def test_data_from_elsewhere_is_not_an_action() -> None:
    assert read_action(None) is None
    assert read_action({"msteams": {"type": "task/fetch"}}) is None
    assert read_action({"kp_select": "b1.choice"}) is None  # nothing picked


def test_long_texts_are_shortened_to_fit_28_kb() -> None:
    story = "Een klant belde drie keer voordat iemand terugbelde. " * 2000
    message = Message(blocks=(Quote(text=story), Buttons(buttons=(Button(label="OK", action="ok"),))))
    activity = render(message, LABELS)
    assert size(activity) <= MAX_ACTIVITY_BYTES
    assert elements(activity, "TextBlock")[0]["text"].endswith("…")
    assert elements(activity, "Action.Execute"), "the controls survive"
    text_only = render(Message.text(story), LABELS)
    assert size(text_only) <= MAX_ACTIVITY_BYTES and text_only["text"].endswith("…")


def test_a_card_whose_controls_alone_are_too_big_is_refused() -> None:
    options = tuple(Option(label=f"Option {n} " + "x" * 60, payload={"n": n}) for n in range(600))
    with pytest.raises(CardTooLarge):
        render(Message(blocks=(Choice(action="pick", options=options),)), LABELS)


# --- The app package -----------------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    assert zlib.crc32(data[12:29]) & 0xFFFFFFFF == struct.unpack(">I", data[29:33])[0]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_cli_writes_a_package_teams_accepts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import app

    monkeypatch.chdir(tmp_path)  # no .env from the working directory
    environment = {
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": "0b7a0000-c0de-4b07-8e1c-000000000001",
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "secret",
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": "7e4a0000-5e57-4a1e-9d00-000000000002",
        "KLANTPET_PUBLIC_URL": "https://klantpet.example.nl/",
        "KLANTPET_ORGANISATION": "Bakkerij Jansen",
        "KLANTPET_DATA_DIR": str(tmp_path / "data"),
    }
    target = tmp_path / "teams.zip"
    result = CliRunner().invoke(
        app, ["teams", "package", "--output", str(target), "--version", "1.2.0"], env=environment
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["color.png", "en.json", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        english = json.loads(archive.read("en.json"))
        assert png_size(archive.read("color.png")) == (192, 192)
        assert png_size(archive.read("outline.png")) == (32, 32)
    app_id = environment["CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"]
    assert manifest["id"] == manifest["bots"][0]["botId"] == app_id
    assert manifest["version"] == "1.2.0" and manifest["developer"]["name"] == "Bakkerij Jansen"
    assert manifest["validDomains"] == ["klantpet.example.nl"]
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    permissions = {p["name"] for p in manifest["authorization"]["permissions"]["resourceSpecific"]}
    assert "OnlineMeeting.ReadBasic.Chat" in permissions  # without it Teams sends no meeting start/end
    # replies in a thread of the bot's posts reach it without an @mention, as the docs promise
    assert {"ChannelMessage.Read.Group", "ChatMessage.Read.Chat"} <= permissions
    assert len(manifest["description"]["short"]) <= 80 and len(manifest["name"]["short"]) <= 30
    # Dutch by default (the organisation's language), English for colleagues whose Teams speaks English
    assert manifest["localizationInfo"] == {
        "defaultLanguageTag": "nl",
        "additionalLanguages": [{"languageTag": "en", "file": "en.json"}],
    }
    catalog = Catalog("nl")
    assert manifest["description"]["short"] == catalog.t("nl", "teams.app.description_short")
    titles = [command["title"] for command in manifest["bots"][0]["commandLists"][0]["commands"]]
    assert titles == ["hulp", "taal", "ik"]
    assert english["description.short"] == catalog.t("en", "teams.app.description_short")
    assert [english[f"bots[0].commandLists[0].commands[{n}].title"] for n in range(3)] == [
        "help",
        "language",
        "me",
    ]
    assert english["$schema"].endswith("/v1.17/MicrosoftTeams.Localization.schema.json")


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("KLANTPET_PUBLIC_URL", "KLANTPET_PUBLIC_URL"),
        ("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID", "CLIENTID"),
    ],
)
def test_the_cli_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: str, message: str
) -> None:
    from bot.cli import app

    monkeypatch.chdir(tmp_path)
    environment = {
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": "0b7a0000-c0de-4b07-8e1c-000000000001",
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "secret",
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": "7e4a0000-5e57-4a1e-9d00-000000000002",
        "KLANTPET_PUBLIC_URL": "https://klantpet.example.nl",
    }
    for name in (
        (missing, "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET")
        if "CLIENTID" in missing
        else (missing,)
    ):
        environment.pop(name)
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(
        app, ["teams", "package", "--output", str(tmp_path / "x.zip")], env=environment
    )
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "x.zip").exists()
