"""The service's own periodic jobs, as plain functions: match and deliver, renew the scheduler lock; and the
APScheduler listener that logs and counts a job that raised or missed its time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from alerts.delivery import Deliverer, DeliveryReport
from alerts.outbox import AlertPlan, match_unmatched
from db.session import database_error
from scheduler.http import ServiceMetrics
from scheduler.lock import DatabaseLock, LockLost
from scheduler.writes import FailingWrites

logger = logging.getLogger(__name__)

DELIVERY_DEADLINE = 60.0  # seconds one delivery run may start new sends


def match_and_deliver(
    sessions: sessionmaker[Session], plan: AlertPlan, deliverer: Deliverer, lock: DatabaseLock,
    writes: FailingWrites, metrics: ServiceMetrics,
) -> DeliveryReport:
    """Match the stories stored since the last run, then send what is due (only record what was already sent
    while the scheduler lock has lapsed: a successor may hold it and be sending)."""
    try:
        match_unmatched(sessions, plan, datetime.now(UTC))
    except SQLAlchemyError as exc:  # the job boundary: the next run tries again, the stories keep their place
        writes.failed("matching", exc)
        logger.warning("matching new stories failed (the next delivery run tries again): %s", database_error(exc))
    else:
        writes.succeeded("matching")
    if lock.holds(datetime.now(UTC)):
        report = deliverer.deliver(deadline=DELIVERY_DEADLINE)
    else:
        report = DeliveryReport()
        deliverer.flush(report)
    if report.write_error:
        writes.failed("delivery", report.write_error)
    elif not deliverer.unrecorded:
        writes.succeeded("delivery")
    metrics.unrecorded.set(deliverer.unrecorded)
    metrics.delivery_runs.inc()
    return report


def renew_lock(lock: DatabaseLock, writes: FailingWrites, on_lost: Callable[[str], None]) -> None:
    """Renew the scheduler lock. A database that refuses the write (a full disk) refuses it to any successor
    too, so that is not fatal: renewal is tried again at the next beat; ``on_lost`` when it was taken over."""
    now = datetime.now(UTC)
    try:
        lock.renew(now)
    except LockLost as exc:
        on_lost(str(exc))
    except SQLAlchemyError as exc:
        writes.failed("scheduler lock", exc)
        logger.warning("could not renew the scheduler lock (%s; retrying every %gs): %s",
                       "it still holds" if lock.holds(now) else "it has lapsed, no alerts are sent until it is renewed",
                       lock.lease.total_seconds() / 4, database_error(exc))
    else:
        writes.succeeded("scheduler lock")


class JobErrors:
    """APScheduler's listener for a job that raised or missed its time: one line in the log, a count in
    /metrics (``newsmon_job_errors_total{job}``). Jobs catch what they expect; this is for what they did not."""

    MASK = EVENT_JOB_ERROR | EVENT_JOB_MISSED

    def __init__(self, metrics: ServiceMetrics) -> None:
        self.metrics = metrics

    def __call__(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            self.metrics.job_errors.labels(event.job_id, "missed").inc()
            logger.warning("job %s missed its time (%s): the machine or the service was too busy", event.job_id,
                           event.scheduled_run_time)
            return
        self.metrics.job_errors.labels(event.job_id, "raised").inc()
        logger.error("job %s failed: %s: %s", event.job_id, type(event.exception).__name__,
                     " ".join(str(event.exception).split())[:300])
