"""`.env.example` documents every setting."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_in_env_example() -> None:
    text = (ROOT / ".env.example").read_text()
    documented = {
        line.split("=", 1)[0] for line in text.splitlines() if "=" in line and not line.startswith("#")
    }
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        env = alias.choices[0] if alias is not None else f"KLANTPET_{name.upper()}"  # type: ignore[union-attr]
        assert env in documented, f"{env} is missing from .env.example"


def test_env_example_loads_as_valid_settings(tmp_path: Path) -> None:
    text = (
        (ROOT / ".env.example").read_text().replace("KLANTPET_DATA_DIR=data", f"KLANTPET_DATA_DIR={tmp_path}")
    )
    env_file = tmp_path / ".env"
    env_file.write_text(text)
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.demo_mode and settings.web_chat_enabled
