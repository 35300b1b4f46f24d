"""NewsSpider: reads every source of one crawl (feeds, sitemaps, section pages) and fetches their new articles.

One spider for all sources keeps one set of politeness limits per host and one duplicate check per crawl,
however many sources there are.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, ResponseDataLossError
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from twisted.python.failure import Failure

from crawler.links import Link
from crawler.freshness import max_age, retry_after
from crawler.report import CrawlReport
from crawler.safety import PrivateAddressRefused, Refused, refused_name_reason
from crawler.spiders.feed import read_feed
from crawler.spiders.page import links_from_page
from crawler.spiders.sitemap import read_sitemap
from crawler.urls import canonical_url
from crawler.workers import ExtractionPool, default_workers
from db.records import Article
from db.session import database_error, make_engine
from db.sources import listing_validators
from db.storage import stored_read_at
from newsmon.config import SourceConfig, SourceKind
from newsmon.errors import ExtractionError, one_line

logger = logging.getLogger(__name__)

# A stored story whose listing says it changed is read again at most this often.
REFRESH_AT_MOST_EVERY = timedelta(hours=1)
# A sitemap index may point at further indexes; deeper than this is a loop or a trap.
MAX_SITEMAP_DEPTH = 3
_HTML_TYPES = (b"text/html", b"application/xhtml")
_MAX_SIZE = re.compile(r"larger than download max size \((\d+)\)")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]{0,19}")


class NewsSpider(Spider):
    name = "news"

    def __init__(self, sources: list[SourceConfig], report: CrawlReport, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sources = {source.name: source for source in sources}
        self.report = report
        self.scheduled: set[str] = set()  # article URLs requested in this crawl, across sources
        self.engine: Engine | None = None
        self.max_bytes = 0
        self.max_links = 1000
        self.window: timedelta | None = None  # sitemap entries older than this are not fetched
        self.extraction = ExtractionPool(default_workers())

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.engine = make_engine(crawler.settings["NEWSMON_DATABASE_URL"])
        spider.max_bytes = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        workers = crawler.settings.get("NEWSMON_EXTRACTION_WORKERS")
        spider.extraction = ExtractionPool(default_workers() if workers is None else int(workers),
                                           crawler.settings.getfloat("NEWSMON_EXTRACTION_TIME_LIMIT"))
        spider.max_links = crawler.settings.getint("NEWSMON_MAX_LINKS", 1000)
        window = crawler.settings.getfloat("NEWSMON_SITEMAP_WINDOW")
        spider.window = timedelta(seconds=window) if window > 0 else None
        crawler.signals.connect(spider._item_done, signal=signals.item_scraped)
        crawler.signals.connect(spider._item_done, signal=signals.item_dropped)
        crawler.signals.connect(spider._item_failed, signal=signals.item_error)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        validators = self._validators()
        for source in self.sources.values():
            self.report.opened(source.name)
            known = validators.get((source.name, source.url))
            yield self._listing_request(source.url, source.name, depth=0, validators=known)

    def _validators(self) -> dict[tuple[str, str], tuple[str | None, str | None]]:
        """The ETag and Last-Modified each listing had when it was last read completely."""
        assert self.engine is not None
        try:
            with Session(self.engine) as session:
                return listing_validators(session)
        except SQLAlchemyError as exc:  # without them every listing is read in full: slower, nothing lost
            logger.warning("could not read the listings' validators: %s", database_error(exc))
            return {}

    def _listing_request(
        self, url: str, source: str, depth: int, validators: tuple[str | None, str | None] | None = None
    ) -> Request:
        etag, last_modified = validators or (None, None)
        headers = {"If-None-Match": etag} if etag else {}
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return Request(
            url,
            callback=self.parse_listing,
            errback=self.listing_failed,
            cb_kwargs={"source": source, "depth": depth},
            headers=headers,
            meta={"handle_httpstatus_list": [304]} if headers else {},
            dont_filter=True,
            priority=10,  # listings first, so every source's articles are queued early
        )

    # Listings ---------------------------------------------------------------------------------------

    def parse_listing(self, response: Response, source: str, depth: int) -> Iterator[Request]:
        config = self.sources[source]
        tally = self.report.tallies[source]
        if depth == 0:
            tally.max_age = max_age(_header(response, b"Cache-Control"))
        if response.status == 304:  # unchanged since the last complete read: nothing to parse
            tally.not_modified = True
            self.report.closed(source)
            return
        if depth == 0:
            tally.validators = (_header(response, b"ETag"), _header(response, b"Last-Modified"))
        try:
            links, sitemaps, modified = self._read_listing(response, config)
        except ExtractionError as exc:
            if depth == 0:
                tally.error = one_line(exc)
            else:
                tally.fail_page(response.url, exc)
            logger.info("%s: %s", source, tally.error or exc)
            self.report.closed(source)
            return
        for sitemap_url in sitemaps:
            if self._too_old(modified.get(sitemap_url)):
                continue  # an index's older sitemaps list older articles: not read at all
            if depth + 1 > MAX_SITEMAP_DEPTH:
                tally.fail_page(sitemap_url, f"sitemap index nested deeper than {MAX_SITEMAP_DEPTH}")
                continue
            self.report.opened(source)
            yield self._listing_request(sitemap_url, source, depth + 1)
        if config.kind is SourceKind.SITEMAP:
            links = [link for link in links if not self._too_old(link.published_at)]
        if len(links) > self.max_links:
            tally.fail_page(response.url, f"lists {len(links)} links; only the newest {self.max_links} are read "
                                          "(crawl.max_links)")
            links = _newest(links, self.max_links)
        yield from self._article_requests(config, links)
        self.report.closed(source)

    def _too_old(self, moment: datetime | None) -> bool:
        return self.window is not None and moment is not None and moment < datetime.now(UTC) - self.window

    def _read_listing(
        self, response: Response, config: SourceConfig
    ) -> tuple[list[Link], list[str], dict[str, datetime]]:
        if config.kind is SourceKind.FEED:
            content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
            feed = read_feed(response.body, response.url, config.name, content_type, self.max_bytes)
            if reason := feed.not_web_reason():
                self.report.tallies[config.name].fail_page(response.url, reason)
            return feed.links, [], {}
        if config.kind is SourceKind.SITEMAP:
            content = read_sitemap(response.body, response.url, config.name, self.max_bytes)
            return content.links, content.sitemaps, content.modified
        if not isinstance(response, TextResponse):
            raise ExtractionError("not a section page: the response is not HTML")
        return links_from_page(response, config.name, config.follow), [], {}

    def _article_requests(self, config: SourceConfig, links: list[Link]) -> Iterator[Request]:
        tally = self.report.tallies[config.name]
        tally.links += len(links)
        fresh = [link for link in links if link.url not in self.scheduled]
        tally.known += len(links) - len(fresh)
        stored = self._known([link.url for link in fresh])
        now = datetime.now(UTC)
        for link in fresh:
            read_at, complete = stored.get(link.url, (None, True))
            if read_at is not None:
                # Fetched again when the listing says it changed since we read it, at most hourly: some sites
                # stamp every item "updated" at each request. A teaser or paywalled page is read again hourly
                # while its listing lists it: the full story often follows, and it must not be missed.
                changed = link.updated_at is not None and link.updated_at > read_at
                if not (changed or not complete) or now - read_at < REFRESH_AT_MOST_EVERY:
                    tally.known += 1
                    continue
                link = replace(link, refresh=True)  # its next version, if the text changed
            self.scheduled.add(link.url)
            self.report.opened(config.name)
            yield Request(
                link.url,
                callback=self.parse_article,
                errback=self.article_failed,
                cb_kwargs={"link": link},
                dont_filter=True,  # dedupe is ours (canonical URLs, across sources and crawls)
            )

    def _known(self, urls: list[str]) -> dict[str, tuple[datetime, bool]]:
        """The stored ones of ``urls``, with when their story's current text was read."""
        if not urls or self.engine is None:
            return {}
        try:
            with Session(self.engine) as session:
                return stored_read_at(session, urls)
        except SQLAlchemyError as exc:
            # Fetching a page twice is harmless: the store's unique constraints still decide.
            logger.warning("cannot check known URLs (%s); fetching all", database_error(exc))
            return {}

    def listing_failed(self, failure: Failure) -> None:
        source = failure.request.cb_kwargs["source"]
        depth = failure.request.cb_kwargs["depth"]
        tally = self.report.tallies[source]
        reason = describe_failure(failure)
        if depth == 0:
            tally.error = reason
            if isinstance(failure.value, HttpError):  # 429 or 503 may say how long to stay away
                tally.retry_after = retry_after(_header(failure.value.response, b"Retry-After"))
        else:
            tally.fail_page(failure.request.url, reason)
        if isinstance(failure.value, Refused):
            _log_refusal(source, failure.request.url, reason)
        else:
            logger.info("%s: %s", source, reason)
        self.report.closed(source)

    # Articles ---------------------------------------------------------------------------------------

    async def parse_article(self, response: Response, link: Link) -> AsyncIterator[Article]:
        tally = self.report.tallies[link.source]
        content_type = response.headers.get(b"Content-Type", b"").lower()
        if not isinstance(response, TextResponse) or (content_type and not content_type.startswith(_HTML_TYPES)):
            tally.fail_page(link.url, f"not an HTML page ({content_type.decode('latin-1') or 'no content type'})")
            self.report.closed(link.source)
            return
        final_url = canonical_url(response.url)
        urls = tuple(dict.fromkeys((link.url, final_url)))
        try:
            article = await self.extraction.extract(
                response.text, final_url, urls, link, self.sources[link.source].language
            )
        except ExtractionError as exc:
            tally.fail_page(link.url, exc)
            self.report.closed(link.source)
            return
        yield article  # the pipelines count it and close it (see _item_done)

    def article_failed(self, failure: Failure) -> None:
        link: Link = failure.request.cb_kwargs["link"]
        reason = describe_failure(failure)
        self.report.tallies[link.source].fail_page(link.url, reason)
        if isinstance(failure.value, Refused):
            _log_refusal(link.source, failure.request.url, reason)
        self.report.closed(link.source)

    def _item_done(self, item: Article, **_: Any) -> None:
        self.report.closed(item.source)

    def _item_failed(self, item: Article, failure: Failure, **_: Any) -> None:
        self.report.tallies[item.source].fail_page(item.url, f"not stored: {describe_failure(failure)}")
        self.report.closed(item.source)

    def _closed(self, spider: Spider, reason: str) -> None:
        self.extraction.close()
        if self.engine is not None:
            self.engine.dispose()


