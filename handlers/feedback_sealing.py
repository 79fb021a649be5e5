"""Encryption at rest for feedback: texts, relay handles and the giver mapping of anonymous items.

Two Fernet keys, both from ``services.relay_key``: the key itself seals the *giver mapping* (only the relay
opens it), and a key derived from it with HKDF seals *texts* and *handles*. Every token gets a random IV and
a zero timestamp (Fernet would otherwise write the exact second in clear), so the same member or text never
gives the same token and no token tells when it was made.
"""

from __future__ import annotations

import base64
import json
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NO_TIME = 0


class Sealer:
    def __init__(self, relay_key: bytes) -> None:
        self._mapping = Fernet(relay_key)
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"klantpet feedback texts"
        ).derive(base64.urlsafe_b64decode(relay_key))
        self._texts = Fernet(base64.urlsafe_b64encode(derived))

    # --- Texts -----------------------------------------------------------------------------------
    def seal(self, text: str) -> str:
        return self._texts.encrypt_at_time(text.encode(), _NO_TIME).decode()

    def open(self, sealed: str) -> str:
        return self._texts.decrypt(sealed.encode()).decode()

    def seal_json(self, data: dict[str, object]) -> str:
        return self.seal(json.dumps(data, separators=(",", ":")))

    def open_json(self, sealed: str) -> dict[str, object]:
        value = json.loads(self.open(sealed))
        return value if isinstance(value, dict) else {}

    # --- Handles: which item a button or a thread reply is about, unreadable in a dump -----------------
    def handle(self, item_id: int) -> str:
        return self.seal_json({"item": item_id, "nonce": secrets.token_hex(4)})

    def open_handle(self, handle: str) -> int | None:
        try:
            value = self.open_json(handle).get("item")
        except (InvalidToken, ValueError):
            return None
        return value if isinstance(value, int) else None

    # --- The giver mapping (the relay only) ---------------------------------------------------------
    def seal_giver(self, member_id: int) -> str:
        payload = json.dumps({"member": member_id, "nonce": secrets.token_hex(8)}).encode()
        return self._mapping.encrypt_at_time(payload, _NO_TIME).decode()

    def seal_nobody(self) -> str:
        """A mapping that leads nowhere (an erased giver), indistinguishable from a real one."""
        payload = json.dumps({"member": None, "nonce": secrets.token_hex(8)}).encode()
        return self._mapping.encrypt_at_time(payload, _NO_TIME).decode()

    def open_giver(self, blob: str) -> int | None:
        try:
            value = json.loads(self._mapping.decrypt(blob.encode())).get("member")
        except (InvalidToken, ValueError):
            return None
        return value if isinstance(value, int) else None


@lru_cache(maxsize=4)
def sealer(relay_key: bytes) -> Sealer:
    """The sealer for a key (built once per key)."""
    return Sealer(relay_key)
