"""What may leave for the LLM from anonymous answers: the text, minus anything that points at a person.

Open answers are anonymous, but what someone *types* can still name a colleague, give an e-mail address or
a phone number, or name a department so small that it points at its two or three members. Before answers are
summarised by an LLM, this removes personal data (`bot.redaction`), the names of the organisation's members
(full names and each part of them, in any letter case: "bram" is Bram too; name particles such as "van" or
"der" are not names on their own) and the names of departments smaller than the anonymity threshold. The
stored answers are not changed; only what is sent is scrubbed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from bot.context import JobContext
from bot.redaction import redact
from handlers.pulses import anonymity

NAME_LABEL = "[naam]"
DEPARTMENT_LABEL = "[afdeling]"
_SHORTEST_PART = 3
_PARTICLES = frozenset(
    {
        "van",
        "von",
        "der",
        "den",
        "des",
        "ter",
        "ten",
        "het",
        "del",
        "della",
        "dos",
        "das",
        "aan",
        "uit",
        "bij",
    }
)
"""Name particles of three letters or more: everyday words when they stand alone, so not scrubbed."""


def _pattern(terms: Iterable[str], *, ignore_case: bool) -> re.Pattern[str] | None:
    unique = sorted({term for term in terms if term}, key=len, reverse=True)
    if not unique:
        return None
    alternatives = "|".join(re.escape(term) for term in unique)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE if ignore_case else 0)


async def scrubber(ctx: JobContext) -> Scrubber:
    members = await ctx.repo.members.active()
    k = anonymity.threshold(ctx.settings.anonymity_threshold)
    sizes = Counter(member.department_name for member in members if member.department_name)
    small = [name for name in (d.name for d in await ctx.repo.members.departments()) if sizes[name] < k]
    names = [member.name for member in members]
    parts = [
        part
        for name in names
        for part in re.split(r"[\s-]+", name)
        if len(part) >= _SHORTEST_PART and part[:1].isupper() and part.lower() not in _PARTICLES
    ]
    return Scrubber(
        full_names=_pattern(names, ignore_case=True),
        name_parts=_pattern(parts, ignore_case=True),
        departments=_pattern(small, ignore_case=True),
    )


class Scrubber:
    def __init__(
        self,
        *,
        full_names: re.Pattern[str] | None,
        name_parts: re.Pattern[str] | None,
        departments: re.Pattern[str] | None,
    ) -> None:
        self.steps = [
            (pattern, label)
            for pattern, label in (
                (full_names, NAME_LABEL),
                (name_parts, NAME_LABEL),
                (departments, DEPARTMENT_LABEL),
            )
            if pattern is not None
        ]

    def __call__(self, text: str) -> str:
        text = redact(text, {"name": NAME_LABEL}).text
        for pattern, label in self.steps:
            text = pattern.sub(label, text)
        return text
