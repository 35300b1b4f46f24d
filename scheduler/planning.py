"""After crawls, whichever dispatcher ran them: each source's health, its next poll, the metrics, the health
channel's notices; and at start, where the last run left each source's schedule."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.health import source_health
from db.models import Source
from db.records import CrawlFigures
from db.sources import sync_sources
from newsmon.config import ServiceConfig, SourceConfig
from scheduler.health_notices import announce_changes
from scheduler.http import ServiceMetrics
from scheduler.polling import NextPoll, next_poll

logger = logging.getLogger(__name__)

FAILING_AFTER = 3  # failed crawls in a row before the health channel hears of it


class PollPlanner:
    def __init__(
        self,
        sources: dict[str, SourceConfig],
        settings: ServiceConfig,
        metrics: ServiceMetrics,
        reschedule: Callable[[str, NextPoll, datetime], None],
    ) -> None:
        self.sources = sources
        self.settings = settings
        self.metrics = metrics
        self.reschedule = reschedule
        self.health: dict[str, str] = {}  # source -> its status after its latest crawl

    def first_polls(self, sessions: sessionmaker[Session]) -> dict[str, tuple[datetime, float]]:
        """Each source's first poll and interval: where the last run left them (due now if never polled)."""
        now = datetime.now(UTC)
        with sessions.begin() as session:
            sync_sources(session, list(self.sources.values()), now)
            rows = {s.name: s for s in session.scalars(select(Source).where(Source.name.in_(list(self.sources))))}
            healths = source_health(session, list(self.sources), now)
        self.health = {h.name: h.status for h in healths}
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

    def plan(self, session: Session, outcomes: dict[str, CrawlFigures], now: datetime) -> None:
        """After crawls recorded as runs: each source's health, next poll, metrics and health notices."""
        reported = list(outcomes)
        rows = {s.name: s for s in session.scalars(select(Source).where(Source.name.in_(reported)))}
        healths = source_health(session, reported, now)
        for health in healths:
            outcome, row = outcomes[health.name], rows[health.name]
            source = self.sources[health.name]
            plan = next_poll(source, row.poll_every, outcome, health.consecutive_failures,
                             first_crawl=row.poll_every is None, adaptive=self.settings.adaptive)
            row.poll_every, row.next_poll_at = plan.interval, now + timedelta(seconds=plan.delay)
            self.reschedule(health.name, plan, now)
            self.health[health.name] = health.status
            self.metrics.crawls.labels(outcome.status).inc()
            if outcome.seconds is not None:
                self.metrics.crawl_seconds.observe(outcome.seconds)
            logger.info("%s", _crawl_line(outcome, plan, health.consecutive_failures))
        urls = {name: self.sources[name].url for name in reported}
        announce_changes(session, healths, urls, self.settings.health_channel, FAILING_AFTER, now)


def _crawl_line(outcome: CrawlFigures, plan: NextPoll, failures: int) -> str:
    took = f" in {outcome.seconds:.1f}s" if outcome.seconds is not None else ""
    nxt = f"next in {_human(plan.delay)}"
    if outcome.status == "failed":
        return f"crawl {outcome.source}: failed ({failures} in a row){took}: {outcome.error}; {nxt}"
    return (f"crawl {outcome.source}: {outcome.status}, {outcome.links} links, {outcome.new} new, "
            f"{outcome.duplicate} duplicate, {outcome.failed} failed{took}; {nxt}")


def _human(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 60:.1f}m" if seconds >= 120 else f"{seconds:.0f}s"
