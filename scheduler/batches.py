"""One batch of due sources crawled by a child process (``python -m crawler.batch``), which reports each
source's figures as a versioned record (``db.records.decode_batch``).

A child process per batch because Twisted's reactor runs once per process, and because a crawl that hangs
or leaks can then be stopped from outside: after the time limit it gets SIGTERM (Scrapy's graceful stop, which
still records what it did), and SIGKILL if that does not end it. Children run in their own session, so a
Ctrl-C at the terminal reaches the service only, which decides what happens to them.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from db.records import CrawlFigures, decode_batch

logger = logging.getLogger(__name__)

TERM_GRACE = 10.0  # seconds between SIGTERM and SIGKILL


@dataclass(slots=True)
class BatchResult:
    outcomes: dict[str, CrawlFigures] = field(default_factory=dict)  # the sources the child reported on
    problem: str | None = None  # why the others have no outcome (killed, crashed); None: all reported
    abandoned: bool = False  # stopped because the service is stopping: not the sources' fault
    seconds: float = 0.0
    killed: bool = False


def crawl_command(config_path: Path, verbosity: int, log_format: str) -> list[str]:
    """The child's command line, up to the source names."""
    command = [sys.executable, "-m", "crawler.batch", "--config", str(config_path), "--log-format", log_format]
    if verbosity:
        command.append("-" + "v" * verbosity)
    return command + ["--"]


class CrawlProcess:
    """Runs one batch; ``stop`` (from another thread) asks it to end early."""

    def __init__(self, command: Sequence[str], names: Sequence[str], time_limit: float) -> None:
        self.names = list(names)
        self.command = [*command, *self.names]
        self.time_limit = time_limit
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._last_error = ""

    def run(self) -> BatchResult:
        started = time.monotonic()
        result = BatchResult()
        try:
            process = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            result.problem = f"cannot start a crawl process: {exc}"
            return result
        self._process = process
        stdout: list[bytes] = []
        readers = [
            threading.Thread(target=lambda: stdout.append(process.stdout.read()), daemon=True),  # type: ignore[union-attr]
            threading.Thread(target=self._forward_stderr, args=(process,), daemon=True),
        ]
        for reader in readers:
            reader.start()
        deadline = started + self.time_limit
        while process.poll() is None:
            if self._stopping.is_set():
                result.abandoned = True
                self._end(process)
                break
            if time.monotonic() > deadline:
                result.killed = True
                self._end(process)
                break
            time.sleep(0.1)
        for reader in readers:
            reader.join(timeout=5)
        result.seconds = time.monotonic() - started
        self._read_outcomes(b"".join(stdout), result)
        missing = [name for name in self.names if name not in result.outcomes]
        if missing and result.problem is None:
            if result.killed:
                result.problem = f"crawl stopped after the time limit of {self.time_limit:g}s"
            else:
                last = f": {self._last_error}" if self._last_error else ""
                result.problem = f"crawl process exited with code {process.returncode}{last}"
        return result

    def stop(self) -> None:
        self._stopping.set()

    def kill(self) -> None:
        """At once, no grace (a second signal to the service)."""
        process = self._process
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGKILL)

    def _end(self, process: subprocess.Popen[bytes]) -> None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=TERM_GRACE)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()

    def _forward_stderr(self, process: subprocess.Popen[bytes]) -> None:
        """The child's log lines go on to ours; the last one says why it died if it did."""
        assert process.stderr is not None
        for raw in process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self._last_error = line[-300:]
                sys.stderr.write(line + "\n")
                sys.stderr.flush()

    def _read_outcomes(self, output: bytes, result: BatchResult) -> None:
        if not output.strip():
            return
        try:
            result.outcomes.update(decode_batch(output.decode("utf-8", "replace")))
        except (ValueError, KeyError, TypeError) as exc:
            result.problem = f"unreadable crawl report ({type(exc).__name__}: {exc})"


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)  # the child and its extraction workers
    except ProcessLookupError:
        pass
