"""Item pipelines: drop what the archive already has, then store the rest once.

Dedupe is defence in depth: DedupePipeline skips articles whose every URL is already stored, and the
database's unique constraints (canonical URL, text hash) are the final word inside StorePipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crawler.report import CrawlReport
from db.clusters import ClusterPolicy, prune_bands
from db.records import Article
from db.session import database_error, make_engine, session_factory
from db.sources import sync_sources
from db.storage import StoreOutcome, known_urls, store_article
from newsmon.errors import StorageError

if TYPE_CHECKING:
    from newsmon.config import SourceConfig

logger = logging.getLogger(__name__)


def prepare_archive(session: Session, sources: Sequence[SourceConfig], policy: ClusterPolicy) -> dict[str, int]:
    """The writes a crawl process makes before it fetches anything: its sources' rows, and the band index pruned
    of stories too old to gain copies. Returns source name -> id.

    A crawl process calls it first, so that an archive it cannot write (another process holding SQLite's
    write lock) stops it before any page is fetched, with nothing to lose.
    """
    now = datetime.now(UTC)
    source_ids = sync_sources(session, sources, now)
    prune_bands(session, now - policy.window)
    return source_ids


class _ArchivePipeline:
    """Opens the archive for the crawl's duration."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.database_url: str = crawler.settings["NEWSMON_DATABASE_URL"]
        self.engine: Engine | None = None
        self.sessions: sessionmaker[Session] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> _ArchivePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.engine = make_engine(self.database_url)
        self.sessions = session_factory(self.engine)

    def close_spider(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    @property
    def spider(self) -> Spider:
        assert self.crawler.spider is not None
        return self.crawler.spider

    @property
    def report(self) -> CrawlReport:
        return self.spider.report  # type: ignore[attr-defined, no-any-return]


class DedupePipeline(_ArchivePipeline):
    """Drops an article whose every URL was stored meanwhile (by another source of this crawl, or another worker)."""

    def process_item(self, item: Article) -> Article:
        assert self.sessions is not None
        try:
            with self.sessions() as session:
                known = known_urls(session, item.urls)
        except SQLAlchemyError:
            return item  # StorePipeline will meet the same problem and record it
        if len(known) == len(set(item.urls)) and not item.refresh:
            self.report.tallies[item.source].known += 1
            raise DropItem(f"already stored: {item.url}")
        return item


class StorePipeline(_ArchivePipeline):
    """Stores each article in its own transaction: a new story, or one more URL of a story with the same text."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.source_ids: dict[str, int] = {}
        default = ClusterPolicy()
        self.policy = ClusterPolicy(
            similarity=crawler.settings.getfloat("NEWSMON_CLUSTER_SIMILARITY", default.similarity),
            window=timedelta(seconds=crawler.settings.getfloat("NEWSMON_CLUSTER_WINDOW", default.window.total_seconds())),
        )

    def open_spider(self) -> None:
        super().open_spider()
        assert self.sessions is not None
        sources = list(self.spider.sources.values())  # type: ignore[attr-defined]
        # Reads only: the crawl process prepared the archive before it started (see prepare_archive), so a
        # write lock taken since holds up the pages' stores, each recorded, never the crawl's start.
        with self.sessions.begin() as session:
            self.source_ids = sync_sources(session, sources, datetime.now(UTC))

    def process_item(self, item: Article) -> Article:
        assert self.sessions is not None
        tally = self.report.tallies[item.source]
        now = datetime.now(UTC)
        try:
            # Stored unmatched: alerts/ matches what is stored (``matched_at`` still empty) in its own step.
            with self.sessions.begin() as session:
                outcome, story_id = store_article(session, item, self.source_ids[item.source], now, self.policy)
        except SQLAlchemyError as exc:
            # Not stored means not known: the next crawl fetches the page again, so nothing is lost.
            raise StorageError(database_error(exc)) from exc
        if outcome is StoreOutcome.NEW:
            tally.new += 1
        elif outcome is StoreOutcome.UPDATED:
            tally.known += 1  # a stored story, now in its next version
            logger.info("%s changed since it was stored: kept as its next version", item.url)
        elif outcome is StoreOutcome.DUPLICATE:
            tally.duplicate += 1
        else:
            tally.known += 1
        logger.debug("%s %s as story %d: %s", outcome.value, item.url, story_id, item.title)
        return item
