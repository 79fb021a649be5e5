"""The anonymity rules and the eNPS arithmetic, on their own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from handlers.pulses.anonymity import comment_threshold, enps, enps_split, shown_groups, threshold
from handlers.pulses.library import pick_questions, standard_questions
from handlers.pulses.themes import frequent_terms
from handlers.pulses.timewindows import outside_quiet_hours
from tests.conftest import make_settings


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({10: 5}, 100),
        ({0: 5}, -100),
        ({7: 3, 8: 3}, 0),  # passives only
        ({9: 1, 10: 1, 6: 1, 8: 1}, 25),  # 2 promoters - 1 detractor of 4
        ({9: 1, 5: 2}, -33),  # -33.3
        ({10: 2, 3: 1}, 33),
        ({9: 1, 7: 1, 6: 6}, -63),  # -62.5 rounds away from zero
        ({9: 5, 7: 1, 6: 2}, 38),  # 37.5 rounds away from zero
        ({}, None),
    ],
)
def test_enps_is_promoters_minus_detractors_in_whole_percent(
    counts: dict[int, int], expected: int | None
) -> None:
    assert enps(counts) == expected


def test_enps_split() -> None:
    assert enps_split({10: 2, 8: 1, 0: 1}) == (50, 25, 25)


def test_groups_below_k_are_never_shown() -> None:
    assert shown_groups(whole=25, groups={1: 10, 2: 6, 3: 4}, k=5) == {1, 2}  # the other 9 stay together
    assert shown_groups(whole=4, groups={1: 4}, k=3) == {1}  # the group is everyone who answered
    assert shown_groups(whole=4, groups={1: 4}, k=5) == set()


def test_a_group_that_would_reveal_the_rest_by_subtraction_is_hidden_too() -> None:
    # 12 + 6 shown would leave 2 people (a hidden group) recoverable as 20 - 12 - 6.
    assert shown_groups(whole=20, groups={1: 12, 2: 6, 3: 2}, k=5) == {1}
    # Ties: the smaller id goes first; then the rest (5 + 2 = 7) is large enough.
    assert shown_groups(whole=17, groups={1: 5, 2: 5, 3: 5, 4: 2}, k=5) == {2, 3}
    # Nothing left to hide behind: two groups that make up everyone may both be shown.
    assert shown_groups(whole=11, groups={1: 6, 2: 5}, k=5) == {1, 2}
    # Hiding goes on until the rest is safe: 1 left over, so group 1 joins it (6 hidden together).
    assert shown_groups(whole=11, groups={1: 5, 2: 5, 3: 1}, k=5) == {2}
    assert shown_groups(whole=8, groups={1: 5, 2: 3}, k=5) == set()


def test_the_comment_threshold_never_drops_below_ten(tmp_path: Path) -> None:
    assert comment_threshold(3, 3) == 10
    assert comment_threshold(5, 10, at_opening=3) == 10
    assert comment_threshold(12, 10) == 12 and comment_threshold(5, 15) == 15
    with pytest.raises(ValidationError, match="comment_threshold"):
        make_settings(tmp_path, "sqlite+aiosqlite:///unused.db", comment_threshold=9)
    assert (
        make_settings(tmp_path, "sqlite+aiosqlite:///unused.db", comment_threshold=10).comment_threshold == 10
    )


def test_the_threshold_never_drops_below_three() -> None:
    assert threshold(1) == 3
    assert threshold(5, at_opening=7) == 7


def test_questions_rotate_through_the_library() -> None:
    library = {question.id: question for question in standard_questions()}
    first = pick_questions(library, 0, 2, True)
    second = pick_questions(library, 1, 2, True)
    assert first[0] == second[0] == "enps"
    assert first[1:3] != second[1:3] and first[3] != second[3]
    assert [library[q].kind for q in first] == ["enps", "likert", "likert", "open"]


def test_quiet_hours_follow_the_members_time_zone() -> None:
    late = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)  # 22:30 in Amsterdam
    assert outside_quiet_hours(late, "Europe/Amsterdam", "20:00", "08:00") == datetime(
        2026, 11, 24, 7, 0, tzinfo=UTC
    )
    assert outside_quiet_hours(late, "America/New_York", "20:00", "08:00") == late  # 16:30 there
    assert outside_quiet_hours(late, "Europe/Amsterdam", "00:00", "00:00") == late


def test_frequent_terms_skip_dutch_and_english_stop_words() -> None:
    themes = frequent_terms(
        ["Meer tijd voor de klant", "De klant wacht te lang", "Geen tijd voor klanten", "and the"]
    )
    labels = [theme.label for theme in themes.themes]
    assert labels[:2] == ["klant", "tijd"] or labels[:2] == ["tijd", "klant"]
    assert not {"de", "voor", "the", "and"} & set(labels)
