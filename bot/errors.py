"""The small hierarchy of errors that become polite replies (router) or HTTP codes (server)."""

from __future__ import annotations

from typing import Any


class KlantpetError(Exception):
    """Base of every expected error. ``key`` names the prompt shown to the member."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        super().__init__(key or self.key)
        if key is not None:
            self.key = key
        self.params = params


class NotAllowed(KlantpetError):
    """The member's role does not allow this action."""

    key = "error.not_allowed"


class NotFound(KlantpetError):
    """What the member referred to does not exist (or is not theirs to see)."""

    key = "error.not_found"


class InvalidInput(KlantpetError):
    """A command argument or form value is malformed; ``field`` names it for forms."""

    key = "error.invalid_input"

    def __init__(self, key: str | None = None, field: str | None = None, **params: Any) -> None:
        super().__init__(key, **params)
        self.field = field


class Conflict(KlantpetError):
    """The action clashes with the current state (already answered, closed, …)."""

    key = "error.conflict"


class NotLinked(KlantpetError):
    """The platform user is not linked to a member."""

    key = "error.not_linked"


class DatabaseUnavailable(Exception):
    """The database cannot be reached at start."""
