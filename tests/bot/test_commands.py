"""The shared command grammar: one parser for every platform."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.commands import parse

PATHS = [("help",), ("feedback",), ("stories",), ("stories", "import"), ("role", "grant")]
ALIASES = {"hulp": "help", "verhalen": "stories", "rol": "role", "geef": "grant"}


def test_slash_prefix_mentions_and_aliases() -> None:
    for text in ("/klantpet help", "klantpet hulp", "/help", "<@U123> help", "  HULP  "):
        parsed = parse(text, PATHS, ALIASES)
        assert parsed is not None and parsed.path == ("help",), text


def test_longest_path_wins_and_arguments_are_split() -> None:
    parsed = parse('verhalen import "mijn bestand.md" --format yaml', PATHS, ALIASES)
    assert parsed is not None
    assert parsed.path == ("stories", "import")
    assert parsed.args == ("mijn bestand.md",)
    assert parsed.options == {"format": "yaml"}


def test_free_text_is_kept_verbatim() -> None:
    parsed = parse("feedback De wachttijd is   te lang, echt!", PATHS, ALIASES)
    assert parsed is not None and parsed.rest == "De wachttijd is   te lang, echt!"


def test_unknown_and_empty_input() -> None:
    assert parse("frobnicate", PATHS, ALIASES) is None
    assert parse("   ", PATHS, ALIASES) is None
    assert parse('feedback "unbalanced', PATHS, ALIASES) is not None


@given(st.text(max_size=300))
def test_the_parser_never_crashes(text: str) -> None:
    parsed = parse(text, PATHS, ALIASES)
    if parsed is not None:
        assert parsed.path in PATHS


def test_an_alias_may_stand_for_several_command_words() -> None:
    paths = [("pulse", "new"), ("meetings", "add")]
    aliases = {"peiling": "pulse", "vergaderingen": "meetings", "nieuw": ("add", "new")}
    assert parse("peiling nieuw", paths, aliases).path == ("pulse", "new")  # type: ignore[union-attr]
    assert parse("vergaderingen nieuw", paths, aliases).path == ("meetings", "add")  # type: ignore[union-attr]
