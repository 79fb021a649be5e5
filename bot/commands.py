"""The one command grammar shared by every platform, parsed in one place.

``[/klantpet] <command words> [arguments…] [--option value]``. Command words may be written in Dutch or
English (``hulp`` = ``help``); the longest registered command path wins; quotes group words.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_PREFIX = re.compile(r"^\s*(?:/?klantpet\b|/)\s*", re.IGNORECASE)
_MENTION = re.compile(r"^\s*(?:<@[A-Za-z0-9]+>|@\w+|<at>[^<]*</at>)\s*")
MAX_COMMAND_LENGTH = 8000


@dataclass(frozen=True)
class ParsedCommand:
    path: tuple[str, ...]
    args: tuple[str, ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)
    rest: str = ""
    """The raw text after the command words (for free text such as feedback)."""

    @property
    def name(self) -> str:
        return " ".join(self.path)


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text, posix=True)
    except ValueError:  # an unbalanced quote: fall back to plain words rather than refuse
        return text.split()


def normalize(text: str) -> str:
    """Strip the slash command prefix, a leading mention and surrounding space."""
    text = text.strip()
    text = _MENTION.sub("", text, count=1)
    text = _PREFIX.sub("", text, count=1)
    return text.strip()


Aliases = Mapping[str, str | tuple[str, ...]]


def parse(text: str, paths: Iterable[tuple[str, ...]], aliases: Aliases) -> ParsedCommand | None:
    """Match ``text`` against the known command ``paths``; None when no command matches.

    An alias may stand for several command words (``nieuw`` is ``pulse new`` and ``meetings add``): every
    reading is tried, and the longest registered path wins.
    """
    text = text[:MAX_COMMAND_LENGTH]
    known = set(paths)
    found = _match(normalize(text), known, aliases)
    # The bot's name may itself be a command word ("klantpet start" = `pet start`): the longer match wins.
    unprefixed = _MENTION.sub("", text.strip(), count=1).lstrip("/").strip()
    named = _match(unprefixed, known, aliases)
    if named is not None and len(named.path) > (len(found.path) if found else 0):
        return named
    return found


def _match(text: str, known: set[tuple[str, ...]], aliases: Aliases) -> ParsedCommand | None:
    if not text:
        return None
    words = [word.lower() for word in text.split()[:4]]
    for length in range(len(words), 0, -1):
        for path in _readings(words[:length], aliases):
            if path in known:
                rest = _remainder(text, length)
                args, options = _arguments(rest)
                return ParsedCommand(path=path, args=tuple(args), options=options, rest=rest)
    return None


def _meanings(word: str, aliases: Aliases) -> tuple[str, ...]:
    found = aliases.get(word, ())
    return (found,) if isinstance(found, str) else tuple(found)


def _readings(words: list[str], aliases: Aliases) -> list[tuple[str, ...]]:
    """The command paths ``words`` may mean: aliases first; a later word may also stand for itself
    (``pet start`` is not ``pet help`` just because ``start`` alone means help)."""
    readings: list[tuple[str, ...]] = [(option,) for option in _meanings(words[0], aliases) or (words[0],)]
    for word in words[1:]:
        options = list(dict.fromkeys((*_meanings(word, aliases), word)))
        readings = [(*reading, option) for reading in readings for option in options]
    return readings


def _remainder(text: str, words: int) -> str:
    parts = text.split(None, words)
    return parts[words].strip() if len(parts) > words else ""


def _arguments(rest: str) -> tuple[list[str], dict[str, str]]:
    args: list[str] = []
    options: dict[str, str] = {}
    tokens = _split(rest)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.startswith("--") and len(token) > 2:
            name, sep, value = token[2:].partition("=")
            if not sep and index + 1 < len(tokens) and not tokens[index + 1].startswith("--"):
                value = tokens[index + 1]
                index += 1
            options[name.lower()] = value
        else:
            args.append(token)
        index += 1
    return args, options
