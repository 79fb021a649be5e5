"""The web chat shows every block of the neutral model as HTML, and nothing a message says can become markup."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import ClassVar

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
from bot.platforms.web_render import render

HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(1)>'


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def find(self, tag: str, cls: str | None = None) -> list[Element]:
        found = [self] if self.tag == tag and (cls is None or cls in self.classes) else []
        for child in self.children:
            found += child.find(tag, cls)
        return found

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)


class _Tree(HTMLParser):
    VOID: ClassVar[set[str]] = {"img", "hr", "input", "br"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].text += data


def parsed(message: Message) -> Element:
    tree = _Tree()
    tree.feed(render(message))
    tree.close()
    assert tree.stack == [tree.root], "unclosed elements"
    return tree.root


def test_every_block_kind_becomes_its_html() -> None:
    root = parsed(
        Message(
            blocks=(
                Text(text="Een **vet** verhaal"),
                Context(text="Voetnoot"),
                Quote(text="Bel me terug", author="Mevrouw Jansen"),
                Image(url="https://example.com/klant.png", alt="De klant"),
                Video(url="https://example.com/vlog", title="Vlog van Lars"),
                Divider(),
                Buttons(
                    buttons=(
                        Button(label="Ja", action="a.yes", style="primary"),
                        Button(label="Nee", action="a.no"),
                    )
                ),
                Choice(
                    style="scale",
                    action="a.score",
                    label="Hoe waarschijnlijk?",
                    options=tuple(Option(label=str(n), payload={"n": n}) for n in range(11)),
                    low_label="Niet",
                    high_label="Zeer",
                ),
                Choice(
                    action="a.team", label="Welk team?", options=(Option(label="Oranje", payload={"t": 1}),)
                ),
                Form(
                    action="a.idea",
                    title="Jouw idee",
                    fields=(
                        Field_(name="idea", label="Idee", style="textarea", max_length=500),
                        Field_(
                            name="team", label="Team", style="select", options=(("o", "Oranje"),), value="o"
                        ),
                        Field_(name="name", label="Naam", required=False, placeholder="Optioneel"),
                    ),
                    submit_label="Verstuur",
                    errors={"idea": "Dit veld is verplicht."},
                ),
            )
        )
    )
    [text] = root.find("div", "kp-text")
    assert [bold.all_text() for bold in text.find("b")] == ["vet"]
    assert root.find("div", "kp-context")[0].all_text() == "Voetnoot"
    [quote] = root.find("blockquote", "kp-quote")
    assert "Bel me terug" in quote.all_text() and "Mevrouw Jansen" in quote.find("footer")[0].all_text()
    [image] = root.find("img", "kp-image")
    assert image.attrs["src"] == "https://example.com/klant.png" and image.attrs["alt"] == "De klant"
    [video] = root.find("a", "kp-video")
    assert video.attrs["href"] == "https://example.com/vlog" and "noopener" in video.attrs["rel"]
    assert "Vlog van Lars" in video.all_text()
    assert len(root.find("hr", "kp-divider")) == 1
    [buttons] = root.find("div", "kp-buttons")
    assert [(b.all_text(), "kp-primary" in b.classes) for b in buttons.find("button")] == [
        ("Ja", True),
        ("Nee", False),
    ]
    [scale] = root.find("div", "kp-scale")
    assert [b.all_text() for b in scale.find("button")] == [str(n) for n in range(11)]
    assert "Niet" in scale.find("div", "kp-anchors")[0].all_text()
    [select] = root.find("select", "kp-select")
    assert [option.all_text() for option in select.find("option")] == ["…", "Oranje"]
    [form] = root.find("form", "kp-form")
    assert form.attrs["data-token"] and "Jouw idee" in form.all_text()
    [textarea] = form.find("textarea")
    assert (
        textarea.attrs["name"] == "idea"
        and textarea.attrs["maxlength"] == "500"
        and "required" in textarea.attrs
    )
    [team] = form.find("select")
    assert [o.attrs["value"] for o in team.find("option") if "selected" in o.attrs] == ["o"]
    [name] = form.find("input")
    assert "required" not in name.attrs and name.attrs["placeholder"] == "Optioneel"
    assert form.find("div", "kp-field-error")[0].all_text() == "Dit veld is verplicht."
    tokens = [b.attrs["data-token"] for b in root.find("button") if "data-token" in b.attrs]
    assert len(tokens) == len(set(tokens)) == 2 + 11, "every button has its own token, never its payload"


def test_nothing_a_message_says_becomes_markup() -> None:
    root = parsed(
        Message(
            blocks=(
                Text(text=HOSTILE),
                Context(text=HOSTILE),
                Quote(text=HOSTILE, author=HOSTILE),
                Image(url="https://example.com/x.png", alt=HOSTILE),
                Video(url="https://example.com/v", title=HOSTILE),
                Buttons(buttons=(Button(label=HOSTILE, action="a.x"),)),
                Choice(
                    style="scale",
                    action="a.s",
                    label=HOSTILE,
                    options=(Option(label=HOSTILE),),
                    low_label=HOSTILE,
                ),
                Choice(action="a.t", label=HOSTILE, options=(Option(label=HOSTILE),)),
                Form(
                    action="a.f",
                    title=HOSTILE,
                    fields=(
                        Field_(name=HOSTILE, label=HOSTILE, value=HOSTILE, placeholder=HOSTILE),
                        Field_(name="t", label=HOSTILE, style="textarea", value=HOSTILE),
                        Field_(name="s", label=HOSTILE, style="select", options=((HOSTILE, HOSTILE),)),
                    ),
                    submit_label=HOSTILE,
                    errors={"t": HOSTILE},
                ),
            )
        )
    )
    assert root.find("script") == []
    every = [
        element
        for tag in ("img", "div", "button", "a", "input", "form", "select", "option")
        for element in root.find(tag)
    ]
    assert not any(name.startswith("on") for element in every for name in element.attrs)
    assert [image.attrs["src"] for image in root.find("img")] == ["https://example.com/x.png"]
    assert HOSTILE in root.all_text(), "the text is shown as text"


def test_links_that_are_not_web_addresses_are_dropped() -> None:
    root = parsed(
        Message(
            blocks=(
                Image(url="javascript:alert(1)", alt="x"),
                Video(url="data:text/html,<script>alert(1)</script>", title="x"),
                Text(text="[klik](javascript:alert(1))"),
            )
        )
    )
    assert root.find("img") == [] and root.find("a", "kp-video") == []
    assert all(not link.attrs.get("href", "").startswith("javascript:") for link in root.find("a"))
