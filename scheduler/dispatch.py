"""Handing due sources to crawls: the interface the service schedules through, and its single-machine
strategy, crawl processes of its own (``scheduler.batches``). The scale-out strategy, jobs in Redis for
`--role worker`s, is ``scheduler.redis_dispatch``.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from db.records import CrawlFigures, SourceTally
from db.runs import give_up, open_runs
from db.session import database_error
from db.sources import record_crawl_run, sync_sources
from newsmon.config import ServiceConfig, SourceConfig
from scheduler.batches import BatchResult, CrawlProcess
from scheduler.due import DueSources
from scheduler.planning import PollPlanner
from scheduler.writes import FailingWrites

logger = logging.getLogger(__name__)

GATHER = 0.5  # seconds the dispatcher waits for more due sources before starting a batch


@dataclass(frozen=True, slots=True)
class Crawling:
    """What every dispatcher works with: the due sources, the archive, the config, the planner of outcomes, and
    the record of refused writes."""

    due: DueSources
    sessions: sessionmaker[Session]
    sources: dict[str, SourceConfig]
    settings: ServiceConfig
    planner: PollPlanner
    writes: FailingWrites


@dataclass(frozen=True, slots=True)
class Periodic:
    """A job a dispatcher needs run every ``seconds`` beside the service's own."""

    function: Callable[[], None]
    seconds: float
    id: str
    name: str


class Dispatcher(ABC):
    """Takes due sources and has them crawled; reports each crawl's outcome to the planner."""

    def __init__(self, crawling: Crawling) -> None:
        self.due = crawling.due
        self.sessions = crawling.sessions
        self.sources = crawling.sources
        self.settings = crawling.settings
        self.planner = crawling.planner
        self.writes = crawling.writes

    def take_over(self) -> None:
        """Crawl runs a stopped scheduler left open: closed (a dispatcher that collects them keeps its own)."""
        now = datetime.now(UTC)
        with self.sessions.begin() as session:
            left = open_runs(session)
            kept = self.keep_runs(left)
            closed = give_up(session, [run for run in left if run not in kept], timedelta(0), now,
                             why="left by a stopped scheduler")
        if kept:
            logger.info("took over %d crawl runs a stopped scheduler left open", len(kept))
            self.due.crawling(kept.values())
        if closed:
            logger.info("closed %d crawl runs a stopped scheduler left open", len(closed))

    def keep_runs(self, left: dict[int, str]) -> dict[int, str]:
        """Of the runs left open (id -> source), those this dispatcher collects as its own."""
        return {}

    def periodic(self) -> list[Periodic]:
        return []

    @abstractmethod
    def run(self) -> None:
        """Hand due sources on until the service stops (in its own thread)."""

    @abstractmethod
    def describe(self) -> str:
        """The service's first log line, for this strategy."""

    def busy(self) -> int:
        """Crawl processes of this service in flight."""
        return 0

    def finish(self, grace: float) -> None:
        """Stopping: let crawls in flight finish within ``grace`` seconds, then stop them."""

    def kill(self) -> None:
        """At once, no grace (a second signal)."""


class LocalDispatcher(Dispatcher):
    """``--role all``: batches of due sources crawled by child processes, at most ``service.processes`` at once."""

    def __init__(self, crawling: Crawling, command: list[str]) -> None:
        super().__init__(crawling)
        self.command = command
        self._processes: set[CrawlProcess] = set()
        self._threads: list[threading.Thread] = []

    def describe(self) -> str:
        return (f"newsmon run: {len(self.sources)} sources, up to {self.settings.processes} crawl processes of "
                f"{self.settings.batch_size} sources, delivery every {self.settings.deliver_every.total_seconds():g}s")

    def busy(self) -> int:
        return len(self._processes)

    def run(self) -> None:
        limit = self.settings.crawl_time_limit.total_seconds()
        due, settings = self.due, self.settings
        while True:
            if not due.wait(lambda: len(self._processes) < settings.processes):
                return
            # Sources falling due together (at start, or after a pause) fire a moment apart: gather them into one
            # batch rather than starting a process for the first one alone.
            gather_until = time.monotonic() + GATHER
            while due.due < settings.batch_size and (left := gather_until - time.monotonic()) > 0:
                with due.changed:
                    due.changed.wait(left)
                if due.stopping.is_set():
                    return
            # Spread what is due over the free process slots, up to batch_size each.
            free = max(1, settings.processes - len(self._processes))
            names = due.take(min(settings.batch_size, -(-due.due // free)))
            if not names:
                continue
            process = CrawlProcess(self.command, names, limit)
            self._processes.add(process)
            thread = threading.Thread(target=self._run_batch, args=(process,), name="batch", daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def finish(self, grace: float) -> None:
        with self.due.changed:
            self.due.changed.wait_for(lambda: not self._processes, timeout=grace)
            left = list(self._processes)
        if left:
            names = [name for process in left for name in process.names]
            logger.warning("stop grace over: stopping %d crawl processes (%s%s)", len(left), ", ".join(names[:10]),
                           f" and {len(names) - 10} more" if len(names) > 10 else "")
            for process in left:
                process.stop()
        for thread in list(self._threads):
            thread.join()

    def kill(self) -> None:
        for process in list(self._processes):
            process.kill()

    def _run_batch(self, process: CrawlProcess) -> None:
        try:
            self._record(process.names, process.run())
        except SQLAlchemyError as exc:  # the sources fall due again at their next interval
            self.writes.failed("crawl records", exc)
            logger.warning("could not record the crawl of %s: %s", ", ".join(process.names), database_error(exc))
        except Exception:  # the thread's boundary: the sources fall due again at their next interval
            logger.exception("recording the crawl of %s failed", ", ".join(process.names))
        else:
            self.writes.succeeded("crawl records")
        finally:
            self._processes.discard(process)
            self.due.done(process.names)

    def _record(self, names: list[str], result: BatchResult) -> None:
        now = datetime.now(UTC)
        if result.killed:
            self.planner.metrics.killed.inc()
        missing = [name for name in names if name not in result.outcomes]
        if missing and result.abandoned:
            logger.info("abandoned the crawl of %s (stopping)", ", ".join(missing))
            missing = []
        for name in missing:
            result.outcomes[name] = CrawlFigures(source=name, status="failed", error=result.problem,
                                                 seconds=result.seconds)
        reported = [name for name in names if name in result.outcomes]
        with self.sessions.begin() as session:
            ids = sync_sources(session, [self.sources[name] for name in reported], now)
            for name in missing:
                started = now - timedelta(seconds=result.seconds)
                record_crawl_run(session, ids[name], SourceTally(name, started, now, error=result.problem))
            self.planner.plan(session, {name: result.outcomes[name] for name in reported}, now)
