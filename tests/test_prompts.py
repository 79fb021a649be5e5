"""Every sentence exists in Dutch and English, and every template renders."""

from __future__ import annotations

import re

from jinja2 import meta

from bot.i18n import LOCALES, Catalog

catalog = Catalog()


def sentences(locale: str) -> set[str]:
    """Keys of sentences (command aliases may differ per language)."""
    return {key for key in catalog.entries[locale] if not key.startswith("commands.aliases.")}


def test_both_locales_have_the_same_keys() -> None:
    nl, en = (sentences(locale) for locale in LOCALES)
    assert sorted(nl - en) == [], "keys missing in English"
    assert sorted(en - nl) == [], "keys missing in Dutch"


def test_every_template_parses_and_uses_the_same_variables_in_both_locales() -> None:
    for key in sentences("nl"):
        variables = {}
        for locale in LOCALES:
            value = catalog.entries[locale][key]
            if isinstance(value, str):
                variables[locale] = meta.find_undeclared_variables(catalog.environment.parse(value))
        if len(variables) == 2:
            assert variables["nl"] == variables["en"], key


def test_no_untranslated_english_in_dutch_sentences() -> None:
    suspicious = re.compile(r"\b(the|please|your|you)\b", re.IGNORECASE)
    for key, value in catalog.entries["nl"].items():
        if isinstance(value, str) and not key.startswith(
            ("commands.", "help.button_language", "help.footer")
        ):
            assert not suspicious.search(value), f"{key}: {value}"


def test_aliases_of_one_command_word_from_several_files_are_all_kept() -> None:
    adds = catalog.entries["nl"].get("commands.aliases.add", [])
    assert "nieuw" in adds and "toevoegen" in adds


def test_no_sentence_key_is_defined_twice_across_files() -> None:
    import yaml

    from bot.i18n import PROMPTS, _flatten

    for locale in LOCALES:
        seen: dict[str, str] = {}
        for path in sorted((PROMPTS / locale).glob("*.yaml")):
            flat: dict[str, object] = {}
            _flatten("", yaml.safe_load(path.read_text(encoding="utf-8")) or {}, flat)
            for key in flat:
                if not key.startswith("commands.aliases."):
                    assert key not in seen, f"{key} is in both {seen[key]} and {path.name}"
                    seen[key] = path.name
