"""All models share one metadata. Feature modules in this package are imported automatically, so
Alembic and the repositories see every table; import a feature's models from its own module."""

import importlib
import pkgutil

from storage.models.base import Base
from storage.models.core import (
    ActionToken,
    AuditEntry,
    Channel,
    ChannelMember,
    Department,
    Identity,
    Member,
    MemberRole,
    ProcessedEvent,
    Role,
    Schedule,
)
from storage.models.meetings import Meeting, MeetingParticipant
from storage.models.outbox import Delivery, WebMessage

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "ActionToken",
    "AuditEntry",
    "Base",
    "Channel",
    "ChannelMember",
    "Delivery",
    "Department",
    "Identity",
    "Meeting",
    "MeetingParticipant",
    "Member",
    "MemberRole",
    "ProcessedEvent",
    "Role",
    "Schedule",
    "WebMessage",
]
