"""The Telegram renderer: every block, Telegram-valid HTML, short callback data, splitting at 4096."""

from __future__ import annotations

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
from bot.platforms.telegram_render import FORM_START, MAX_TEXT, render, split, visible_length
from tests.fakes.telegram_api import parse_html


def label(key: str) -> str:
    return {"telegram.form.start": "✍️ Invullen"}[key]


def test_every_block_renders_as_html_telegram_accepts() -> None:
    message = Message(
        blocks=(
            Text(text="**Klant** zegt: _snel_ & `code` <script>\n- punt\n\n[site](https://x.nl)"),
            Context(text="bron: _intern_"),
            Quote(text="Het duurde te lang", author="Karin <K>"),
            Image(url="https://x.nl/a.png", alt="grafiek"),
            Image(url="javascript:alert(1)", alt="nee"),
            Video(url="https://x.nl/v", title="Vlog"),
            Divider(),
            Choice(
                style="scale",
                action="pulse.answer",
                label="Hoe waarschijnlijk?",
                options=tuple(Option(label=str(n), payload={"score": n}) for n in range(11)),
                low_label="nooit",
                high_label="zeker",
            ),
            Choice(action="pick", options=(Option(label="A"), Option(label="B"), Option(label="C"))),
            Buttons(
                buttons=(
                    Button(label="Ja", action="yes", payload={"id": 1}),
                    Button(label="Nee", action="no"),
                )
            ),
            Form(
                action="feedback.give",
                title="Feedback <geven>",
                fields=(Field_(name="text", label="Wat?"),),
                submit_label="Stuur",
                errors={"text": "Te kort"},
            ),
        )
    )
    (part,) = render(message, label)
    text, entities = parse_html(part.html)  # raises like Telegram on any unsupported or unbalanced tag
    assert "<script>" in text and "• punt" in text and "— Karin <K>" in text and "javascript" not in part.html
    assert "0 = nooit · 10 = zeker" in text and "⚠️ Wat?: Te kort" in text
    assert {entity["type"] for entity in entities} >= {"bold", "italic", "code", "text_link", "blockquote"}
    rows = [[label for label, _ in row] for row in part.keyboard]
    assert rows[:2] == [["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]
    assert ["Ja", "Nee"] in rows and rows[-1] == ["✍️ Invullen"]
    data = [data for row in part.keyboard for _, data in row]
    assert all(len(item.encode()) <= 64 for item in data) and data[-1].startswith(FORM_START)


def test_an_empty_message_still_has_text() -> None:
    (part,) = render(Message(blocks=(Buttons(buttons=(Button(label="Ok", action="ok"),)),)), label)
    assert part.html and part.keyboard


def test_splitting_counts_like_telegram_and_breaks_only_where_it_may() -> None:
    emoji = "😀" * 2000  # 4000 UTF-16 units (what Telegram counts), only 2000 characters
    texts = split([emoji, "<b>tweede</b> alinea", "x" * 100])
    assert texts == [f"{emoji}\n\n<b>tweede</b> alinea", "x" * 100]
    huge = ("woord " * 2000).strip()  # one paragraph of 11999 characters
    parts = split([f"<i>{huge}</i>"])
    assert len(parts) == 3 and all(visible_length(part) <= MAX_TEXT for part in parts)
    assert all(not part.startswith(" ") and part.endswith("woord") for part in parts)
    assert sum(part.count("woord") for part in parts) == 2000
