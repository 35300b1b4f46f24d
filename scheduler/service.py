"""``newsmon run``: the long-running service that polls every source on time and delivers the outbox.

Threads, each with one job:
- APScheduler (3.x, in-memory jobs rebuilt from the config at every start) fires one job per source at its
  interval with jitter; the job only marks the source due (``scheduler.due``), so it never runs late behind
  a crawl.
- A dispatcher (``scheduler.dispatch``) hands due sources on: to crawl processes of its own (``--role all``),
  or as jobs in Redis for the workers (``--role scheduler``, ``scheduler.redis_dispatch``). Either way each
  crawl's outcome is planned by ``scheduler.planning``: health, next poll, notices for the health channel.
- The delivery job matches new stories and sends the outbox every ``service.deliver_every`` in its own
  executor, so a slow channel never holds up a crawl; the heartbeat job renews the database lock
  (``scheduler.jobs``). A job that raises anyway is logged and counted by a listener.
- The main thread waits for a signal: the first stops scheduling and lets in-flight crawls finish within
  ``service.stop_grace``; a second ends the process at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from alerts.delivery import Deliverer
from alerts.outbox import AlertPlan
from crawler.sharedqueue import connect_or_fail
from db.clusters import cluster_policy, place_unclustered
from db.session import database_error, open_database, session_factory
from newsmon.config import Config
from newsmon.errors import NewsmonError
from scheduler.batches import crawl_command
from scheduler.dispatch import Crawling, Dispatcher, LocalDispatcher
from scheduler.due import DueSources
from scheduler.http import ServiceMetrics, serve
from scheduler.jobs import JobErrors, match_and_deliver, renew_lock
from scheduler.lock import DatabaseLock
from scheduler.planning import PollPlanner
from scheduler.polling import NextPoll, jitter
from scheduler.redis_dispatch import RedisDispatcher
from scheduler.writes import FailingWrites

logger = logging.getLogger(__name__)


class Service:
    def __init__(
        self,
        config: Config,
        config_path: Path,
        verbosity: int = 0,
        log_format: str = "text",
        http: tuple[str, int] | None = None,
        role: str = "all",
    ) -> None:
        self.config = config
        self.role = role  # all: crawl processes of its own; scheduler: jobs in Redis for `--role worker`s
        self.settings = config.service
        self.sources = {source.name: source for source in config.sources}
        self.command = crawl_command(config_path, verbosity, log_format)
        self.http = http
        self.plan = AlertPlan.from_config(config)
        self.due = DueSources()
        self._signals = 0
        self._fatal: str | None = None
        self._last_delivery: datetime | None = None
        self.writes = FailingWrites()
        self.sessions: sessionmaker[Session] | None = None
        self.lock: DatabaseLock | None = None
        self.metrics: ServiceMetrics | None = None
        self.deliverer: Deliverer | None = None
        self.planner: PollPlanner | None = None
        self.dispatcher: Dispatcher | None = None
        self.scheduler: BackgroundScheduler | None = None

    # Life cycle --------------------------------------------------------------------------------------

    def run(self) -> None:
        """Run until a signal; raises LockHeld if another service schedules the database, NewsmonError on a
        fatal problem (the lock taken over)."""
        engine = open_database(self.config.database.url)
        sessions = session_factory(engine)
        self.lock = DatabaseLock(sessions)
        self.lock.acquire(datetime.now(UTC))
        # Delivery claims in the lock holder's name: a successor that takes the lock over knows them for dead.
        self.deliverer = Deliverer(sessions, self.config.channels, self.plan, claimant=self.lock.holder)
        if self.lock.predecessor:
            self.deliverer.dead_claimants.add(self.lock.predecessor)
        server: ThreadingHTTPServer | None = None
        try:
            self._install_signal_handlers()
            self.metrics = metrics = ServiceMetrics(sessions, lambda: dict(self.planner.health if self.planner else {}))
            self.writes.on_failure = lambda job: metrics.write_failures.labels(job).inc()
            if self.http:  # first: a port in use is a reason not to start at all
                server = self._serve(self.http, metrics)
            # Stories stored before clustering existed (an upgraded archive): placed once, before any crawl.
            placed = place_unclustered(sessions, cluster_policy(self.config))
            if placed:
                logger.info("placed %d stories stored before clustering into near-duplicate clusters", placed)
            self.planner = PollPlanner(self.sources, self.settings, metrics, self._reschedule)
            self.dispatcher = self._dispatcher(sessions, self.planner)
            self.dispatcher.take_over()
            self.scheduler = self._build_scheduler(self.planner.first_polls(sessions), sessions)
            self.sessions = sessions  # last: what is set up is ready for anyone waiting on it (a bench)
            self.scheduler.start()
            threading.Thread(target=self.dispatcher.run, name="dispatcher", daemon=True).start()
            logger.info("%s", self.dispatcher.describe())
            while not self.due.stopping.wait(1.0):
                pass
            self._shut_down()
        finally:
            if server is not None:
                server.shutdown()
            if isinstance(self.dispatcher, RedisDispatcher):
                self.dispatcher.close()
            try:
                self.lock.release()
            except SQLAlchemyError as exc:
                logger.warning("could not release the scheduler lock (it runs out by itself): %s",
                               database_error(exc))
            engine.dispose()
        if self._fatal:
            raise NewsmonError(self._fatal)
        logger.info("newsmon run stopped")

    def stop(self, reason: str = "asked to stop") -> None:
        if not self.due.stopping.is_set():
            busy = self.dispatcher.busy() if self.dispatcher else 0
            if busy:
                logger.info("%s: no new crawls; waiting up to %gs for %d in flight (signal again to exit at once)",
                            reason, self.settings.stop_grace.total_seconds(), busy)
            else:
                logger.info("%s: stopping", reason)
        self.due.stop()

    def poll_now(self, names: list[str] | None = None) -> None:
        """Mark sources (all when None) due at once, whatever their schedule says."""
        for name in names if names is not None else list(self.sources):
            self.due.mark(name)

    def _dispatcher(self, sessions: sessionmaker[Session], planner: PollPlanner) -> Dispatcher:
        crawling = Crawling(self.due, sessions, self.sources, self.settings, planner, self.writes)
        if self.role == "scheduler":
            assert self.config.redis.url is not None
            queue = connect_or_fail(self.config.redis.url)
            return RedisDispatcher(crawling, queue, self.config.redis.url, self.config.redis.prefix)
        return LocalDispatcher(crawling, self.command)

    def _serve(self, address: tuple[str, int], metrics: ServiceMetrics) -> ThreadingHTTPServer:
        try:
            server = serve(address, metrics, self.health)
        except OSError as exc:
            raise NewsmonError(f"cannot serve --http on {address[0]}:{address[1]}: {exc.strerror or exc}; "
                               "choose another address") from None
        logger.info("serving /healthz and /metrics on http://%s:%d", *server.server_address[:2])
        return server

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # tests may run the service in a thread; they call stop() themselves

        def on_signal(signum: int, _frame: object) -> None:
            self._signals += 1
            if self._signals == 1:
                self.stop(signal.Signals(signum).name)
                return
            busy = self.dispatcher.busy() if self.dispatcher else 0
            logger.warning("%s again: killing %d crawl processes and exiting now", signal.Signals(signum).name, busy)
            if self.dispatcher is not None:
                self.dispatcher.kill()
            os._exit(128 + signum)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def _shut_down(self) -> None:
        assert self.scheduler is not None and self.dispatcher is not None
        self.scheduler.pause()  # no job fires from now on; a delivery run in progress goes on
        grace = self.settings.stop_grace.total_seconds()
        deadline = time.monotonic() + grace
        self.dispatcher.finish(grace)
        closer = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, daemon=True)
        closer.start()
        closer.join(timeout=max(1.0, deadline - time.monotonic()))
        if closer.is_alive():
            logger.warning("a delivery run is still sending; what it had claimed is taken back at the next start")

    def _fail(self, message: str) -> None:
        self._fatal = message
        logger.error("%s; stopping", message)
        self.stop("lock lost")

    # Scheduling ----------------------------------------------------------------------------------------

    def _build_scheduler(self, first_polls: dict[str, tuple[datetime, float]],
                         sessions: sessionmaker[Session]) -> BackgroundScheduler:
        assert self.lock is not None and self.deliverer is not None and self.metrics is not None
        assert self.dispatcher is not None
        scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(4), "delivery": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        scheduler.add_listener(JobErrors(self.metrics), JobErrors.MASK)
        for name, (at, interval) in first_polls.items():
            scheduler.add_job(
                self.due.mark, self._trigger(interval, at), args=[name], id=_job_id(name), name=f"poll {name}",
                next_run_time=at, misfire_grace_time=max(int(interval), 60), replace_existing=True,
            )
        deliver_every = self.settings.deliver_every.total_seconds()
        scheduler.add_job(
            self._deliver, IntervalTrigger(seconds=deliver_every), args=[sessions], id="deliver",
            name="deliver the outbox", executor="delivery", next_run_time=datetime.now(UTC),
            misfire_grace_time=max(int(deliver_every), 10),
        )
        for job in self.dispatcher.periodic():
            scheduler.add_job(job.function, IntervalTrigger(seconds=job.seconds), id=job.id, name=job.name,
                              misfire_grace_time=10)
        heartbeat = self.lock.lease.total_seconds() / 4
        scheduler.add_job(
            renew_lock, IntervalTrigger(seconds=heartbeat), args=[self.lock, self.writes, self._fail], id="heartbeat",
            name="renew the scheduler lock", misfire_grace_time=max(int(heartbeat), 5),
        )
        return scheduler

    def _deliver(self, sessions: sessionmaker[Session]) -> None:
        assert self.lock is not None and self.deliverer is not None and self.metrics is not None
        match_and_deliver(sessions, self.plan, self.deliverer, self.lock, self.writes, self.metrics)
        self._last_delivery = datetime.now(UTC)

    def _trigger(self, interval: float, start: datetime) -> IntervalTrigger:
        return IntervalTrigger(seconds=interval, start_date=start, jitter=jitter(interval, self.settings.jitter) or None,
                               timezone=UTC)

    def _reschedule(self, name: str, plan: NextPoll, now: datetime) -> None:
        assert self.scheduler is not None
        start = now + timedelta(seconds=plan.delay)
        try:
            self.scheduler.reschedule_job(_job_id(name), trigger=self._trigger(plan.interval, start))
        except (JobLookupError, SchedulerNotRunningError) as exc:  # stopping: the next start reads the database
            logger.debug("not rescheduled %s: %s", name, exc)

    # Health --------------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """What /healthz says: ok while scheduling with the lock held and the database taking every write."""
        now = datetime.now(UTC)
        lock_ok = self.lock is not None and self.lock.holds(now)
        stopping = self.due.stopping.is_set()
        running = self.scheduler is not None and self.scheduler.running and not stopping
        failing = self.writes.failing()
        if stopping:
            status = "stopping"
        elif self.scheduler is None:
            status = "starting"
        elif failing:
            job, reason = next(iter(failing.items()))
            status = f"database writes failing ({job}): {reason}"
        else:
            status = "ok" if lock_ok and running else "lock lost"
        states: dict[str, int] = {}
        for state in (self.planner.health if self.planner else {}).values():
            states[state] = states.get(state, 0) + 1
        return {
            "ok": bool(lock_ok and running and not failing),
            "status": status,
            "failing_writes": failing,
            "alerts_unrecorded": self.deliverer.unrecorded if self.deliverer else 0,
            "sources": states,
            "crawls_in_flight": self.due.in_flight,
            "sources_due": self.due.due,
            "last_delivery_run": self._last_delivery.isoformat() if self._last_delivery else None,
            "lock_expires_at": self.lock.expires_at.isoformat() if self.lock and self.lock.expires_at else None,
        }


def _job_id(name: str) -> str:
    return f"source:{name}"