def _log_refusal(source: str, url: str, reason: str) -> None:
    # One line per refused URL, shown without -v: a feed that links into a private network is worth a look
    # (an intranet source wants crawl.private_hosts; anything else is a probe).
    logger.warning("%s: %s was not fetched: %s", source, url, reason)


def describe_failure(failure: Failure) -> str:
    """One line that says what went wrong with a request, for people."""
    error = failure.value
    if isinstance(error, (Refused, PrivateAddressRefused)):  # the latter, should Twisted ever pass it on as it is
        return one_line(error)
    if isinstance(error, HttpError):
        response = error.response
        location = _header(response, b"Location")
        if 300 <= response.status < 400 and location:  # Scrapy follows http and https redirects only
            scheme = urlsplit(location).scheme
            named = scheme if _SCHEME.fullmatch(scheme) else "non-web"
            return f"HTTP {response.status}: a redirect to a {named}: URL, not followed"
        return f"HTTP {response.status}"
    if isinstance(error, ResponseDataLossError):
        return "the connection closed before the whole body arrived (truncated)"
    limit = getattr(error.__cause__, "max_size", None)  # Scrapy's decompression stopped at DOWNLOAD_MAXSIZE
    if limit:
        return f"refused: the body inflates past crawl.max_bytes ({limit} bytes; a compression bomb?)"
    if isinstance(error, DownloadCancelledError) and (size := _MAX_SIZE.search(str(error))):
        return f"refused: the body is larger than crawl.max_bytes ({size.group(1)} bytes)"
    name = type(error).__name__
    message = one_line(error) or name
    if "DNSLookupError" in name or "ResolveHost" in name:
        host = (urlsplit(failure.request.url).hostname or "host") if failure.request else "host"
        return refused_name_reason(host) or f"cannot resolve {host} (check the URL, or the network)"
    if "TimeoutError" in name or "TCPTimedOut" in name:
        return f"timed out: {message}"
    if "ConnectionRefused" in name:
        return "connection refused"
    if name == "IgnoreRequest":
        return message
    return f"{name}: {message}" if message != name else name


def _newest(links: list[Link], count: int) -> list[Link]:
    """The ``count`` newest links in listing order: dated ones newest first, then undated ones in listing order
    (a listing without dates is taken to list its newest first, as feeds do)."""
    if not any(link.published_at for link in links):
        return links[:count]
    ranked = sorted(range(len(links)), key=lambda i: (links[i].published_at is not None, links[i].published_at
                                                      or datetime.min.replace(tzinfo=UTC), -i), reverse=True)
    keep = set(ranked[:count])
    return [link for index, link in enumerate(links) if index in keep]


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1").strip() or None if value else None
