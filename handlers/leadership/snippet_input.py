"""Reading what a leader typed: the `snippet` command line, the snippet form, a posting time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.errors import InvalidInput
from bot.recurrence import to_utc

MAX_TEXT = 1500
MAX_URL = 2000
MAX_SCHEDULE_DAYS = 90
_OPTION = re.compile(r"(?:^|\s)--(video|story)(?:=|\s+)(\S+)", re.IGNORECASE)
_LINK_LIKE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.)", re.IGNORECASE)
MAX_STORY = 120
_STORY = re.compile(r"^#?[A-Za-z0-9][A-Za-z0-9_.-]{0,119}$")
_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_DAY_FIRST = re.compile(r"^\s*(\d{1,2})-(\d{1,2})-(\d{4})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")


@dataclass(frozen=True)
class SnippetInput:
    text: str
    video_url: str | None
    story_ref: str | None
    """A customer story as the leader named it (an id or a slug); `snippet_story.linked_story` resolves it."""


def from_command(rest: str) -> SnippetInput:
    """``snippet [--video URL] [--story REF] text``; a link that opens the text is the video."""
    options: dict[str, str] = {}

    def take(match: re.Match[str]) -> str:
        options[match.group(1).lower()] = match.group(2)
        return " "

    text = _OPTION.sub(take, rest).strip()
    video = options.get("video")
    if video is None and text:
        first, *remainder = text.split(None, 1)
        if _LINK_LIKE.match(first):
            video, text = first, (remainder[0].strip() if remainder else "")
    return validated(text, video or "", options.get("story", ""))


def validated(text: str, video: str, story: str) -> SnippetInput:
    """Clean, checked input; `InvalidInput` naming the field otherwise."""
    text = text.strip()
    video = video.strip()
    story = story.strip()
    if not text and not video:
        raise InvalidInput("leadership.snippet.empty", field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput("error.field_too_long", field="text", limit=MAX_TEXT)
    if video and not is_web_link(video):
        raise InvalidInput("leadership.snippet.bad_video", field="video", given=video[:80])
    if story and not _STORY.match(story):
        raise InvalidInput("leadership.snippet.bad_story", field="story", given=story[:MAX_STORY])
    return SnippetInput(text=text, video_url=video or None, story_ref=story or None)


def is_web_link(url: str) -> bool:
    if len(url) > MAX_URL or any(char.isspace() for char in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = parts.hostname or ""
    return parts.scheme in ("http", "https") and ("." in host or host == "localhost")


def posting_time(date: str, time: str, timezone: str, now: datetime) -> datetime:
    """A local date (``2026-11-24`` or ``24-11-2026``) and time (``09:00``) → an aware UTC moment ahead."""
    day = _DATE.match(date)
    day_first = _DAY_FIRST.match(date)
    clock = _TIME.match(time)
    if not (day or day_first) or not clock:
        raise InvalidInput("leadership.snippet.bad_time", field="date", date=date[:20], time=time[:10])
    year, month, day_of_month = (
        (int(day[1]), int(day[2]), int(day[3]))
        if day
        else (int(day_first[3]), int(day_first[2]), int(day_first[1]))  # type: ignore[index]
    )
    try:
        local = datetime(year, month, day_of_month, int(clock[1]), int(clock[2]))
    except ValueError:
        raise InvalidInput(
            "leadership.snippet.bad_time", field="date", date=date[:20], time=time[:10]
        ) from None
    moment = to_utc(local, ZoneInfo(timezone))
    if moment <= now:
        raise InvalidInput("leadership.snippet.in_the_past", field="date")
    if moment > now + timedelta(days=MAX_SCHEDULE_DAYS):
        raise InvalidInput("leadership.snippet.too_far", field="date", days=MAX_SCHEDULE_DAYS)
    return moment


def suggested_time(now: datetime, timezone: str) -> datetime:
    """The next working day at 09:00 local time: a good moment for a company channel."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone) + timedelta(days=1)
    while local.weekday() >= 5:
        local += timedelta(days=1)
    return to_utc(local.replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=None), zone)
