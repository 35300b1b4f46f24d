"""``--role scheduler``: every due source becomes a crawl run in the database and a job in Redis for the
`--role worker`s; the runs they finish (or that run out of time) are collected and planned like crawls."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import redis
from sqlalchemy.exc import SQLAlchemyError

from crawler.sharedqueue import job, redis_address, sources_key
from db.runs import finished_runs, give_up, open_run
from db.session import database_error
from db.sources import sync_sources
from newsmon.errors import one_line
from scheduler.dispatch import Crawling, Dispatcher, Periodic

logger = logging.getLogger(__name__)

COLLECT_EVERY = 1.0  # seconds between two looks at the workers' runs


class RedisDispatcher(Dispatcher):
    def __init__(self, crawling: Crawling, queue: redis.Redis, redis_url: str, prefix: str) -> None:
        super().__init__(crawling)
        self.queue = queue
        self.redis_url = redis_url
        self.key = sources_key(prefix)
        self._runs: dict[int, str] = {}  # open runs: run id -> source
        self._lock = threading.Lock()

    def describe(self) -> str:
        return (f"newsmon run --role scheduler: {len(self.sources)} sources queued for the workers at Redis "
                f"{redis_address(self.redis_url)}, delivery every {self.settings.deliver_every.total_seconds():g}s")

    def keep_runs(self, left: dict[int, str]) -> dict[int, str]:
        """The runs a stopped scheduler left are collected as ours (the workers may still be on them; queued
        again now, a source would run twice at once), given up after service.crawl_time_limit as usual; those
        of sources no longer configured are closed."""
        kept = {run: name for run, name in left.items() if name in self.sources}
        with self._lock:
            self._runs.update(kept)
        return kept

    def periodic(self) -> list[Periodic]:
        return [Periodic(self.collect, COLLECT_EVERY, "collect", "collect the workers' finished runs")]

    def run(self) -> None:
        while self.due.wait(lambda: True):
            names = self.due.take(len(self.sources))
            if names:
                self._queue(names)

    def _queue(self, names: list[str]) -> None:
        now = datetime.now(UTC)
        try:
            with self.sessions.begin() as session:
                ids = sync_sources(session, [self.sources[name] for name in names], now)
                runs = {open_run(session, ids[name], now): name for name in names}
        except SQLAlchemyError as exc:
            self.writes.failed("crawl records", exc)
            logger.warning("could not open crawl runs for %d sources (they fall due again): %s", len(names),
                           database_error(exc))
            self.due.done(names)
            return
        try:  # after the commit: a worker quick to take a job must find its run
            self.queue.rpush(self.key, *(job(name, run) for run, name in runs.items()))
        except redis.RedisError as exc:
            logger.warning("could not queue %d sources in Redis (recorded as failed crawls): %s", len(names),
                           one_line(exc))
            # Closed at once, and planned like a failed crawl by the collector.
            try:
                with self.sessions.begin() as session:
                    give_up(session, list(runs), timedelta(0), datetime.now(UTC), why="could not be queued in Redis")
            except SQLAlchemyError as db_exc:  # then the collector gives them up after crawl_time_limit
                logger.warning("could not close the runs that were not queued: %s", database_error(db_exc))
        else:
            logger.debug("queued %d sources for the workers", len(names))
        with self._lock:
            self._runs.update(runs)

    def collect(self) -> None:
        """The runs the workers finished, or that ran out of time, planned like crawls."""
        with self._lock:
            watched = list(self._runs)
        if not watched:
            return
        now = datetime.now(UTC)
        try:
            with self.sessions.begin() as session:
                given_up = give_up(session, watched, self.settings.crawl_time_limit, now)
                finished = finished_runs(session, watched)
                outcomes = {figures.source: figures for figures in finished.values()}
                if outcomes:
                    self.planner.plan(session, outcomes, now)
        except SQLAlchemyError as exc:  # the job's boundary: the next run collects them
            self.writes.failed("crawl records", exc)
            logger.warning("could not collect the workers' crawl runs: %s", database_error(exc))
            return
        self.writes.succeeded("crawl records")
        if given_up:
            logger.info("gave up %d crawl runs not finished within service.crawl_time_limit", len(given_up))
        with self._lock:
            for run_id in finished:
                self._runs.pop(run_id, None)
        self.due.done(figures.source for figures in finished.values())

    def close(self) -> None:
        self.queue.close()
