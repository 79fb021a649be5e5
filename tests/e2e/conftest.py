"""A real `klantpet run` on a free port, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fakes.server import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class RunningBot:
    url: str
    output: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.output.read_text(errors="replace")


def start_bot(data_dir: Path, extra_env: dict[str, str] | None = None) -> RunningBot:
    port = free_port()
    output = data_dir.parent / f"bot-{port}.log"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KLANTPET_", "SLACK_", "TELEGRAM_"))
    }
    environment.update(
        {
            "KLANTPET_DATA_DIR": str(data_dir),
            "KLANTPET_PORT": str(port),
            "KLANTPET_LOG_FORMAT": "text",
            **(extra_env or {}),
        }
    )
    executable = str(Path(sys.executable).parent / "klantpet")
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [executable, "run"], cwd=data_dir.parent, env=environment, stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"klantpet run exited: {output.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return RunningBot(url, output, process)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"klantpet run did not become healthy: {output.read_text()}")


def stop_bot(bot: RunningBot) -> None:
    bot.process.terminate()
    try:
        bot.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        bot.process.kill()


@pytest.fixture
def running_bot(tmp_path: Path) -> Iterator[RunningBot]:
    bot = start_bot(tmp_path / "data")
    yield bot
    stop_bot(bot)


@pytest.fixture
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Debian's chromium is required under CI (.ci/run installs it)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
