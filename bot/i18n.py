"""Every sentence the bot says: templates under ``prompts/<locale>/*.yaml``, looked up by key."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, Template

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
LOCALES = ("nl", "en")
log = logging.getLogger(__name__)


def _flatten(prefix: str, node: Any, into: dict[str, Any]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, into)
    elif prefix.startswith("commands.aliases.") and prefix in into:
        # Several features may give the same command word aliases: keep them all.
        known = into[prefix] if isinstance(into[prefix], list) else [into[prefix]]
        extra = node if isinstance(node, list) else [node]
        into[prefix] = known + [word for word in extra if word not in known]
    else:
        into[prefix] = node


def load_locale(locale: str, root: Path = PROMPTS) -> dict[str, Any]:
    """All keys of one locale, flattened (``pulse.thanks``), from every YAML file in its folder."""
    flat: dict[str, Any] = {}
    for path in sorted((root / locale).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        _flatten("", data, flat)
    return flat


class Catalog:
    """Renders prompt keys in a locale; falls back to the default locale (and logs) when a key is missing."""

    def __init__(self, default_locale: str = "nl", root: Path = PROMPTS, **globals_: Any) -> None:
        self.default_locale = default_locale
        self.entries = {locale: load_locale(locale, root) for locale in LOCALES}
        self.environment = Environment(
            undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
        )
        self.environment.globals.update(globals_)

    def locale(self, wanted: str | None) -> str:
        """The supported locale closest to ``wanted`` (``nl-NL`` → ``nl``; unknown → default)."""
        if wanted:
            short = wanted.replace("_", "-").split("-")[0].lower()
            if short in LOCALES:
                return short
        return self.default_locale

    def has(self, locale: str, key: str) -> bool:
        return key in self.entries.get(locale, {})

    def raw(self, locale: str, key: str) -> Any:
        locale = self.locale(locale)
        if key in self.entries[locale]:
            return self.entries[locale][key]
        if key in self.entries[self.default_locale]:
            log.warning("prompt missing in locale", extra={"key": key, "locale": locale})
            return self.entries[self.default_locale][key]
        raise KeyError(f"unknown prompt key {key!r}")

    def t(self, locale: str, key: str, **params: Any) -> str:
        value = self.raw(locale, key)
        if not isinstance(value, str):
            raise TypeError(f"prompt {key!r} is not a sentence")
        return _template(self.environment, value).render(**params).strip()

    def choices(self, locale: str, key: str) -> list[str]:
        value = self.raw(locale, key)
        return [str(item) for item in value] if isinstance(value, list) else [str(value)]


@lru_cache(maxsize=4096)
def _compiled(environment_id: int, source: str, environment: Environment) -> Template:
    return environment.from_string(source)


def _template(environment: Environment, source: str) -> Template:
    return _compiled(id(environment), source, environment)
