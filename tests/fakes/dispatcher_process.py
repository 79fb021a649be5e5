"""A real dispatcher process (the production outbox loop) sending to a fake echo API; killed by tests."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.app import Services
from bot.config import Settings
from tests.fakes.echo_api import EchoPlatform


async def run(database_url: str, api_url: str, data_dir: str) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        data_dir=Path(data_dir),
        web_chat=False,
        demo=False,
        outbox_batch_size=50,
        outbox_lease_seconds=3,
        log_level="WARNING",
    )
    services = Services(settings)
    services.platforms["echo"] = EchoPlatform(api_url)
    services.outbox.start()
    print("dispatching", flush=True)
    while True:
        await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], sys.argv[2], sys.argv[3]))
