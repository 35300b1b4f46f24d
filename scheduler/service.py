"""``newsmon run``: the long-running service that polls every source on time and delivers the outbox.

Threads, each with one job:
- APScheduler (3.x, in-memory jobs rebuilt from the config at every start) fires one job per source at its
  interval with jitter; the job only marks the source due, so it never runs late behind a crawl.
- The dispatcher takes due sources in batches and hands each batch to a crawl process (``scheduler.batches``),
  at most ``service.processes`` at a time; a thread per batch waits for it and then records the outcome:
  health, the next poll (``scheduler.polling``), notices for the health channel.
- The delivery job sends the outbox every ``service.deliver_every`` in its own executor, so a slow channel
  never holds up a crawl; the heartbeat job renews the database lock.
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
from pathlib import Path
from typing import Any

import redis
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from alerts.delivery import Deliverer, DeliveryReport
from alerts.outbox import AlertPlan, match_unmatched
from crawler.report import SourceTally, one_line
from crawler.sharedqueue import connect_or_fail, job, redis_address, sources_key
from db.clusters import cluster_policy, place_unclustered
from db.health import source_health
from db.models import Source
from db.queries import record_crawl_run, sync_sources
from db.runs import finished_runs, give_up, open_run, open_runs
from db.session import database_error, open_database, session_factory
from newsmon.config import Config
from newsmon.errors import NewsmonError
from scheduler.batches import BatchResult, CrawlProcess, crawl_command
from scheduler.health_notices import announce_changes
from scheduler.http import ServiceMetrics, serve
from scheduler.lock import DatabaseLock, LockLost
from scheduler.polling import CrawlOutcome, NextPoll, jitter, next_poll

logger = logging.getLogger(__name__)

FAILING_AFTER = 3  # failed crawls in a row before the health channel hears of it
DELIVERY_DEADLINE = 60.0  # seconds one delivery run may start new sends
GATHER = 0.5  # seconds the dispatcher waits for more due sources before starting a batch
COLLECT_EVERY = 1.0  # seconds between two looks at the workers' runs (scheduler role)


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
        self._cond = threading.Condition()
        self._due: dict[str, None] = {}  # sources waiting for a crawl process, in the order they fell due
        self._in_flight: set[str] = set()
        self._processes: set[CrawlProcess] = set()
        self._batch_threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._signals = 0
        self._fatal: str | None = None
        self._health: dict[str, str] = {}
        self._last_delivery: datetime | None = None
        self._failing_writes: dict[str, str] = {}  # job -> why the database refused its latest write
        self.deliverer: Deliverer | None = None
        self.scheduler: BackgroundScheduler | None = None
        self.sessions: sessionmaker[Session] | None = None
        self.lock: DatabaseLock | None = None
        self.metrics: ServiceMetrics | None = None
        self.queue: redis.Redis | None = None  # the scheduler role's Redis
        self._runs: dict[int, str] = {}  # the scheduler role's open runs: run id -> source

    # Life cycle --------------------------------------------------------------------------------------

    def run(self) -> None:
        """Run until a signal; raises LockHeld if another service schedules the database, NewsmonError on a
        fatal problem (the lock taken over)."""
        engine = open_database(self.config.database.url)
        self.sessions = sessions = session_factory(engine)
        self.lock = DatabaseLock(sessions)
        self.lock.acquire(datetime.now(UTC))
        # Delivery claims in the lock holder's name: a successor that takes the lock over knows them for dead.
        self.deliverer = Deliverer(sessions, self.config.channels, self.plan, claimant=self.lock.holder)
        if self.lock.predecessor:
            self.deliverer.dead_claimants.add(self.lock.predecessor)
        server = None
        try:
            self._install_signal_handlers()
            self.metrics = ServiceMetrics(sessions, lambda: dict(self._health))
            if self.http:  # first: a port in use is a reason not to start at all
                try:
                    server = serve(self.http, self.metrics, self.health)
                except OSError as exc:
                    raise NewsmonError(f"cannot serve --http on {self.http[0]}:{self.http[1]}: {exc.strerror or exc}; "
                                       "choose another address") from None
                logger.info("serving /healthz and /metrics on http://%s:%d", *server.server_address[:2])
            # Stories stored before clustering existed (an upgraded archive): placed once, before any crawl.
            placed = place_unclustered(sessions, cluster_policy(self.config))
            if placed:
                logger.info("placed %d stories stored before clustering into near-duplicate clusters", placed)
            if self.role == "scheduler":
                self.queue = connect_or_fail(self.config.redis.url)
            self._take_over_runs(sessions)
            first_polls = self._load_state(sessions)
            self.scheduler = self._build_scheduler(first_polls)
            self.scheduler.start()
            target = self._dispatch_to_workers if self.role == "scheduler" else self._dispatch
            dispatcher = threading.Thread(target=target, name="dispatcher", daemon=True)
            dispatcher.start()
            if self.role == "scheduler":
                assert self.config.redis.url is not None
                logger.info("newsmon run --role scheduler: %d sources queued for the workers at Redis %s, "
                            "delivery every %gs", len(self.sources), redis_address(self.config.redis.url),
                            self.settings.deliver_every.total_seconds())
            else:
                logger.info(
                    "newsmon run: %d sources, up to %d crawl processes of %d sources, delivery every %gs",
                    len(self.sources), self.settings.processes, self.settings.batch_size,
                    self.settings.deliver_every.total_seconds(),
                )
            while not self._stopping.wait(1.0):
                pass
            self._shut_down()
        finally:
            if server is not None:
                server.shutdown()
            if self.queue is not None:
                self.queue.close()
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
        if not self._stopping.is_set() and self._processes:
            logger.info("%s: no new crawls; waiting up to %gs for %d in flight (signal again to exit at once)",
                        reason, self.settings.stop_grace.total_seconds(), len(self._processes))
        elif not self._stopping.is_set():
            logger.info("%s: stopping", reason)
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()

    def poll_now(self, names: list[str] | None = None) -> None:
        """Mark sources (all when None) due at once, whatever their schedule says."""
        for name in names if names is not None else list(self.sources):
            self._mark_due(name)

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # tests may run the service in a thread; they call stop() themselves

        def on_signal(signum: int, _frame: object) -> None:
            self._signals += 1
            if self._signals == 1:
                self.stop(signal.Signals(signum).name)
                return
            logger.warning("%s again: killing %d crawl processes and exiting now",
                           signal.Signals(signum).name, len(self._processes))
            for process in list(self._processes):
                process.kill()
            os._exit(128 + signum)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def _shut_down(self) -> None:
        assert self.scheduler is not None
        self.scheduler.pause()  # no job fires from now on; a delivery run in progress goes on
        deadline = time.monotonic() + self.settings.stop_grace.total_seconds()
        with self._cond:
            self._cond.wait_for(lambda: not self._processes, timeout=self.settings.stop_grace.total_seconds())
            left = list(self._processes)
        if left:
            names = [name for process in left for name in process.names]
            logger.warning("stop grace over: stopping %d crawl processes (%s%s)", len(left), ", ".join(names[:10]),
                           f" and {len(names) - 10} more" if len(names) > 10 else "")
            for process in left:
                process.stop()
        for thread in list(self._batch_threads):
            thread.join()
        closer = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, daemon=True)
        closer.start()
        closer.join(timeout=max(1.0, deadline - time.monotonic()))
        if closer.is_alive():
            logger.warning("a delivery run is still sending; its messages are sent again after their lease")

    # State ---------------------------------------------------------------------------------------------

    def _load_state(self, sessions: sessionmaker[Session]) -> dict[str, tuple[datetime, float]]:
        """Each source's first poll and interval: where the last run left them (due now if never polled)."""
        now = datetime.now(UTC)
        with sessions.begin() as session:
            sync_sources(session, list(self.sources.values()), now)
            rows = {s.name: s for s in session.scalars(select(Source).where(Source.name.in_(list(self.sources))))}
            healths = source_health(session, list(self.sources), now)
        self._health = {h.name: h.status for h in healths}
        first = {}
        for name, source in self.sources.items():
            row = rows[name]
            shortest, longest = (bound.total_seconds() for bound in source.poll_bounds)
            interval = source.every.total_seconds()
            if self.settings.adaptive and row.poll_every:
                interval = min(max(row.poll_every, shortest), longest)
            at = row.next_poll_at if row.next_poll_at and row.next_poll_at > now else now
            # A source polled more often since the last run (a shorter `every`) is not kept waiting.
            first[name] = (min(at, now + timedelta(seconds=interval)), interval)
        return first

    def _build_scheduler(self, first_polls: dict[str, tuple[datetime, float]]) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(4), "delivery": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        for name, (at, interval) in first_polls.items():
            scheduler.add_job(
                self._mark_due, self._trigger(interval, at), args=[name], id=_job_id(name), name=f"poll {name}",
                next_run_time=at, misfire_grace_time=max(int(interval), 60), replace_existing=True,
            )
        deliver_every = self.settings.deliver_every.total_seconds()
        scheduler.add_job(
            self._deliver, IntervalTrigger(seconds=deliver_every), id="deliver", name="deliver the outbox",
            executor="delivery", next_run_time=datetime.now(UTC), misfire_grace_time=max(int(deliver_every), 10),
        )
        if self.role == "scheduler":
            scheduler.add_job(self._collect_runs, IntervalTrigger(seconds=COLLECT_EVERY), id="collect",
                              name="collect the workers' finished runs", misfire_grace_time=10)
        assert self.lock is not None
        heartbeat = self.lock.lease.total_seconds() / 4
        scheduler.add_job(
            self._heartbeat, IntervalTrigger(seconds=heartbeat), id="heartbeat", name="renew the scheduler lock",
            misfire_grace_time=max(int(heartbeat), 5),
        )
        return scheduler

    def _trigger(self, interval: float, start: datetime) -> IntervalTrigger:
        return IntervalTrigger(seconds=interval, start_date=start, jitter=jitter(interval, self.settings.jitter) or None,
                               timezone=UTC)

    # Jobs ----------------------------------------------------------------------------------------------

    def _mark_due(self, name: str) -> None:
        with self._cond:
            if self._stopping.is_set() or name in self._in_flight or name in self._due:
                return
            self._due[name] = None
            self._cond.notify_all()

    def _heartbeat(self) -> None:
        assert self.lock is not None
        now = datetime.now(UTC)
        try:
            self.lock.renew(now)
        except LockLost as exc:
            self._fail(str(exc))
        except SQLAlchemyError as exc:
            # Not fatal: a database that refuses writes (a full disk) refuses them to any successor too. While
            # the lease has lapsed no alert is claimed; a renewal that finds the lock taken over stops us.
            self._write_failed("scheduler lock", exc)
            lapsed = self.lock.expires_at is not None and now >= self.lock.expires_at
            logger.warning("could not renew the scheduler lock (%s; retrying every %gs): %s",
                           "it has lapsed, no alerts are sent until it is renewed" if lapsed else "it still holds",
                           self.lock.lease.total_seconds() / 4, database_error(exc))
        else:
            self._write_ok("scheduler lock")

    def _write_failed(self, job: str, exc: BaseException | str) -> None:
        """The database refused a write of ``job``: /healthz says so until a write of that job succeeds."""
        reason = exc if isinstance(exc, str) else database_error(exc)
        self._failing_writes[job] = reason
        if self.metrics is not None:
            self.metrics.write_failures.labels(job).inc()

    def _write_ok(self, job: str) -> None:
        self._failing_writes.pop(job, None)

    def _lock_held(self) -> bool:
        expires = self.lock.expires_at if self.lock is not None else None
        return expires is not None and expires > datetime.now(UTC)

    def _fail(self, message: str) -> None:
        self._fatal = message
        logger.error("%s; stopping", message)
        self.stop("lock lost")

    def _deliver(self) -> None:
        assert self.sessions is not None and self.metrics is not None and self.deliverer is not None
        try:
            match_unmatched(self.sessions, self.plan, datetime.now(UTC))
        except SQLAlchemyError as exc:  # the job boundary: the next run tries again, the stories keep their place
            self._write_failed("matching", exc)
            logger.warning("matching new stories failed, next in %gs: %s",
                           self.settings.deliver_every.total_seconds(), database_error(exc))
        else:
            self._write_ok("matching")
        if self._lock_held():
            report = self.deliverer.deliver(deadline=DELIVERY_DEADLINE)
        else:  # a successor may hold the lock and be sending: only record what we already sent
            report = DeliveryReport()
            self.deliverer.flush(report)
        if report.write_error:
            self._write_failed("delivery", report.write_error)
        elif not self.deliverer.unrecorded:
            self._write_ok("delivery")
        self.metrics.unrecorded.set(self.deliverer.unrecorded)
        self._last_delivery = datetime.now(UTC)
        self.metrics.delivery_runs.inc()

    # Crawls --------------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        limit = self.settings.crawl_time_limit.total_seconds()
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: self._stopping.is_set() or (self._due and len(self._processes) < self.settings.processes)
                )
                # Sources falling due together (at start, or after a pause) fire a moment apart: gather them
                # into one batch rather than starting a process for the first one alone.
                gather_until = time.monotonic() + GATHER
                while len(self._due) < self.settings.batch_size and not self._stopping.is_set():
                    if (left := gather_until - time.monotonic()) <= 0:
                        break
                    self._cond.wait(left)
                if self._stopping.is_set():
                    return
                # Spread what is due over the free process slots, up to batch_size each.
                free = self.settings.processes - len(self._processes)
                size = min(self.settings.batch_size, -(-len(self._due) // free))
                names = list(self._due)[:size]
                for name in names:
                    del self._due[name]
                self._in_flight.update(names)
                process = CrawlProcess(self.command, names, limit)
                self._processes.add(process)
                thread = threading.Thread(target=self._run_batch, args=(process,), name="batch", daemon=True)
                self._batch_threads = [t for t in self._batch_threads if t.is_alive()] + [thread]
            thread.start()

    def _take_over_runs(self, sessions: sessionmaker[Session]) -> None:
        """Shared runs a previous scheduler left open. A scheduler collects them as its own (the workers may
        still be on them; queued again now, a source would run twice at once), giving them up after
        service.crawl_time_limit as usual; runs of sources no longer configured, and every one when this
        service crawls by itself (--role all: nobody would collect them), are closed now."""
        now = datetime.now(UTC)
        with sessions.begin() as session:
            left = open_runs(session)
            kept = {run: name for run, name in left.items() if self.role == "scheduler" and name in self.sources}
            closed = give_up(session, [run for run in left if run not in kept], timedelta(0), now,
                             why="left by a stopped scheduler")
        if kept:
            logger.info("took over %d crawl runs a stopped scheduler left open", len(kept))
            with self._cond:
                self._runs.update(kept)
                self._in_flight.update(kept.values())
        if closed:
            logger.info("closed %d crawl runs a stopped scheduler left open", len(closed))

    def _dispatch_to_workers(self) -> None:
        """The scheduler role: every due source becomes a run in the database and a job in Redis."""
        assert self.sessions is not None and self.queue is not None
        key = sources_key(self.config.redis.prefix)
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping.is_set() or bool(self._due))
                if self._stopping.is_set():
                    return
                names = list(self._due)
                self._due.clear()
                self._in_flight.update(names)
            now = datetime.now(UTC)
            try:
                with self.sessions.begin() as session:
                    ids = sync_sources(session, [self.sources[name] for name in names], now)
                    runs = {open_run(session, ids[name], now): name for name in names}
            except SQLAlchemyError as exc:
                self._write_failed("crawl records", exc)
                logger.warning("could not open crawl runs for %d sources (they fall due again): %s", len(names),
                               database_error(exc))
                with self._cond:
                    self._in_flight.difference_update(names)
                continue
            try:  # after the commit: a worker quick to take a job must find its run
                self.queue.rpush(key, *(job(name, run) for run, name in runs.items()))
            except redis.RedisError as exc:
                logger.warning("could not queue %d sources in Redis (recorded as failed crawls): %s", len(names),
                               one_line(exc))
                now = datetime.now(UTC)
                # Closed at once, and planned like a failed crawl by the collector.
                try:
                    with self.sessions.begin() as session:
                        give_up(session, list(runs), timedelta(0), now, why="could not be queued in Redis")
                except SQLAlchemyError as db_exc:  # then the collector gives them up after crawl_time_limit
                    logger.warning("could not close the runs that were not queued: %s", database_error(db_exc))
            else:
                logger.debug("queued %d sources for the workers", len(names))
            with self._cond:
                self._runs.update(runs)

    def _collect_runs(self) -> None:
        """The scheduler role: the runs the workers finished, or that ran out of time, planned like crawls."""
        assert self.sessions is not None
        with self._cond:
            watched = list(self._runs)
        if not watched:
            return
        now = datetime.now(UTC)
        try:
            with self.sessions.begin() as session:
                given_up = give_up(session, watched, self.settings.crawl_time_limit, now)
                finished = finished_runs(session, watched)
                outcomes = {row["source"]: CrawlOutcome.from_row(row) for row in finished.values()}
                if outcomes:
                    self._plan_next_polls(session, outcomes, now)
        except SQLAlchemyError as exc:  # the job's boundary: the next run collects them
            self._write_failed("crawl records", exc)
            logger.warning("could not collect the workers' crawl runs: %s", database_error(exc))
            return
        self._write_ok("crawl records")
        if given_up:
            logger.info("gave up %d crawl runs not finished within service.crawl_time_limit", len(given_up))
        with self._cond:
            for run_id, row in finished.items():
                self._runs.pop(run_id, None)
                self._in_flight.discard(row["source"])
            self._cond.notify_all()

    def _run_batch(self, process: CrawlProcess) -> None:
        try:
            result = process.run()
            self._after_batch(process.names, result)
        except SQLAlchemyError as exc:  # the sources fall due again at their next interval
            self._write_failed("crawl records", exc)
            logger.warning("could not record the crawl of %s: %s", ", ".join(process.names), database_error(exc))
        except Exception:  # the thread's boundary: the sources fall due again at their next interval
            logger.exception("recording the crawl of %s failed", ", ".join(process.names))
        else:
            self._write_ok("crawl records")
        finally:
            with self._cond:
                self._processes.discard(process)
                self._in_flight.difference_update(process.names)
                self._cond.notify_all()

    def _after_batch(self, names: list[str], result: BatchResult) -> None:
        assert self.sessions is not None and self.metrics is not None
        now = datetime.now(UTC)
        if result.killed:
            self.metrics.killed.inc()
        missing = [name for name in names if name not in result.outcomes]
        if missing and result.abandoned:
            logger.info("abandoned the crawl of %s (stopping)", ", ".join(missing))
            missing = []
        for name in missing:
            result.outcomes[name] = CrawlOutcome(name=name, status="failed", error=result.problem,
                                                 seconds=result.seconds)
        reported = [name for name in names if name in result.outcomes]
        with self.sessions.begin() as session:
            ids = sync_sources(session, [self.sources[name] for name in reported], now)
            for name in missing:
                started = now - timedelta(seconds=result.seconds)
                record_crawl_run(session, ids[name], SourceTally(name, started, now, error=result.problem))
            self._plan_next_polls(session, {name: result.outcomes[name] for name in reported}, now)

    def _plan_next_polls(self, session: Session, outcomes: dict[str, CrawlOutcome], now: datetime) -> None:
        """After crawls recorded as runs: each source's health, next poll, metrics and health notices."""
        assert self.metrics is not None
        reported = list(outcomes)
        rows = {s.name: s for s in session.scalars(select(Source).where(Source.name.in_(reported)))}
        healths = source_health(session, reported, now)
        for health in healths:
            outcome, row = outcomes[health.name], rows[health.name]
            source = self.sources[health.name]
            plan = next_poll(source, row.poll_every, outcome, health.consecutive_failures,
                             first_crawl=row.poll_every is None, adaptive=self.settings.adaptive)
            row.poll_every, row.next_poll_at = plan.interval, now + timedelta(seconds=plan.delay)
            self._reschedule(health.name, plan, now)
            self._health[health.name] = health.status
            self.metrics.crawls.labels(outcome.status).inc()
            if outcome.seconds is not None:
                self.metrics.crawl_seconds.observe(outcome.seconds)
            logger.info("%s", _crawl_line(outcome, plan, health.consecutive_failures))
        urls = {name: self.sources[name].url for name in reported}
        announce_changes(session, healths, urls, self.settings.health_channel, FAILING_AFTER, now)

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
        lock_ok = self.lock is not None and self.lock.expires_at is not None and self.lock.expires_at > now
        running = self.scheduler is not None and self.scheduler.running and not self._stopping.is_set()
        states: dict[str, int] = {}
        for status in self._health.values():
            states[status] = states.get(status, 0) + 1
        failing = dict(self._failing_writes)
        if self._stopping.is_set():
            status = "stopping"
        elif self.scheduler is None:
            status = "starting"
        elif failing:
            job, reason = next(iter(failing.items()))
            status = f"database writes failing ({job}): {reason}"
        else:
            status = "ok" if lock_ok and running else "lock lost"
        return {
            "ok": bool(lock_ok and running and not failing),
            "status": status,
            "failing_writes": failing,
            "alerts_unrecorded": self.deliverer.unrecorded if self.deliverer else 0,
            "sources": states,
            "crawls_in_flight": len(self._in_flight),
            "sources_due": len(self._due),
            "last_delivery_run": self._last_delivery.isoformat() if self._last_delivery else None,
            "lock_expires_at": self.lock.expires_at.isoformat() if self.lock and self.lock.expires_at else None,
        }


def _job_id(name: str) -> str:
    return f"source:{name}"


def _crawl_line(outcome: CrawlOutcome, plan: NextPoll, failures: int) -> str:
    took = f" in {outcome.seconds:.1f}s" if outcome.seconds is not None else ""
    nxt = f"next in {_human(plan.delay)}"
    if outcome.status == "failed":
        return f"crawl {outcome.name}: failed ({failures} in a row){took}: {outcome.error}; {nxt}"
    return (f"crawl {outcome.name}: {outcome.status}, {outcome.links} links, {outcome.new} new, "
            f"{outcome.duplicate} duplicate, {outcome.failed} failed{took}; {nxt}")


def _human(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 60:.1f}m" if seconds >= 120 else f"{seconds:.0f}s"

