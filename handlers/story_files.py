"""Stories as data: the validated house format, and reading it from YAML, CSV and Markdown files.

Every reader returns one `Row` per story with the line it starts on, so an import can keep the valid
stories and report each invalid one by line number. The starter library (``prompts/stories/starter.yaml``)
is read the same way.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.i18n import LOCALES, PROMPTS

STARTER = PROMPTS / "stories" / "starter.yaml"
FORMATS = ("yaml", "csv", "markdown")
STAGES = ("awareness", "purchase", "onboarding", "use", "support", "complaint", "renewal", "leaving")
TEXT_FIELDS = (
    "title",
    "story",
    "quote",
    "quote_author",
    "meaning",
    "question",
    "source",
    "stage",
    "department",
    "theme",
    "image_url",
    "video_url",
    "credit",
)


def slugify(text: str) -> str:
    """``"Tweeduizend dollar vertrouwen!"`` → ``"tweeduizend-dollar-vertrouwen"`` (at most 80 characters)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].rstrip("-") or "story"


class StoryFields(BaseModel):
    """One story in the house format, validated (what a form, a file row or the LLM must provide)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    slug: str = Field("", max_length=120)
    locale: Literal["nl", "en"]
    title: str = Field(min_length=1, max_length=200)
    story: str = Field(min_length=1, max_length=6000)
    quote: str = Field("", max_length=1000)
    quote_author: str = Field("", max_length=200)
    meaning: str = Field("", max_length=2000)
    question: str = Field("", max_length=500)
    source: str = Field("", max_length=300)
    stage: str = Field("", max_length=40)
    department: str = Field("", max_length=80)
    theme: str = Field("", max_length=80)
    image_url: str = Field("", max_length=500)
    video_url: str = Field("", max_length=500)
    credit: str = Field("", max_length=200)
    status: Literal["draft", "approved", "archived"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _flatten_tags(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("tags"), dict):
            tags = data["tags"]
            data = {**{key: tags.get(key) for key in ("stage", "department", "theme")}, **data}
            data = {key: value for key, value in data.items() if key != "tags"}
        if isinstance(data, dict):  # empty cells and YAML nulls mean "not given"
            data = {key: ("" if value is None else value) for key, value in data.items()}
            if data.get("status") == "":
                data["status"] = None
            if isinstance(data.get("locale"), str):
                data["locale"] = data["locale"].strip().lower()
        return data

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        return slugify(value) if value else ""

    @field_validator("theme")
    @classmethod
    def _tag(cls, value: str) -> str:
        return value.lower()

    @field_validator("stage")
    @classmethod
    def _stage(cls, value: str) -> str:
        if value and value.lower() not in STAGES:
            raise ValueError(f"must be one of {', '.join(STAGES)} (or empty)")
        return value.lower()

    @field_validator("image_url", "video_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.IGNORECASE):
            raise ValueError("must be an http(s) link")
        return value

    def with_slug(self) -> StoryFields:
        return self if self.slug else self.model_copy(update={"slug": slugify(self.title)})

    def columns(self) -> dict[str, Any]:
        """The values for a `Story` row (URLs as NULL when empty)."""
        values: dict[str, Any] = {name: getattr(self, name) for name in TEXT_FIELDS}
        values["image_url"] = self.image_url or None
        values["video_url"] = self.video_url or None
        values["slug"] = self.with_slug().slug
        values["locale"] = self.locale
        return values


def problems(error: ValidationError) -> list[tuple[str, str]]:
    """(field, error type) per problem, for form messages and import reports."""
    found = []
    for item in error.errors():
        where = str(item["loc"][0]) if item["loc"] else "story"
        found.append((where, item["type"]))
    return found


def describe(error: ValidationError) -> str:
    """A one-line English description of what is wrong (the CLI's report)."""
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "story"
        if item["type"] == "missing":
            parts.append(f"{where} is missing")
        elif item["type"] == "string_too_short":
            parts.append(f"{where} is empty")
        elif item["type"] == "literal_error" and where == "locale":
            parts.append(f"locale must be one of {', '.join(LOCALES)}")
        else:
            parts.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


@dataclass
class Row:
    """One story read from a file: valid ``fields`` or an ``error``, and the line it starts on."""

    line: int
    fields: StoryFields | None = None
    error: str = ""


@dataclass
class ParsedFile:
    rows: list[Row] = field(default_factory=list)
    error: str = ""
    """A problem with the whole file (unreadable, wrong structure)."""

    @property
    def valid(self) -> list[Row]:
        return [row for row in self.rows if row.fields is not None]

    @property
    def invalid(self) -> list[Row]:
        return [row for row in self.rows if row.fields is None]


def detect_format(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return {".yaml": "yaml", ".yml": "yaml", ".csv": "csv", ".md": "markdown", ".markdown": "markdown"}.get(
        suffix
    )


def parse(text: str, fmt: str, default_locale: str | None = None) -> ParsedFile:
    """Read stories in ``fmt`` (yaml, csv or markdown); ``default_locale`` fills rows that give none."""
    reader = {"yaml": _yaml_items, "csv": _csv_items, "markdown": _markdown_items}[fmt]
    parsed = ParsedFile()
    try:
        for line, item in reader(text):
            parsed.rows.append(_validate(line, item, default_locale))
    except _FileError as error:
        parsed.error = str(error)
    return parsed


def _validate(line: int, item: Any, default_locale: str | None) -> Row:
    if isinstance(item, _Problem):
        return Row(line, error=item.reason)
    if not isinstance(item, dict):
        return Row(line, error="expected a story with fields (title, story, locale, …)")
    if default_locale and not item.get("locale"):
        item = {**item, "locale": default_locale}
    try:
        return Row(line, fields=StoryFields.model_validate(item).with_slug())
    except ValidationError as error:
        return Row(line, error=describe(error))


class _FileError(Exception):
    pass


@dataclass(frozen=True)
class _Problem:
    reason: str


def _yaml_items(text: str) -> Iterator[tuple[int, Any]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise _FileError(f"not valid YAML: {error}") from None
    if isinstance(data, dict) and "stories" in data and isinstance(node, yaml.MappingNode):
        data = data["stories"]
        node = next(value for key, value in node.value if key.value == "stories")
    if data is None:
        return
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        raise _FileError("expected a list of stories (or a `stories:` list)")
    for item_node, item in zip(node.value, data, strict=True):
        yield item_node.start_mark.line + 1, item


def _csv_items(text: str) -> Iterator[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or not {"title", "story"} <= {name.strip() for name in reader.fieldnames}:
        raise _FileError("the first row must name the columns, at least title and story")
    start = 2
    for record in reader:
        item = {(key or "").strip(): value for key, value in record.items() if key}
        if any((value or "").strip() for value in item.values()):
            yield start, item
        start = reader.line_num + 1


_FENCE = re.compile(r"^---\s*$", re.MULTILINE)
_HEADING = re.compile(r"^#{1,3}\s+(.+?)\s*$", re.MULTILINE)


def _markdown_items(text: str) -> Iterator[tuple[int, Any]]:
    """One or more stories: each a ``---`` front matter block (YAML) followed by its Markdown body."""
    fences = list(_FENCE.finditer(text))
    if not fences or text[: fences[0].start()].strip():
        raise _FileError("expected front matter: the file must start with a line `---`")
    if len(fences) % 2:
        raise _FileError("front matter is not closed: every story needs two `---` lines")
    for index in range(0, len(fences), 2):
        opening, closing = fences[index], fences[index + 1]
        following = fences[index + 2].start() if index + 2 < len(fences) else len(text)
        line = text.count("\n", 0, opening.start()) + 1
        try:
            matter = yaml.safe_load(text[opening.end() : closing.start()]) or {}
        except yaml.YAMLError as error:
            yield line, _Problem(f"front matter is not valid YAML: {str(error).splitlines()[0]}")
            continue
        if not isinstance(matter, dict):
            yield line, matter
            continue
        body = text[closing.end() : following].strip()
        heading = _HEADING.match(body)
        if heading and not matter.get("title"):
            matter["title"] = heading.group(1)
            body = body[heading.end() :].strip()
        yield line, {**matter, "story": matter.get("story") or body}


@lru_cache(maxsize=1)
def starter_library(path: Path = STARTER) -> tuple[StoryFields, ...]:
    """The stories shipped with Klantpet (every one must be valid: a test checks it)."""
    parsed = parse(path.read_text(encoding="utf-8"), "yaml")
    if parsed.error or parsed.invalid:
        raise ValueError(f"invalid starter library: {parsed.error or parsed.invalid[0].error}")
    return tuple(row.fields for row in parsed.rows if row.fields is not None)
