"""The pulse question library: the standard questions in ``prompts/pulses/questions.yaml`` plus the ones CX
managers add (stored in the database as ``custom-<n>``), and how a round picks its questions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import yaml

from bot.i18n import PROMPTS
from storage.repositories.pulses import PulseRepository

Kind = Literal["enps", "likert", "open"]
KINDS: tuple[Kind, ...] = ("enps", "likert", "open")
ENPS_ID = "enps"
CUSTOM_PREFIX = "custom-"
LIBRARY = PROMPTS / "pulses" / "questions.yaml"


@dataclass(frozen=True)
class Question:
    id: str
    kind: Kind
    text: dict[str, str]
    theme: str | None = None

    def render(self, locale: str, organisation: str) -> str:
        """The question in ``locale`` (Dutch when missing) with the organisation's name filled in."""
        text = self.text.get(locale) or self.text.get("nl") or next(iter(self.text.values()))
        # A plain replacement, not a template: custom questions are written by people, never evaluated.
        return text.replace("{{ organisation }}", organisation).replace("{{organisation}}", organisation)

    @property
    def values(self) -> tuple[int, ...]:
        """The answers a counter is kept for (open questions keep text, not counts)."""
        if self.kind == "enps":
            return tuple(range(11))
        if self.kind == "likert":
            return (1, 2, 3, 4, 5)
        return ()


@lru_cache(maxsize=1)
def _library_file() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(LIBRARY.read_text(encoding="utf-8"))
    return data


def standard_questions() -> list[Question]:
    return list(_standard_questions())


@lru_cache(maxsize=1)
def _standard_questions() -> tuple[Question, ...]:
    return tuple(
        Question(
            id=str(item["id"]),
            kind=item["kind"],
            text={"nl": str(item["nl"]), "en": str(item["en"])},
            theme=item.get("theme"),
        )
        for item in _library_file()["questions"]
    )


def likert_labels(locale: str) -> list[str]:
    scales = _library_file()["scales"]["likert"]
    return [str(label) for label in scales.get(locale) or scales["nl"]]


def enps_anchors(locale: str) -> tuple[str, str]:
    anchors = _library_file()["scales"]["enps"]
    chosen = anchors.get(locale) or anchors["nl"]
    return str(chosen["low"]), str(chosen["high"])


async def all_questions(repo: PulseRepository) -> dict[str, Question]:
    """Every usable question by id: the standard library first, then custom questions in creation order."""
    found = {question.id: question for question in standard_questions()}
    for custom in await repo.custom_questions():
        question_id = f"{CUSTOM_PREFIX}{custom.id}"
        found[question_id] = Question(
            id=question_id,
            kind=custom.kind,  # type: ignore[arg-type]
            text={"nl": custom.text_nl, "en": custom.text_en},
            theme=custom.theme,
        )
    return found


async def round_questions(repo: PulseRepository, question_ids: Sequence[str]) -> list[Question]:
    """A round's questions as asked (`ordered`); custom questions are read only when the round has one."""
    if any(question_id.startswith(CUSTOM_PREFIX) for question_id in question_ids):
        return ordered(question_ids, await all_questions(repo))
    return ordered(question_ids, {question.id: question for question in standard_questions()})


def pick_questions(
    library: dict[str, Question], sequence: int, likert_count: int, include_open: bool
) -> list[str]:
    """The eNPS question, ``likert_count`` Likert items and one open question, rotating with ``sequence``
    (round 0 asks the first items, round 1 the next ones, and so on, wrapping around)."""
    picked = [ENPS_ID] if ENPS_ID in library else []
    likert = [question.id for question in library.values() if question.kind == "likert"]
    if likert and likert_count:
        start = sequence * likert_count
        count = min(likert_count, len(likert))
        picked += [likert[(start + offset) % len(likert)] for offset in range(count)]
    open_ones = [question.id for question in library.values() if question.kind == "open"]
    if include_open and open_ones:
        picked.append(open_ones[sequence % len(open_ones)])
    return picked


def ordered(question_ids: Sequence[str], library: dict[str, Question]) -> list[Question]:
    """The round's questions as asked: scales first, the open question last."""
    known = [library[question_id] for question_id in question_ids if question_id in library]
    return sorted(known, key=lambda question: KINDS.index(question.kind))
