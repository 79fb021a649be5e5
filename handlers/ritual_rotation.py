"""Who wears the klantpet, and which three questions: fair, deterministic choices (no database, no clock).

The rotation gives the cap to the present participant who wore it least often at this meeting (a newcomer
counts as level with the participant who wore it least when they joined), then to whoever wore it longest ago; remaining ties are broken by a stable hash of the occurrence, so a re-run
chooses the same person. The question bank is ``prompts/klantpet/questions.yaml``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import yaml

from bot.i18n import PROMPTS

CATEGORIES = ("customer_voice", "opposing_goals", "steering", "second_moment")
QUESTIONS_PER_OPENING = 3
_NEVER = datetime.min.replace(tzinfo=UTC)
_FIELDS = ("id", "category", "nl", "en")


@dataclass(frozen=True)
class Question:
    id: str
    category: str
    nl: str
    en: str

    def text(self, locale: str) -> str:
        return self.en if locale == "en" else self.nl


BANK = PROMPTS / "klantpet" / "questions.yaml"


@lru_cache(maxsize=1)
def bank() -> tuple[Question, ...]:
    """The shipped question bank, read and validated once."""
    return load_bank(BANK)


def load_bank(path: Path) -> tuple[Question, ...]:
    """A question bank in which every question has a unique id, a known category and a text in both
    languages; a malformed bank raises ``ValueError`` naming the first problem."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ValueError(f"{path.name}: expected a non-empty `questions:` list")
    questions = []
    for number, item in enumerate(items, start=1):
        texts = {field: item.get(field) if isinstance(item, dict) else None for field in _FIELDS}
        empty = [field for field, text in texts.items() if not isinstance(text, str) or not text.strip()]
        if empty:
            raise ValueError(f"{path.name}: question {number} has no {', '.join(empty)}")
        if texts["category"] not in CATEGORIES:
            raise ValueError(f"{path.name}: question {number} has an unknown category {texts['category']!r}")
        questions.append(Question(*(str(texts[field]).strip() for field in _FIELDS)))
    if len({question.id for question in questions}) != len(questions):
        raise ValueError(f"{path.name}: question ids must be unique")
    return tuple(questions)


def _tiebreak(seed: str, value: str | int) -> str:
    return hashlib.sha256(f"{seed}:{value}".encode()).hexdigest()


def pick_wearer(
    candidates: Iterable[int],
    history: Mapping[int, tuple[int, datetime]],
    seed: str,
    offsets: Mapping[int, int] | None = None,
) -> int | None:
    """The fairest candidate: fewest caps worn (plus their ``offsets``: the caps a newcomer is counted as
    having worn), then longest ago, then a stable per-occurrence hash."""
    extra = offsets or {}

    def rank(member_id: int) -> tuple[int, datetime, str]:
        count, last = history.get(member_id, (0, _NEVER))
        return count + extra.get(member_id, 0), last, _tiebreak(seed, member_id)

    present = list(candidates)
    return min(present, key=rank) if present else None


def pick_questions(recent: Sequence[Sequence[str]], seed: str) -> list[Question]:
    """Three questions from three categories for the next opening.

    ``recent`` holds the question ids of this meeting's earlier openings, newest first. The categories
    used longest ago come first (so every category gets its turn); within a category the question asked
    least often, then longest ago, wins; nothing asked at the previous opening is asked again.
    """
    questions = bank()
    by_id = {question.id: question for question in questions}
    last_seen: dict[str, int] = {}
    asked: dict[str, int] = {}
    category_seen: dict[str, int] = {}
    for age, ids in enumerate(recent):
        for question_id in ids:
            asked[question_id] = asked.get(question_id, 0) + 1
            last_seen.setdefault(question_id, age)
            if question_id in by_id:
                category_seen.setdefault(by_id[question_id].category, age)
    previous = set(recent[0]) if recent else set()
    never = len(recent) + 1
    categories = sorted(
        CATEGORIES, key=lambda category: (-category_seen.get(category, never), _tiebreak(seed, category))
    )[:QUESTIONS_PER_OPENING]
    chosen: list[Question] = []
    for category in sorted(categories, key=CATEGORIES.index):
        pool = [q for q in questions if q.category == category and q.id not in previous]
        chosen.append(
            min(
                pool,
                key=lambda q: (asked.get(q.id, 0), -last_seen.get(q.id, never), _tiebreak(seed, q.id)),
            )
        )
    return chosen
