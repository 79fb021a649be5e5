"""Microsoft Teams: the Agents SDK's key-value storage (conversation references, turn state) in our database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Json, UtcDateTime


class TeamsStoreItem(Base):
    """One item of the SDK's ``Storage``: a stored conversation (``proactive/conversations/<id>``) or turn state."""

    __tablename__ = "teams_storage"

    key: Mapped[str] = mapped_column(String(600), primary_key=True)
    value: Mapped[Any] = mapped_column(Json)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
