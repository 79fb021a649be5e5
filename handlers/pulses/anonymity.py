"""The rules that decide what may be shown, in one place (chat, dashboard, export and sealing all use them).

- No result for a group (the whole audience or a department) below ``k`` respondents.
- No group whose hidden neighbours could be recovered by subtraction: when the respondents outside the shown
  departments number 1 … k-1, the smallest shown department is hidden too (and so on).
- Comments (and their themes) only from ``comment_threshold`` respondents up: the setting, never below 10
  and never below ``k``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

MINIMUM_THRESHOLD = 3
MINIMUM_COMMENT_THRESHOLD = 10


def threshold(configured: int, at_opening: int | None = None) -> int:
    """The ``k`` in force: the stricter of the setting and the round's own, never below 3."""
    return max(MINIMUM_THRESHOLD, configured, at_opening or 0)


def comment_threshold(k: int, configured: int, at_opening: int | None = None) -> int:
    """How many open answers a question needs before any is kept or shown: the strictest of ``k``, the
    setting and the round's own, never below 10."""
    return max(MINIMUM_COMMENT_THRESHOLD, k, configured, at_opening or 0)


def shown_groups(whole: int, groups: Mapping[int, int], k: int) -> set[int]:
    """The departments whose results may be shown, given each one's respondents and the whole audience's."""
    if whole < k:
        return set()
    shown = {group for group, count in groups.items() if count >= k}
    while shown:
        rest = whole - sum(groups[group] for group in shown)
        if rest == 0 or rest >= k:
            break
        shown.remove(min(shown, key=lambda group: (groups[group], group)))
    return shown


def respondents(counts: Mapping[int, int]) -> int:
    return sum(counts.values())


def _half_away_from_zero(value: float) -> int:
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def enps(counts: Mapping[int, int]) -> int | None:
    """Promoters (9–10) minus detractors (0–6), as a whole percentage of everyone who answered."""
    total = respondents(counts)
    if total == 0:
        return None
    promoters = sum(count for value, count in counts.items() if value >= 9)
    detractors = sum(count for value, count in counts.items() if value <= 6)
    return _half_away_from_zero(100 * (promoters - detractors) / total)


def enps_split(counts: Mapping[int, int]) -> tuple[int, int, int]:
    """Percentages of promoters, passives and detractors (rounded; may not add up to exactly 100)."""
    total = respondents(counts) or 1
    promoters = sum(count for value, count in counts.items() if value >= 9)
    detractors = sum(count for value, count in counts.items() if value <= 6)
    passives = total - promoters - detractors if respondents(counts) else 0
    return tuple(_half_away_from_zero(100 * part / total) for part in (promoters, passives, detractors))  # type: ignore[return-value]


def mean(counts: Mapping[int, int]) -> float | None:
    total = respondents(counts)
    if total == 0:
        return None
    return sum(value * count for value, count in counts.items()) / total
