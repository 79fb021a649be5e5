"""Find and remove personal data from free text before it is stored, shown or sent to an LLM.

Covers what customer verbatims typically carry: e-mail addresses, phone numbers, IBANs, Dutch postcodes
with house numbers and street addresses, customer/order numbers, and names after a form of address
("meneer Jansen", "Mrs Smith") or an introduction ("mijn naam is …", "my name is …"). It is a safety net
that errs on the side of removing, not a guarantee: a CX manager still reads every draft before approval.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

KINDS = ("email", "iban", "phone", "address", "reference", "name")
DEFAULT_LABELS: Mapping[str, str] = {
    "email": "[e-mail]",
    "iban": "[IBAN]",
    "phone": "[phone]",
    "address": "[address]",
    "reference": "[number]",
    "name": "[name]",
}

_NAME_WORD = r"(?:[A-ZÀ-Ý]\.|[A-ZÀ-Ý][\w'’-]+)"
_PARTICLES = r"(?:van|de|der|den|ter|ten|te|in\s+'t|op\s+den|el|al|bin|da|di|du|le|la)"
_NAME = rf"(?:{_NAME_WORD}\s+)?(?:{_PARTICLES}\s+)*{_NAME_WORD}(?:-{_NAME_WORD})?"
_HONORIFIC = (
    r"(?:meneer|mevrouw|mevr\.?|mw\.?|dhr\.?|de\s+heer|heer|juffrouw|mejuffrouw|"
    r"Mr\.?|Mrs\.?|Ms\.?|Miss|Mister|Sir|Madam|Dr\.?|dokter)"
)
_INTRODUCTION = r"(?:mijn\s+naam\s+is|ik\s+heet|my\s+name\s+is|this\s+is)"
_NAMES = (
    re.compile(rf"(?P<lead>\b(?i:{_HONORIFIC})\s+){_NAME}", re.UNICODE),
    re.compile(rf"(?P<lead>\b(?i:{_INTRODUCTION})\s+){_NAME}", re.UNICODE),
)

# Order matters: the longest, most specific patterns first, so a postcode inside an IBAN is not taken.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)),
    ("iban", re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")),
    (
        "reference",
        re.compile(
            r"(?i)\b(?:klant|order|bestel|factuur|dossier|contract|polis|account|customer|invoice|ticket)"
            r"[\s-]?(?:nummer|nr\.?|number|no\.?|id|\#)\s*[:#]?\s*[A-Z0-9][A-Z0-9-]{3,}\b"
        ),
    ),
    (
        "address",
        re.compile(
            r"\b[A-Z][\w'-]*(?:straat|laan|weg|plein|gracht|kade|singel|dijk|steeg|hof|park|pad|dreef|markt"
            r"|baan)\s+\d{1,5}\s?[a-zA-Z]?(?:[-\s]?\d{1,4}\b)?"
        ),
    ),
    (
        "address",
        re.compile(
            r"\b\d{1,5}[a-zA-Z]?\s+(?:[A-Z][\w'-]*\s+){1,3}"
            r"(?:Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|Lane|Ln\.?|Drive|Way|Close|Court|Place)\b"
        ),
    ),
    (
        "address",
        re.compile(r"\b[1-9]\d{3}\s?(?!SA|SD|SS)[A-Z]{2}\b(?:[,\s]+(?:nr\.?\s*)?\d{1,5}\s?[a-zA-Z]?\b)?"),
    ),
    (
        "phone",
        re.compile(
            r"(?<![\w+])(?:(?:\+|00)\d{1,3}[\s.-]?(?:\(0\)[\s.-]?)?\d(?:[\s.-]?\d){6,11}"
            r"|0\d(?:[\s.-]?\d){8})(?!\w)"
        ),
    ),
)


@dataclass(frozen=True)
class Redacted:
    """The cleaned text and what was taken out of it (counts per kind; the originals are not kept)."""

    text: str
    found: Mapping[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.found)


def redact(text: str, labels: Mapping[str, str] | None = None) -> Redacted:
    """Replace personal data in ``text`` with a label per kind (``[e-mail]``, ``[name]``, …)."""
    labels = {**DEFAULT_LABELS, **(labels or {})}
    found: Counter[str] = Counter()

    for kind, pattern in _PATTERNS:

        def replace(match: re.Match[str], kind: str = kind) -> str:
            if kind == "iban" and not _looks_like_iban(match.group(0)):
                return match.group(0)
            found[kind] += 1
            return labels[kind]

        text = pattern.sub(replace, text)

    def replace_name(match: re.Match[str]) -> str:
        found["name"] += 1
        return f"{match.group('lead')}{labels['name']}"

    for pattern in _NAMES:
        text = pattern.sub(replace_name, text)
    return Redacted(text, dict(found))


def _looks_like_iban(candidate: str) -> bool:
    """The ISO 13616 check: move the first four characters to the end, read letters as numbers, mod 97."""
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    if re.fullmatch(r"NL\d{2}[A-Z]{4}\d{10}", compact):  # a Dutch IBAN, even with a typo in it
        return True
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(char, 36)) for char in rearranged)
    return int(digits) % 97 == 1
