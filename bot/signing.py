"""Signed, expiring values for cookies and one-time links (HMAC-SHA256 with the secret key)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from bot.clock import Clock


class Signer:
    def __init__(self, secret: bytes, purpose: str, clock: Clock | None = None) -> None:
        self.key = hmac.new(secret, purpose.encode(), hashlib.sha256).digest()
        # Expiry follows the services' clock, so a test can let a link expire by moving a ManualClock.
        self.clock = clock or Clock()

    def sign(self, value: Any, max_age: float) -> str:
        expires = self._now() + max_age
        body = json.dumps({"v": value, "exp": expires}, separators=(",", ":")).encode()
        encoded = base64.urlsafe_b64encode(body).decode().rstrip("=")
        return f"{encoded}.{self._mac(encoded)}"

    def unsign(self, token: str) -> Any | None:
        """The signed value, or None when the token is forged, malformed or expired."""
        encoded, _, mac = token.partition(".")
        # Compared as bytes: a token with non-ASCII characters is simply wrong, never an error.
        if not encoded or not hmac.compare_digest(mac.encode(), self._mac(encoded).encode()):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
            expires = float(data.get("exp", 0)) if isinstance(data, dict) else 0.0
        except (ValueError, TypeError, binascii.Error):
            return None
        if expires < self._now():
            return None
        return data.get("v")

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def _mac(self, encoded: str) -> str:
        digest = hmac.new(self.key, encoded.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
