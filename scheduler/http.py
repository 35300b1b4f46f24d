"""``newsmon run --http HOST:PORT``: ``/healthz`` for orchestrators and Prometheus ``/metrics``.

Counts that outlive the process (stories stored, alerts by status) are read from the database when scraped,
so they survive restarts and agree with every worker; what only the service knows (crawl durations, crawls
by status, source states) lives in its own registry.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from db.models import OutboxMessage, Story

logger = logging.getLogger(__name__)

# The *_created series (when each counter was made) double the output and answer no question we have.
disable_created_metrics()

SOURCE_STATES = ("ok", "failing", "articles failing", "silent", "never crawled")
ALERT_STATES = ("pending", "sending", "sent", "failed")


class ServiceMetrics:
    def __init__(self, sessions: sessionmaker[Session], source_states: Callable[[], dict[str, str]]) -> None:
        self.registry = CollectorRegistry()
        self.crawl_seconds = Histogram(
            "newsmon_crawl_duration_seconds",
            "Seconds from the start of a source's crawl process until the source was done (listing and articles).",
            buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800), registry=self.registry,
        )
        self.crawls = Counter("newsmon_crawls", "Source crawls by outcome.", ["status"], registry=self.registry)
        self.killed = Counter(
            "newsmon_crawl_processes_killed", "Crawl processes stopped at the time limit.", registry=self.registry
        )
        self.delivery_runs = Counter("newsmon_delivery_runs", "Runs of the outbox delivery job.", registry=self.registry)
        self.write_failures = Counter(
            "newsmon_database_write_failures", "Writes the database refused (a full disk, a lost connection), by job.",
            ["job"], registry=self.registry,
        )
        self.job_errors = Counter(
            "newsmon_job_errors", "Scheduled jobs that raised or missed their time.", ["job", "kind"],
            registry=self.registry,
        )
        self.unrecorded = Gauge(
            "newsmon_alerts_unrecorded",
            "Alerts sent (or tried) whose outcome the database has not taken yet; held in memory, none is sent again.",
            registry=self.registry,
        )
        self.registry.register(_ArchiveCollector(sessions, source_states))


class _ArchiveCollector(Collector):
    def __init__(self, sessions: sessionmaker[Session], source_states: Callable[[], dict[str, str]]) -> None:
        self.sessions = sessions
        self.source_states = source_states

    def collect(self) -> Iterator[Metric]:
        states = GaugeMetricFamily("newsmon_sources", "Sources by health status.", labels=["status"])
        counts = dict.fromkeys(SOURCE_STATES, 0)
        for status in self.source_states().values():
            counts[status] = counts.get(status, 0) + 1
        for status, count in counts.items():
            states.add_metric([status], count)
        yield states
        up = GaugeMetricFamily("newsmon_database_up", "1 when the archive answered this scrape.")
        try:
            with self.sessions() as session:
                stories = session.scalar(select(func.count()).select_from(Story)) or 0
                by_status = dict(
                    session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
                )
        except SQLAlchemyError as exc:  # a scrape must answer even when the database does not
            logger.warning("metrics: the database did not answer: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("newsmon_stories_stored", "Stories in the archive.", value=stories)
        alerts = GaugeMetricFamily("newsmon_alerts", "Outbox messages (alerts and notices) by status.",
                                   labels=["status"])
        for status in ALERT_STATES:
            alerts.add_metric([status], by_status.get(status, 0))
        yield alerts


def serve(address: tuple[str, int], metrics: ServiceMetrics, health: Callable[[], dict[str, Any]]) -> ThreadingHTTPServer:
    """Start the server in a daemon thread; ``server.shutdown()`` stops it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._reply(200, CONTENT_TYPE_LATEST, generate_latest(metrics.registry))
            elif path == "/healthz":
                report = health()
                body = json.dumps(report, default=str).encode()
                self._reply(200 if report["ok"] else 503, "application/json", body)
            else:
                self._reply(404, "text/plain; charset=utf-8", b"not found: try /healthz or /metrics\n")

        def _reply(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # scrapes every 15 s are not news
            logger.debug("http: " + format, *args)

    server = ThreadingHTTPServer(address, Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    return server
