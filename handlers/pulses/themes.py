"""Themes in the open answers of a closed round: an LLM summary, or frequent terms when there is no LLM.

Only rounds whose open question reached the comment threshold have comments at all, so nothing here ever
sees (or could quote) the answers of a small group. Nothing identifying is sent: only the answers' text,
scrubbed of names, contact details and small departments (`handlers.pulses.scrubbing`).
"""

from __future__ import annotations

import re
from collections import Counter

from pydantic import BaseModel, Field

from bot.context import JobContext
from handlers.pulses.library import all_questions
from handlers.pulses.scrubbing import scrubber
from storage.models.pulses import PulseRound

MAX_THEMES = 6
_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", re.UNICODE)
STOP_WORDS = frozenset(
    [
        "aan",
        "af",
        "al",
        "alles",
        "als",
        "altijd",
        "andere",
        "ben",
        "bij",
        "daar",
        "dan",
        "dat",
        "de",
        "der",
        "deze",
        "die",
        "dit",
        "doch",
        "doen",
        "door",
        "dus",
        "een",
        "eens",
        "en",
        "er",
        "ge",
        "geen",
        "geweest",
        "had",
        "heb",
        "hebben",
        "heeft",
        "hem",
        "het",
        "hier",
        "hij",
        "hoe",
        "hun",
        "iemand",
        "iets",
        "ik",
        "in",
        "is",
        "ja",
        "je",
        "jij",
        "jou",
        "jouw",
        "kan",
        "kon",
        "kunnen",
        "maar",
        "me",
        "meer",
        "men",
        "met",
        "mij",
        "mijn",
        "moet",
        "na",
        "naar",
        "niet",
        "niets",
        "nog",
        "nu",
        "of",
        "om",
        "omdat",
        "ons",
        "onze",
        "ook",
        "op",
        "over",
        "reeds",
        "te",
        "tegen",
        "toch",
        "toen",
        "tot",
        "u",
        "uit",
        "uw",
        "van",
        "veel",
        "voor",
        "want",
        "waren",
        "was",
        "wat",
        "we",
        "wel",
        "werd",
        "wie",
        "wij",
        "wil",
        "wordt",
        "worden",
        "zal",
        "ze",
        "zei",
        "zelf",
        "zich",
        "zij",
        "zijn",
        "zo",
        "zonder",
        "zou",
        "zoals",
        "soms",
        "echt",
        "heel",
        "graag",
        "gewoon",
        "vaak",
        "weer",
        "even",
        "elkaar",
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "not",
        "now",
        "of",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "really",
        "get",
        "got",
        "lot",
        "lots",
        "much",
        "many",
    ]
)


class Theme(BaseModel):
    label: str = Field(min_length=1, max_length=80)
    summary: str = Field(default="", max_length=300)
    count: int = Field(ge=1)


class Themes(BaseModel):
    themes: list[Theme] = Field(default_factory=list, max_length=MAX_THEMES)


def frequent_terms(comments: list[str], limit: int = 5) -> Themes:
    """The words most answers share (each answer counts a word once), without Dutch and English stop words."""
    documents: Counter[str] = Counter()
    for comment in comments:
        words = {word.casefold() for word in _WORD.findall(comment)}
        documents.update(word for word in words if len(word) > 2 and word not in STOP_WORDS)
    common = [(word, count) for word, count in documents.most_common() if count >= 2][:limit]
    return Themes(themes=[Theme(label=word, count=count) for word, count in common])


async def summarise(ctx: JobContext, pulse_round: PulseRound) -> Themes:
    """Themes of the round's open answers, stored on the round (``themes_source``: ``llm`` or ``terms``)."""
    comments = await ctx.repo.pulses.comments(pulse_round.id)
    texts = [text for _, text in comments]
    if len(texts) < pulse_round.comment_threshold:
        pulse_round.themes, pulse_round.themes_source = [], None
        return Themes()
    library = await all_questions(ctx.repo.pulses)
    locale = ctx.settings.default_locale
    questions = sorted(
        {
            library[question_id].render(locale, ctx.settings.organisation)
            for question_id, _ in comments
            if question_id in library
        }
    )
    scrub = await scrubber(ctx) if ctx.llm.enabled else None
    answer, from_llm = await ctx.llm.structured(
        "pulse_themes",
        {
            "questions": questions,
            "comments": [scrub(text) for text in texts] if scrub else texts,
            "language": "Nederlands" if locale == "nl" else "English",
            "limit": MAX_THEMES,
        },
        Themes,
        lambda: frequent_terms(texts),
    )
    if from_llm:
        answer = Themes(themes=[theme for theme in answer.themes if theme.count <= len(texts)])
    pulse_round.themes = [theme.model_dump() for theme in answer.themes]
    pulse_round.themes_source = "llm" if from_llm else "terms"
    return answer
