"""Short server-side tokens standing for a button's action and payload."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ActionToken
from storage.upsert import insert_ignore

_key = {"secret": b"klantpet-unkeyed"}


def use_key(secret: bytes) -> None:
    """Key the tokens with the instance's secret (all processes of one bot share it), so nobody outside can
    compute the token of an action they were never shown."""
    _key["secret"] = hashlib.sha256(b"action-tokens:" + secret).digest()


def token_for(action: str, payload: dict[str, Any]) -> str:
    """A stable 20-character token (100 bits): the same action and payload always give the same token."""
    canonical = json.dumps([action, payload], sort_keys=True, separators=(",", ":"), default=str)
    digest = hmac.new(_key["secret"], canonical.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:20].lower()


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def register(self, actions: list[tuple[str, dict[str, Any]]]) -> None:
        rows = {token_for(action, payload): (action, payload) for action, payload in actions}
        if not rows:
            return
        now = datetime.now(UTC)
        await insert_ignore(
            self.session,
            ActionToken.__table__,  # type: ignore[arg-type]
            [
                {"token": token, "action": action, "payload": payload, "created_at": now}
                for token, (action, payload) in rows.items()
            ],
            ["token"],
        )

    async def resolve(self, token: str) -> tuple[str, dict[str, Any]] | None:
        statement = select(ActionToken.action, ActionToken.payload).where(ActionToken.token == token)
        row = (await self.session.execute(statement)).first()
        return (row.action, dict(row.payload)) if row else None

    async def resolve_many(self, tokens: Iterable[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """`resolve` for several tokens in one statement; unknown tokens are left out."""
        wanted = list(set(tokens))
        if not wanted:
            return {}
        statement = select(ActionToken.token, ActionToken.action, ActionToken.payload).where(
            ActionToken.token.in_(wanted)
        )
        return {row.token: (row.action, dict(row.payload)) for row in await self.session.execute(statement)}
