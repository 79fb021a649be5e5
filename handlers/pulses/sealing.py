"""Open answers are sealed while their round is open, and opened only at closing.

While a round is open, the buffer row of an open answer is written in the same transaction as the member's
participation row: on PostgreSQL both carry that transaction's id (``xmin``), on SQLite both sit in the same
rowid order. So what a buffer row holds must be unreadable from the database alone. Each entry is sealed
with Fernet under a key derived (HKDF) from the relay key in the settings — the key that also seals the
feedback relay — with its own ``info``, so it opens nothing of feedback and feedback's keys open nothing
here. Every token gets a random IV and a zero timestamp (Fernet would otherwise write the second in clear),
and every plaintext is padded to one fixed length: an answer of three words, an answer of a thousand
characters and a skip all give tokens of the same length.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from handlers.pulses.cards import COMMENT_LIMIT

__all__ = ["CommentSealer", "InvalidToken", "sealer"]

_NO_TIME = 0
_ANSWER, _SKIP = b"A", b"S"
_LENGTH_BYTES = 2
_PADDED = 1 + _LENGTH_BYTES + 4 * COMMENT_LIMIT
"""A kind byte, the text's length, and room for the longest answer in UTF-8 (four bytes a character)."""


class CommentSealer:
    def __init__(self, relay_key: bytes) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"klantpet pulse open answers"
        ).derive(base64.urlsafe_b64decode(relay_key))
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, text: str | None) -> str:
        """An open answer, or None for a skip, as a token of fixed length."""
        kind, body = (_SKIP, b"") if text is None else (_ANSWER, text.encode())
        if len(body) > _PADDED - 1 - _LENGTH_BYTES:
            raise ValueError("an open answer longer than the comment limit")
        plain = kind + len(body).to_bytes(_LENGTH_BYTES, "big") + body
        return self._fernet.encrypt_at_time(plain.ljust(_PADDED, b"\0"), _NO_TIME).decode()

    def open(self, sealed: str) -> str | None:
        """The answer, or None for a skip; raises `InvalidToken` for a token of another key."""
        plain = self._fernet.decrypt(sealed.encode())
        kind, length = plain[:1], int.from_bytes(plain[1 : 1 + _LENGTH_BYTES], "big")
        if kind == _SKIP:
            return None
        if kind != _ANSWER or len(plain) < 1 + _LENGTH_BYTES + length:
            raise InvalidToken
        return plain[1 + _LENGTH_BYTES : 1 + _LENGTH_BYTES + length].decode()


@lru_cache(maxsize=4)
def sealer(relay_key: bytes) -> CommentSealer:
    """The sealer for a key (built once per key)."""
    return CommentSealer(relay_key)
