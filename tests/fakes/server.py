"""Run an ASGI app on a free loopback port in a background thread (for fakes in tests and benches)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(
    app: Any, port: int | None = None, *, certfile: Path | None = None, keyfile: Path | None = None
) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 and yield its base URL (``https://`` when a certificate is given)."""
    port = port or free_port()
    tls = {"ssl_certfile": str(certfile), "ssl_keyfile": str(keyfile)} if certfile and keyfile else {}
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
        **tls,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("fake server did not start")
        time.sleep(0.01)
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10 if not tls else 1)
        if thread.is_alive():  # an idle TLS keep-alive connection (requests/MSAL) can block the exit
            server.force_exit = True
            thread.join(timeout=5)
