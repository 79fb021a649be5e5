"""The klantpet question bank: at least 40 questions per language in all four categories, none empty, and a
malformed bank refused before it can reach a meeting."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from handlers.ritual_rotation import CATEGORIES, bank, load_bank


def test_the_shipped_bank_has_forty_questions_per_language_in_every_category() -> None:
    questions = bank()
    for locale in ("nl", "en"):
        texts = [question.text(locale) for question in questions]
        assert len(texts) >= 40 and all(text.strip() and text != "None" for text in texts), locale
        assert len(set(texts)) == len(texts), f"{locale}: a question is in the bank twice"
    per_category = Counter(question.category for question in questions)
    assert set(per_category) == set(CATEGORIES)
    assert min(per_category.values()) >= 3, "three questions from three categories, never one asked twice"


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{id: q2, category: steering, nl: null, en: 'Who decides?'}", "question 2 has no nl"),
        ("{id: q2, category: steering, nl: '  ', en: 'Who decides?'}", "question 2 has no nl"),
        ("{id: q2, category: weather, nl: 'Wie?', en: 'Who?'}", "unknown category 'weather'"),
        ("{id: q1, category: steering, nl: 'Wie?', en: 'Who?'}", "ids must be unique"),
        ("just a sentence", "question 2 has no id, category, nl, en"),
    ],
)
def test_a_malformed_bank_is_refused(tmp_path: Path, entry: str, problem: str) -> None:
    path = tmp_path / "questions.yaml"
    path.write_text(
        "questions:\n  - {id: q1, category: customer_voice, nl: 'Wat zegt de klant?', en: 'What does it say?'}\n"
        f"  - {entry}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=problem):
        load_bank(path)
