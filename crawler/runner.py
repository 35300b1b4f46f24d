"""Run one crawl of some sources to the end, in this process, and record how each source went."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from scrapy.crawler import CrawlerProcess

from crawler.pipelines import prepare_archive
from crawler.report import CrawlReport
from crawler.settings import build_settings
from crawler.spiders.news import NewsSpider
from db.clusters import cluster_policy
from db.records import SourceTally
from db.session import open_database, session_factory, storage_errors
from db.sources import record_crawl_run
from newsmon.config import Config, SourceConfig
from newsmon.errors import ConfigError
from newsmon.logging import scrapy_level

logger = logging.getLogger(__name__)


def select_sources(config: Config, names: Sequence[str] | None) -> list[SourceConfig]:
    """The named sources (all when none are named); raises ConfigError naming every unknown one."""
    if not names:
        return list(config.sources)
    known = {source.name: source for source in config.sources}
    unknown = [name for name in names if name not in known]
    if unknown:
        listed = ", ".join(known) or "none"
        raise ConfigError([f"no source named {name!r} (known: {listed})" for name in unknown])
    return [known[name] for name in dict.fromkeys(names)]


def run_crawl(
    config: Config,
    names: Sequence[str] | None = None,
    on_source_done: Callable[[SourceTally], None] | None = None,
    verbosity: int = 0,
) -> CrawlReport:
    """Crawl the sources once: fetch, extract, dedupe, store; then record a crawl run per source. The stories
    are stored unmatched: matching and delivery are later steps of their own (``alerts``).

    Runs the Twisted reactor, which cannot be restarted: call it once per process (the scheduler runs each
    crawl in a child process for that reason).

    Raises:
        ConfigError: a named source does not exist.
        StorageError: the database cannot be opened, migrated or written (another process holding SQLite's write
            lock past its busy timeout): before the crawl, nothing is fetched; after it, its runs are not recorded.
    """
    sources = select_sources(config, names)
    engine = open_database(config.database.url)
    report = CrawlReport.start([source.name for source in sources], on_source_done)
    try:
        sessions = session_factory(engine)
        with storage_errors("start the crawl"), sessions.begin() as session:
            source_ids = prepare_archive(session, sources, cluster_policy(config))
        if sources:
            process = CrawlerProcess(build_settings(config, scrapy_level(verbosity)))
            process.crawl(NewsSpider, sources=sources, report=report)
            process.start()
        report.finish_all()
        # What the crawl stored stays stored; a page it could not store is fetched again by the next crawl.
        with storage_errors("record the crawl"), sessions.begin() as session:
            for tally in report.tallies.values():
                record_crawl_run(session, source_ids[tally.name], tally)
    finally:
        engine.dispose()
    totals = report.totals()
    logger.info(
        "crawl of %d sources: %d new, %d duplicate, %d known, %d pages failed, %d sources failed",
        len(sources), totals["new"], totals["duplicate"], totals["known"], totals["failed"], totals["sources_failed"],
    )
    return report
