"""The Agents SDK's `Storage` over our database: conversation references and turn state survive restarts.

Items are JSON under a key (the SDK's own keys, e.g. ``proactive/conversations/<conversation id>``), in the
``teams_storage`` table through `storage.repositories.teams`. Last writer wins, like the SDK's storages.
"""

from __future__ import annotations

from typing import Any, TypeVar

from microsoft_agents.hosting.core import Storage, StoreItem

from bot.clock import Clock
from storage.db import Database
from storage.repositories import Repos

StoreItemT = TypeVar("StoreItemT", bound=StoreItem)


class DatabaseStorage(Storage):
    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    async def read(
        self, keys: list[str], *, target_cls: type[StoreItemT], **kwargs: Any
    ) -> dict[str, StoreItemT]:
        _check(keys)
        async with self.database.reading() as session:
            found = await Repos(session).teams.read(keys)
        return {key: target_cls.from_json_to_store_item(value) for key, value in found.items()}  # type: ignore[misc]

    async def write(self, changes: dict[str, StoreItem]) -> None:
        _check(list(changes))
        values = {key: item.store_item_to_json() for key, item in changes.items()}
        async with self.database.transaction() as session:
            await Repos(session).teams.write(values, self.clock.now())

    async def delete(self, keys: list[str]) -> None:
        _check(keys)
        async with self.database.transaction() as session:
            await Repos(session).teams.delete(keys)


def _check(keys: list[str]) -> None:
    if not keys or any(not key for key in keys):
        raise ValueError("storage keys must be given and not empty")
