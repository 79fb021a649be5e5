"""Keys from the settings, or generated once and kept in the data folder with owner-only permissions."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from cryptography.fernet import Fernet

log = logging.getLogger(__name__)
OWNER_ONLY = 0o600


def _kept(path: Path, make: bytes) -> bytes:
    """The key in ``path``, written atomically the first time (a half-written key is never read), readable
    by the owner only: a key file others may read is tightened to owner-only (and that is logged)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(make)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # fails if another process won the race: then use theirs
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    if stat.S_IMODE(path.stat().st_mode) & ~OWNER_ONLY:
        path.chmod(OWNER_ONLY)
        log.warning("a key file was readable by others; it is now owner-only", extra={"file": path.name})
    kept = path.read_bytes().strip()
    if len(kept) < 32:
        raise ValueError(f"the key in {path} is damaged; delete it to have a new one made")
    return kept


def secret_key(configured: str | None, data_dir: Path) -> bytes:
    """The key that signs sessions and links."""
    if configured:
        return configured.encode()
    return _kept(data_dir / "secret.key", secrets.token_urlsafe(48).encode())


def relay_key(configured: str | None, data_dir: Path) -> bytes:
    """The Fernet key that encrypts anonymous relay mappings."""
    if configured:
        Fernet(configured.encode())  # raises ValueError on a malformed key
        return configured.encode()
    return _kept(data_dir / "relay.key", Fernet.generate_key())
