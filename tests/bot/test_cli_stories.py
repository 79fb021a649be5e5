"""`klantpet stories import` and `list`: files with bad rows keep the good ones and name the bad lines."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage.db import Database
from storage.repositories import Repos

CSV = """slug,locale,title,story,quote,stage,department,theme,status
een,nl,Een verhaal,Er was eens een klant,Mooi,use,IT,empathy,approved
twee,xx,Fout,Taal klopt niet,,,,,
,en,,No title here,,,,,
drie,en,Three,"A story
on two lines",,,,,
vier,en,Four,Told by a driver,,,,,
"""
YAML = """stories:
  - slug: yaml-one
    locale: en
    title: YAML one
    story: A fine story.
    tags: {stage: support, department: IT, theme: listening}
    image_url: https://example.com/one.png
  - slug: yaml-two
    locale: en
    story: No title.
  - locale: nl
    title: Zonder slug
    story: De slug komt uit de titel.
"""
MARKDOWN = """---
locale: en
quote: "It just worked."
quote_author: A customer
meaning: Simple is kind.
---
# The form that filled itself

She expected ten minutes of typing. It took one.
---
locale: en
title: [unclosed
---
Body.
"""


@pytest.fixture
def runner(tmp_path: Path, database_url: str) -> CliRunner:
    return CliRunner(env={"KLANTPET_DATABASE_URL": database_url, "KLANTPET_DATA_DIR": str(tmp_path / "data")})


def _stories(database_url: str) -> dict[str, str]:
    async def read() -> dict[str, str]:
        database = Database(database_url)
        async with database.transaction() as session:
            found = {
                f"{s.locale}:{s.slug}": s.status for s in await Repos(session).stories.listing(limit=1000)
            }
        await database.dispose()
        return found

    return asyncio.run(read())


def test_csv_import_keeps_valid_rows_and_reports_bad_ones_by_line(
    runner: CliRunner, tmp_path: Path, database_url: str
) -> None:
    path = tmp_path / "stories.csv"
    path.write_text(CSV, encoding="utf-8")
    result = runner.invoke(app, ["stories", "import", str(path)])
    assert result.exit_code == 1
    assert "stories.csv:3: locale must be one of nl, en" in result.stderr
    assert "stories.csv:4: title is empty" in result.stderr
    assert "Imported 3 new and 0 updated stories; 2 invalid skipped." in result.stdout
    assert _stories(database_url) == {"nl:een": "approved", "en:drie": "draft", "en:vier": "draft"}

    again = runner.invoke(app, ["stories", "import", str(path), "--approve"])
    assert "Imported 0 new and 3 updated stories" in again.stdout
    assert set(_stories(database_url).values()) == {"approved"}

    corrected = CSV.replace("Told by a driver", "Told by a delivery driver")
    path.write_text(corrected, encoding="utf-8")
    runner.invoke(app, ["stories", "import", str(path)])
    assert set(_stories(database_url).values()) == {"approved"}, "a re-import keeps the status"
    path.write_text(
        corrected.replace("vier,en,Four,Told by a delivery driver,,,,,", "vier,en,Four,Told,,,,,archived"),
        encoding="utf-8",
    )
    runner.invoke(app, ["stories", "import", str(path)])
    assert _stories(database_url)["en:vier"] == "archived", "unless the row names one"


def test_a_journey_stage_must_be_one_we_know(runner: CliRunner, tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "stages.csv"
    path.write_text(
        "title,story,locale,stage\nGood,A story,en,Support\nBad,Another story,en,checkout\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["stories", "import", str(path)])
    assert result.exit_code == 1
    assert "stages.csv:3: stage: must be one of awareness, purchase," in result.stderr
    assert _stories(database_url) == {"en:good": "draft"}


def test_list_refuses_an_unknown_status_or_language(runner: CliRunner, database_url: str) -> None:
    for option, value in (("--status", "bogus"), ("--locale", "xx")):
        result = runner.invoke(app, ["stories", "list", option, value])
        assert result.exit_code == 2 and value in result.stderr, option
        assert result.stdout == ""


def test_yaml_and_markdown_imports(runner: CliRunner, tmp_path: Path, database_url: str) -> None:
    yaml_path = tmp_path / "library.yml"
    yaml_path.write_text(YAML, encoding="utf-8")
    result = runner.invoke(app, ["stories", "import", str(yaml_path)])
    assert result.exit_code == 1
    assert "library.yml:8: title is missing" in result.stderr
    markdown = tmp_path / "story.md"
    markdown.write_text(MARKDOWN, encoding="utf-8")
    result = runner.invoke(app, ["stories", "import", str(markdown), "--approve"])
    assert "story.md:10: front matter is not valid YAML" in result.stderr
    assert _stories(database_url) == {
        "en:yaml-one": "draft",
        "nl:zonder-slug": "draft",
        "en:the-form-that-filled-itself": "approved",
    }
    listing = runner.invoke(app, ["stories", "list", "--status", "approved"])
    assert listing.exit_code == 0 and "The form that filled itself" in listing.stdout
    assert "YAML one" not in listing.stdout


def test_dry_run_and_unusable_files_change_nothing(
    runner: CliRunner, tmp_path: Path, database_url: str
) -> None:
    path = tmp_path / "stories.csv"
    path.write_text(CSV, encoding="utf-8")
    result = runner.invoke(app, ["stories", "import", str(path), "--dry-run"])
    assert result.exit_code == 1 and "3 valid, 2 invalid; nothing imported" in result.stdout
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    assert runner.invoke(app, ["stories", "import", str(text)]).exit_code == 2
    broken = tmp_path / "broken.csv"
    broken.write_text("name,age\nx,1\n", encoding="utf-8")
    result = runner.invoke(app, ["stories", "import", str(broken)])
    assert result.exit_code == 2 and "at least title and story" in result.stderr
    assert _stories(database_url) == {}
