"""``newsmon run --role worker``: a crawl process that takes its work from the shared Redis queue and stores
into the shared database, for as long as it runs.

The NewsSpider does the crawling as in the single-machine mode; here it reads due sources from the
scheduler's jobs (scrapy-redis's RedisSpider), its requests go through scrapy-redis's shared queue, so any
worker fetches any page, and what each request came to is added to the source's shared run in the database
(db.runs) instead of a tally in this process.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import redis
from scrapy import Request, signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.http import Response
from scrapy_redis.spiders import RedisMixin
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from twisted.python.failure import Failure

from crawler.links import Link
from crawler.pipelines import prepare_archive
from crawler.report import CrawlReport
from crawler.settings import build_settings
from crawler.sharedqueue import connect_or_fail, read_job, redis_address, redis_settings
from crawler.spiders.news import NewsSpider
from db.clusters import cluster_policy
from db.records import Article, SourceTally
from db.runs import RunDelta, add_to_run, is_open
from db.session import database_error, open_database, session_factory, storage_errors
from db.sources import listing_validators
from newsmon.config import Config, SourceConfig
from newsmon.errors import one_line
from newsmon.logging import scrapy_level

logger = logging.getLogger(__name__)

RUN = "newsmon_run"  # request meta: the shared run a request belongs to
TAKE_JOBS_EVERY = 2.0  # seconds: a busy worker with a free download slot takes due sources this often


class _Tallies(dict[str, SourceTally]):
    """A tally per source, started on first use: a worker learns its sources from the jobs it takes."""

    def __missing__(self, name: str) -> SourceTally:
        tally = self[name] = SourceTally(name=name, started_at=datetime.now(UTC))
        return tally


class SharedReport(CrawlReport):
    """The spider's report, written through to the shared runs: each finished request adds what this worker
    did for its run since the last time (db.runs.add_to_run). A write that fails is kept and added with the
    next one. A source's tally is emptied in place after each write, never replaced: a callback that holds it
    across an await (an article's extraction) still counts into the tally that is written next."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        super().__init__(tallies=_Tallies())
        self.sessions = sessions
        self.runs: dict[str, int] = {}  # source -> the run its requests in hand belong to
        self.queued: dict[str, int] = {}  # per source, since the last write: requests queued...
        self.done: dict[str, int] = {}  # ...and requests finished
        # Sources of which the shared filter dropped an article not stored yet: the worker that fetches it may
        # die with it, so the run must not keep the listing's validators (a 304 would then hide it for good).
        self.unsure: set[str] = set()

    def bind(self, source: str, run: int | None) -> None:
        """The requests of ``source`` handled from now on belong to ``run`` (from the request's meta). The
        scheduler queues a source again only when its run is over, so one run at a time is the rule; the
        exception is a given-up run whose stale requests are still in flight when the next one starts: an
        article of the one finishing while another of the other is extracted may then be counted in the other
        run (a known limit on the figures, not on the stories: a run that ends early keeps its validators,
        and a failure added to a run already over drops them, see db.runs.add_to_run)."""
        if run is not None and self.runs.get(source) != run:
            if source in self.runs:
                self.flush(source)
            self.runs[source] = run

    def opened(self, source: str, count: int = 1) -> None:
        self.queued[source] = self.queued.get(source, 0) + count

    def closed(self, source: str) -> None:
        self.done[source] = self.done.get(source, 0) + 1
        self.flush(source)

    def dropped(self, source: str) -> None:
        """An article request of ``source`` that the shared filter dropped: another worker has it in hand."""
        self.tallies[source].known += 1
        self.unsure.add(source)
        self.closed(source)

    def flush(self, source: str) -> None:
        run = self.runs.get(source)
        if run is None:
            return
        tally = self.tallies[source]
        delta = RunDelta(
            queued=self.queued.get(source, 0), done=self.done.get(source, 0), links=tally.links, new=tally.new,
            duplicate=tally.duplicate, known=tally.known, failed=tally.failed, error=tally.error,
            problems=list(tally.problems), not_modified=tally.not_modified,
            validators=(None, None) if source in self.unsure
            else tally.validators if tally.validators != (None, None) else None,
            max_age=tally.max_age, retry_after=tally.retry_after,
        )
        if delta.empty():
            return
        try:
            with self.sessions.begin() as session:
                finished = add_to_run(session, run, delta, datetime.now(UTC))
        except SQLAlchemyError as exc:  # kept: added with the next request's
            logger.warning("could not add to the crawl run of %s (kept for the next write): %s", source,
                           database_error(exc))
            return
        _empty(tally)
        self.queued.pop(source, None)
        self.done.pop(source, None)
        self.unsure.discard(source)
        if finished:
            logger.info("crawl run %d of %s finished", run, source)

    def finish_all(self) -> None:
        for source in list(self.tallies):
            self.flush(source)


def _empty(tally: SourceTally) -> None:
    """Written: the tally starts again from nothing (the same object, see SharedReport), every field but its
    name and start back to SourceTally's default."""
    fresh = SourceTally(name=tally.name, started_at=tally.started_at)
    for field in fields(SourceTally):
        setattr(tally, field.name, getattr(fresh, field.name))


class SharedNewsSpider(RedisMixin, NewsSpider):
    """NewsSpider fed by the scheduler's jobs in Redis, its requests in the shared queue."""

    name = "news"

    def __init__(self, sources: list[SourceConfig], sessions: sessionmaker[Session], **kwargs: Any) -> None:
        super().__init__(sources=sources, report=SharedReport(sessions), **kwargs)
        self.sessions = sessions
        # The shared duplicate filter remembers what every worker fetched (in expiring keys); a set in this
        # long-running process would only grow.
        self.scheduled = _Forgetful()
        self._job_taker: Any = None  # a LoopingCall, made once the crawl has installed its reactor

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SharedNewsSpider:
        spider: SharedNewsSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup_redis(crawler)
        crawler.signals.connect(spider._dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider._start_taking_jobs, signal=signals.spider_opened)
        return spider

    def _start_taking_jobs(self, spider: Any) -> None:
        from twisted.internet.task import LoopingCall  # its clock is the reactor: made earlier, the wrong one

        self._job_taker = LoopingCall(self._take_jobs)
        self._job_taker.start(TAKE_JOBS_EVERY, now=False)

    def _take_jobs(self) -> None:
        """Due sources are taken when this worker has a download slot free, not only when it has nothing to do
        (scrapy-redis's way): on a busy cluster the workers are seldom idle, and a listing waiting for one would
        wait for every queued article first. Their listings go to the shared queue ahead of the articles
        (priority), for whichever worker is free first."""
        engine = self.crawler.engine
        if engine is None or not engine.running:  # stopping: a job taken now would wait for the time limit
            return
        if len(engine.downloader.active) >= self.crawler.settings.getint("CONCURRENT_REQUESTS"):
            return
        try:
            self.schedule_next_requests()
        except redis.RedisError as exc:  # away for a moment: the next turn tries again
            logger.warning("could not take jobs from Redis: %s", one_line(exc))

    async def start(self) -> AsyncIterator[Request]:
        """No start requests: jobs come from Redis when the spider is idle (RedisMixin.spider_idle) or has a
        download slot free (_take_jobs)."""
        return
        yield  # an async generator that yields nothing

    def make_request_from_data(self, data: bytes) -> Request | None:
        try:
            source, run = read_job(data)
        except ValueError as exc:
            logger.warning("skipped a queued job: %s", one_line(exc))
            return None
        report: SharedReport = self.report  # type: ignore[assignment]
        report.bind(source, run)
        config = self.sources.get(source)
        if config is None:
            report.tallies[source].error = (f"this worker's config has no source named {source!r}: give every "
                                            "newsmon process the same config.yaml")
            report.closed(source)
            return None
        try:
            with self.sessions() as session:
                if not is_open(session, run):  # given up while the job waited (workers down or behind)
                    logger.info("skipped the job of %s: its crawl run %d is over", source, run)
                    return None
                validators = listing_validators(session, [source]).get((source, config.url))
        except SQLAlchemyError as exc:
            logger.warning("could not read the crawl run and validators of %s: %s", source, database_error(exc))
            validators = None
        request = self._listing_request(config.url, source, depth=0, validators=validators)
        request.meta[RUN] = run
        return request

    # Every callback first says which run its request belongs to; requests it queues carry the run on.

    def parse_listing(self, response: Response, source: str, depth: int) -> Iterator[Request]:
        run = response.meta.get(RUN)
        self.report.bind(source, run)  # type: ignore[attr-defined]
        # All of them made (and counted in the run) before the first is queued: another worker may finish
        # one before this one's write, and the run must not reach zero on the way.
        requests = list(super().parse_listing(response, source, depth))
        for request in requests:
            request.meta[RUN] = run
            if request.callback == self.parse_article:
                request.dont_filter = False  # the shared filter: another worker fetched it moments ago
        return iter(requests)

    def listing_failed(self, failure: Failure) -> None:
        self.report.bind(failure.request.cb_kwargs["source"], failure.request.meta.get(RUN))  # type: ignore[attr-defined]
        super().listing_failed(failure)

    async def parse_article(self, response: Response, link: Link) -> AsyncIterator[Article]:
        self.report.bind(link.source, response.meta.get(RUN))  # type: ignore[attr-defined]
        async for article in super().parse_article(response, link):
            yield article

    def article_failed(self, failure: Failure) -> None:
        link: Link = failure.request.cb_kwargs["link"]
        self.report.bind(link.source, failure.request.meta.get(RUN))  # type: ignore[attr-defined]
        super().article_failed(failure)

    def _dropped(self, request: Request, **_: Any) -> None:
        """The shared filter dropped an article another worker fetched within the window: a known link, but the
        listing is read in full at the next poll, until the article is stored."""
        link = request.cb_kwargs.get("link")
        if isinstance(link, Link):
            self.report.bind(link.source, request.meta.get(RUN))  # type: ignore[attr-defined]
            self.report.dropped(link.source)  # type: ignore[attr-defined]

    def _closed(self, spider: Any, reason: str) -> None:
        if self._job_taker is not None and self._job_taker.running:
            self._job_taker.stop()
        self.report.finish_all()
        super()._closed(spider, reason)


class _Forgetful(set[str]):
    """A set that keeps nothing (see SharedNewsSpider.scheduled)."""

    def add(self, element: str) -> None:
        pass


def run_worker(config: Config, verbosity: int = 0) -> None:
    """Crawl what the scheduler queues until SIGTERM or SIGINT (Scrapy's graceful shutdown; what was in hand and
    not finished is recovered at the source's next poll, see db.runs)."""
    connect_or_fail(config.redis.url).close()
    assert config.redis.url is not None
    engine = open_database(config.database.url)
    sessions = session_factory(engine)
    # scrapy-redis calls Scrapy's stats with the deprecated spider= argument on every request.
    warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning, module=r"scrapy_redis\.")
    settings = {**build_settings(config, scrapy_level(verbosity)), **redis_settings(config)}
    settings["DOWNLOADER_MIDDLEWARES"] = {**settings["DOWNLOADER_MIDDLEWARES"],
                                          "crawler.sharedqueue.SharedHostDelay": 60}
    logger.info("newsmon worker: %d sources known, taking jobs from Redis at %s", len(config.sources),
                redis_address(config.redis.url))
    try:
        with storage_errors("start the worker"), sessions.begin() as session:
            prepare_archive(session, list(config.sources), cluster_policy(config))
        process = CrawlerProcess(settings)
        process.crawl(SharedNewsSpider, sources=list(config.sources), sessions=sessions)
        process.start()
    finally:
        engine.dispose()
