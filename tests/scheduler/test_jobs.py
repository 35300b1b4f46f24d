"""The service's job listener, on a real APScheduler: a job that raises is logged in one line and counted."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import generate_latest
from sqlalchemy.engine import Engine

from db.session import session_factory
from scheduler.http import ServiceMetrics
from scheduler.jobs import JobErrors


def test_a_job_that_raises_is_logged_in_one_line_and_counted(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    metrics = ServiceMetrics(session_factory(engine), dict)
    scheduler = BackgroundScheduler(timezone=UTC)
    heard = threading.Event()
    listener = JobErrors(metrics)
    scheduler.add_listener(lambda event: (listener(event), heard.set()), JobErrors.MASK)

    def broken() -> None:
        raise RuntimeError("the disk\nis on fire")

    scheduler.add_job(broken, id="deliver", next_run_time=datetime.now(UTC))
    with caplog.at_level(logging.ERROR, logger="scheduler.jobs"):
        scheduler.start()
        try:
            assert heard.wait(30)
        finally:
            scheduler.shutdown()
    assert [record.getMessage() for record in caplog.records if record.name == "scheduler.jobs"] == [
        "job deliver failed: RuntimeError: the disk is on fire"]
    assert b'newsmon_job_errors_total{job="deliver",kind="raised"} 1.0' in generate_latest(metrics.registry)
