"""What is wrong with a campaign definition: where (a path, and a line in a file) and a prompt key.

Problems carry a prompt key (``campaign.error.*``) and parameters, so the same check reads well in chat (either
language), next to a dashboard field and on the command line (``FILE:LINE: path: what is wrong``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from bot.errors import InvalidInput


def problem(key: str, **params: Any) -> PydanticCustomError:
    """A validation error that carries a prompt key (rendered in chat or on the command line)."""
    return PydanticCustomError("campaign", "{key}", {"key": key, **params})


Path = tuple[str | int, ...]
_BUILTIN_KEYS = {
    "missing": "campaign.error.missing",
    "extra_forbidden": "campaign.error.unknown_field",
    "string_too_long": "campaign.error.too_long",
    "string_too_short": "campaign.error.empty",
    "too_short": "campaign.error.empty",
    "too_long": "campaign.error.too_many",
    "literal_error": "campaign.error.choice",
    "int_parsing": "campaign.error.number",
    "int_type": "campaign.error.number",
    "greater_than_equal": "campaign.error.range",
    "less_than_equal": "campaign.error.range",
    "bool_parsing": "campaign.error.yes_no",
    "bool_type": "campaign.error.yes_no",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a campaign definition: where (a path, and a line in a file) and a prompt key."""

    path: Path
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    line: int | None = None

    @property
    def where(self) -> str:
        text = ""
        for part in self.path:
            text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text or "—"


class SpecInvalid(InvalidInput):
    """The definition has problems; nothing was changed. In chat the first problem is the polite reply;
    forms and the command line show them all."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0] if problems else Problem((), "campaign.error.invalid")
        super().__init__(first.key, **first.params)
        self.problems = problems


def problems_of(error: ValidationError, lines: dict[Path, int] | None = None) -> list[Problem]:
    found: list[Problem] = []
    for item in error.errors():
        path = tuple(part for part in item["loc"] if not _is_union_tag(part))
        context = dict(item.get("ctx") or {})
        if item["type"] == "campaign":
            key = str(context.pop("key"))
        else:
            key = _BUILTIN_KEYS.get(item["type"], "campaign.error.invalid")
            if item["type"] == "literal_error":
                context = {"expected": str(context.get("expected", ""))}
            elif item["type"] in ("string_too_long", "too_long"):
                context = {"limit": context.get("max_length", "")}
            elif item["type"] in ("greater_than_equal", "less_than_equal"):
                context = {"limit": context.get("ge", context.get("le", ""))}
            else:
                context = {}
            if item["type"] == "extra_forbidden":
                context = {"name": str(path[-1]) if path else "—"}
        found.append(Problem(path, key, context, _line(path, lines or {})))
    return sorted(found, key=lambda problem: (problem.line or 0, problem.where))


def _is_union_tag(part: str | int) -> bool:
    return isinstance(part, str) and (
        part in ("str", "int", "bool", "tuple[str, ...]", "list[str]")
        or part.startswith(("literal[", "function-"))
    )


def _line(path: Path, lines: dict[Path, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def locate(problems: list[Problem], lines: dict[Path, int]) -> list[Problem]:
    """The problems with the line of their path in the file."""
    return [
        problem
        if problem.line is not None
        else Problem(problem.path, problem.key, problem.params, _line(problem.path, lines))
        for problem in problems
    ]
