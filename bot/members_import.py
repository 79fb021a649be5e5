"""Departments and titles for members from a CSV file (an HR export), when Slack has no department field.

The first row names the columns (English or Dutch, any case, comma or semicolon separated):
``slack_id``/``slack``, ``email``/``e-mail`` or ``name``/``naam`` find the member (first match wins);
``department``/``afdeling`` and ``title``/``functie`` are what is set (an empty cell changes nothing).
The import is all or nothing: a row that matches no member refuses the whole file, unless asked to skip
such rows.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from storage.models import Member
from storage.repositories import Repos

ALIASES = {
    "slack_id": "slack_id",
    "slack": "slack_id",
    "slack id": "slack_id",
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "name": "name",
    "naam": "name",
    "department": "department",
    "afdeling": "department",
    "title": "title",
    "functie": "title",
}
KEY_COLUMNS = ("slack_id", "email", "name")
VALUE_COLUMNS = ("department", "title")
MAX_ROWS = 100_000


class CsvImportError(ValueError):
    """The file cannot be imported; the message says why, for a person to fix it."""


@dataclass
class ImportReport:
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)


def read_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs with canonical column names; raises `CsvImportError` on a bad header."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise CsvImportError("the file is empty")
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [ALIASES.get(cell.strip().lower(), "") for cell in next(reader)]
    if not any(column in header for column in KEY_COLUMNS):
        raise CsvImportError("the first row needs a column slack_id, email or name to find each member")
    if not any(column in header for column in VALUE_COLUMNS):
        raise CsvImportError("the first row needs a column department or title to import")
    rows = []
    for line, cells in enumerate(reader, start=2):
        if line > MAX_ROWS:
            raise CsvImportError(f"more than {MAX_ROWS} rows")
        if not any(cell.strip() for cell in cells):
            continue
        rows.append(
            (line, {column: cell.strip() for column, cell in zip(header, cells, strict=False) if column})
        )
    return rows


async def _find(repos: Repos, row: dict[str, str]) -> Member | None:
    if row.get("slack_id"):
        found = await repos.members.by_identity("slack", row["slack_id"])
        if found:
            return found
    if row.get("email"):
        found = await repos.members.by_email(row["email"])
        if found:
            return found
    if row.get("name"):
        return await repos.members.by_name(row["name"])
    return None


async def apply(
    repos: Repos, rows: list[tuple[int, dict[str, str]]], *, skip_unknown: bool = False
) -> ImportReport:
    """Update the members the rows name (in the caller's transaction); unknown rows refuse the file."""
    report = ImportReport()
    unknown = []
    for line, row in rows:
        member = await _find(repos, row)
        if member is None:
            who = row.get("slack_id") or row.get("email") or row.get("name") or "?"
            unknown.append(f"line {line}: no member {who!r}")
            continue
        before = (member.department_id, member.title)
        if row.get("department"):
            member.department = await repos.members.department(row["department"][:120])
        if row.get("title"):
            member.title = row["title"][:120]
        await repos.session.flush()
        if (member.department_id, member.title) == before:
            report.unchanged += 1
        else:
            report.updated += 1
    if unknown and not skip_unknown:
        shown = "\n".join(unknown[:20]) + (f"\n… and {len(unknown) - 20} more" if len(unknown) > 20 else "")
        raise CsvImportError(f"{len(unknown)} row(s) match no member; nothing was imported:\n{shown}")
    report.skipped = unknown
    return report
