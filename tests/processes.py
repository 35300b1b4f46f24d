"""The real `newsmon run` in a child process, and waiting on what it does (no fixed sleeps in tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def newsmon_run(config: Path, *args: str, verbose: bool = False) -> Iterator[subprocess.Popen[str]]:
    """``newsmon run`` on ``config``, killed on the way out if still running."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "newsmon", *(["-v"] if verbose else []), "--config", str(config), "run", *args],
        cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def wait_until(condition: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    """Poll ``condition`` until it returns something true, and return that; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
