"""Personal data is taken out of customer verbatims; ordinary words, dates and amounts stay."""

from __future__ import annotations

import pytest

from bot.redaction import redact


@pytest.mark.parametrize(
    ("text", "kind", "gone"),
    [
        ("Mail me: anna.de.vries+shop@example.co.uk", "email", "anna.de.vries+shop@example.co.uk"),
        ("Bel 06-12345678 even", "phone", "06-12345678"),
        ("Bel 020 123 4567 even", "phone", "020 123 4567"),
        ("Call +44 20 7946 0958 today", "phone", "7946 0958"),
        ("Ring 0031 (0)6 1234 5678", "phone", "1234 5678"),
        ("IBAN NL91 ABNA 0417 1643 00 graag", "iban", "0417 1643"),
        ("IBAN DE89370400440532013000 please", "iban", "DE89370400440532013000"),
        ("Ik woon op Kerkstraat 5a in Gouda", "address", "Kerkstraat 5a"),
        ("Postcode 3511 AB 12, Utrecht", "address", "3511 AB"),
        ("I live at 221B Baker Street, London", "address", "221B Baker Street"),
        ("mijn klantnummer: 12345678", "reference", "12345678"),
        ("order number A-99812 was late", "reference", "A-99812"),
        ("Meneer Jansen was boos", "name", "Jansen"),
        ("ik sprak mevrouw J. van den Berg-Smit", "name", "Berg-Smit"),
        ("Mrs. O'Brien called twice", "name", "O'Brien"),
        ("My name is Priya Patel and I'm upset", "name", "Priya Patel"),
        ("Mijn naam is Kees. Het pakket kwam niet.", "name", "Kees"),
    ],
)
def test_personal_data_is_found_and_removed(text: str, kind: str, gone: str) -> None:
    result = redact(text)
    assert gone not in result.text
    assert result.found.get(kind, 0) >= 1, result


def test_labels_are_configurable_and_the_rest_of_the_sentence_stays() -> None:
    result = redact("Mijn naam is Kees. Mail kees@example.nl.", {"name": "[naam]", "email": "[e-mailadres]"})
    assert result.text == "Mijn naam is [naam]. Mail [e-mailadres]."
    assert result.found == {"name": 1, "email": 1}


@pytest.mark.parametrize(
    "text",
    [
        "In 2024 waren we 3 dagen te laat; de bezorger kwam om 10:30.",
        "Het kostte €1500 en 12 weken wachten, bestelling 3 van 5.",
        "The NPS went from 32 to 41 in Q3 2025.",
        "Klantenservice belde me terug binnen 2 uur. Top!",
        "meneer was heel aardig",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    result = redact(text)
    assert result.text == text and not result.changed
