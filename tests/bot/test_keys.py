"""The relay key: from the settings, or generated once in the data folder for the owner's eyes only."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from pydantic import ValidationError
from sqlalchemy import select

from bot.app import Services
from bot.clock import ManualClock
from bot.keys import relay_key
from storage.models import Role
from storage.models.feedback import FeedbackItem
from tests.conftest import make_settings
from tests.handlers.test_feedback import WAIT, give, item_id, relay_and_deliver
from tests.harness import Chat


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_embedded_relay_key_is_made_once_owner_only_and_kept_across_restarts(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    settings = make_settings(tmp_path, database_url)
    kept = settings.data_dir / "relay.key"
    assert not kept.exists()
    permissive = os.umask(0)  # even where files are made world-readable by default
    try:
        first = Services(settings, clock=clock)
    finally:
        os.umask(permissive)
    assert mode_of(kept) == 0o600
    assert first.relay_key == kept.read_bytes().strip()
    await first.start()
    try:
        chat = Chat(first)
        anna = await chat.member("Anna")
        chloe = await chat.member("Chloé", roles=[Role.cx_manager])
        await give(chat, anna, WAIT, mode="anonymous")
        await relay_and_deliver(chat, clock)
        number = await item_id(chloe, WAIT)
    finally:
        await first.stop()

    second = Services(settings, clock=clock)  # a restart reads the same key: the giver stays reachable
    assert second.relay_key == first.relay_key and mode_of(kept) == 0o600
    await second.start()
    try:
        chat = Chat(second)
        chloe.chat = anna.chat = chat
        await chloe.says(f"feedback {number} antwoord Welke dagen vooral?")
        await relay_and_deliver(chat, clock)
        assert "Welke dagen vooral?" in (await anna.last_reply()).text
    finally:
        await second.stop()


async def test_a_relay_key_from_the_settings_seals_the_giver_and_no_key_file_is_written(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    configured = Fernet.generate_key()
    settings = make_settings(tmp_path, database_url, relay_key=configured.decode())
    services = Services(settings, clock=clock)
    assert services.relay_key == configured
    assert not (settings.data_dir / "relay.key").exists()
    await services.start()
    try:
        chat = Chat(services)
        anna = await chat.member("Anna")
        await chat.member("Chloé", roles=[Role.cx_manager])
        await give(chat, anna, WAIT, mode="anonymous")
        await relay_and_deliver(chat, clock)
        async with services.database.transaction() as session:
            blob = (await session.scalars(select(FeedbackItem.relay_blob))).one()
    finally:
        await services.stop()
    assert blob is not None
    assert json.loads(Fernet(configured).decrypt(blob.encode()))["member"] == anna.member.id
    with pytest.raises(InvalidToken):  # another key opens nothing
        Fernet(Fernet.generate_key()).decrypt(blob.encode())


def test_a_malformed_relay_key_in_the_settings_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not a Fernet key"):
        make_settings(tmp_path, "sqlite+aiosqlite:///:memory:", relay_key="not-a-key")


def test_a_key_file_others_could_read_is_made_owner_only_without_logging_the_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kept = tmp_path / "relay.key"
    key = Fernet.generate_key()
    kept.write_bytes(key + b"\n")
    kept.chmod(0o644)
    caplog.set_level(logging.DEBUG)
    assert relay_key(None, tmp_path) == key
    assert mode_of(kept) == 0o600
    assert any("owner-only" in record.getMessage() for record in caplog.records)
    assert key.decode() not in caplog.text
    kept.write_bytes(b"short")
    with pytest.raises(ValueError, match="damaged"):
        relay_key(None, tmp_path)
