"""`newsmon add`: find an outlet's feed (else a sitemap, else the section page) from its address; the CLI appends it
to config.yaml (newsmon.config_file).

Discovery is a small Scrapy spider, so politeness, size caps, robots.txt and the private-network refusal hold as
in a crawl. It looks in stages and stops at the first stage that gives a feed: the address itself (a feed or a
sitemap is taken as it is), the page's ``<link rel="alternate">`` feeds, common feed paths of the host, then the
sitemaps robots.txt names. The config is edited round-trip (ruamel.yaml), so its comments and layout stay.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import DontCloseSpider
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.listing import maybe_gunzip
from crawler.settings import build_settings
from crawler.spiders.feed import links_from_feed
from crawler.spiders.news import describe_failure
from crawler.spiders.page import links_from_page
from crawler.spiders.sitemap import read_sitemap
from crawler.urls import canonical_url
from newsmon.config import Config, SourceConfig, SourceKind
from newsmon.errors import ExtractionError, NewsmonError, one_line
from newsmon.logging import scrapy_level

logger = logging.getLogger(__name__)

COMMON_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml", "/feeds/posts/default",
                "/?feed=rss2")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
MIN_PAGE_LINKS = 5  # a page with fewer article links is no section page
MAX_ROBOTS_SITEMAPS = 6  # of the sitemaps robots.txt names, news ones first: a site may name hundreds
MAX_INDEX_CHILDREN = 3  # news sitemaps of an index robots.txt named, read as candidates of their own
_SOURCE = "discover"  # the source name Links carry here: they are counted, never stored
# Second-level labels under a country code: bbc.co.uk is "bbc", pravda.com.ua is "pravda".
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "edu", "ac", "or", "ne", "go", "nic", "mil", "ltd", "plc"}


class Via(StrEnum):
    """How a candidate URL was found."""

    ADDRESS = "address"
    ALTERNATE = "rel=alternate"
    COMMON_PATH = "common path"
    ROBOTS = "robots.txt"
    SITEMAP_INDEX = "sitemap index"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One URL tried, and what it turned out to be."""

    url: str  # as requested
    via: Via
    kind: SourceKind | None = None  # what it can be a source as; None: it cannot (see rejected)
    found: str = ""  # what it is: feed, news sitemap, sitemap index, page, robots.txt ...
    links: int | None = None  # article links (an index: its sitemaps; robots.txt: its Sitemap: lines)
    rejected: str | None = None  # why it is no source, one line
    final_url: str | None = None  # where it answered, after redirects
    news: bool = False  # a news sitemap (the news: namespace, or "news" in its path)

    @property
    def source_url(self) -> str:
        return self.final_url or self.url

    def as_record(self) -> dict[str, Any]:
        return {"url": self.url, "via": self.via.value, "found": self.found or None, "links": self.links,
                "rejected": self.rejected}


@dataclass(frozen=True, slots=True)
class Discovery:
    """Every candidate tried, in order, and the one chosen (None: nothing usable)."""

    address: str
    candidates: tuple[Candidate, ...]
    chosen: Candidate | None
    language: str | None = None  # the page's <html lang>, as an ISO 639 code

    def failure(self) -> str:
        """One line saying what was tried, for when nothing was chosen."""
        reasons: dict[str, list[str]] = {}
        for candidate in self.candidates:
            where = "the address" if candidate.via is Via.ADDRESS else _short(candidate.url, self.address)
            reasons.setdefault(candidate.rejected or "not usable", []).append(where)
        tried = "; ".join(f"{', '.join(where)} ({reason})" for reason, where in reasons.items())
        return f"found no feed, sitemap or section page for {self.address}; tried {tried}"


@dataclass(frozen=True, slots=True)
class Addition:
    """What `newsmon add` found, and whether it was written to the config file (not in a dry run)."""

    discovery: Discovery
    entry: dict[str, str]
    config_path: Path
    written: bool

    def as_record(self) -> dict[str, Any]:
        chosen = self.discovery.chosen
        return {
            "url": self.discovery.address,
            "config": str(self.config_path),
            "source": self.entry,
            "written": self.written,
            "chosen": chosen.as_record() if chosen else None,
            "candidates": [c.as_record() for c in self.discovery.candidates],
        }


def find_source(
    config: Config,
    config_path: Path,
    url: str,
    *,
    name: str | None = None,
    every: str = "15m",
    language: str | None = None,
    verbosity: int = 0,
    on_candidate: Callable[[Candidate], None] | None = None,
) -> Addition:
    """Find the best listing of the outlet at ``url``, as the source entry to append to the config file (the
    CLI writes it: ``newsmon.config_file.write_source``).

    Runs the Twisted reactor, which cannot be restarted: call it once per process.

    Raises:
        NewsmonError: the URL is already a source, the name is taken, or nothing usable was found (the message
            says what was tried).
    """
    address = normalise_address(url)
    refuse_duplicate(config, address)
    if name is not None and name in {source.name for source in config.sources}:
        raise NewsmonError(f"a source named {name!r} already exists; choose another --name")
    source_entry(name or "probe", SourceKind.PAGE, address, every, language)  # bad options fail before any fetch
    discovery = discover(config, address, verbosity, on_candidate)
    if discovery.chosen is None or discovery.chosen.kind is None:
        raise NewsmonError(discovery.failure())
    refuse_duplicate(config, discovery.chosen.source_url)
    entry = source_entry(
        name or source_name(address, {source.name for source in config.sources}),
        discovery.chosen.kind,
        discovery.chosen.source_url,
        every,
        language or discovery.language,
    )
    return Addition(discovery, entry, config_path, written=False)


def normalise_address(url: str) -> str:
    """``bbc.co.uk`` -> ``https://bbc.co.uk``; anything but an http(s) URL with a host is refused."""
    url = url.strip()
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NewsmonError(f"{url!r} is not an http:// or https:// address")
    return url


def refuse_duplicate(config: Config, url: str) -> None:
    key = canonical_url(url)
    for source in config.sources:
        if canonical_url(source.url) == key:
            raise NewsmonError(f"{url} is already a source ({source.name}, {source.kind.value})")


def source_name(url: str, taken: set[str]) -> str:
    """A name from the host (www.bbc.co.uk -> bbc, news.example.org -> example), made unique with -2, -3 ..."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        base = host.replace(".", "-").replace(":", "-")
    except ValueError:
        labels = [label for label in host.split(".") if label]
        top = labels.pop() if len(labels) > 1 else ""
        if len(labels) > 1 and len(top) == 2 and labels[-1] in _SECOND_LEVEL:
            labels.pop()
        base = labels[-1] if labels else ""
    base = re.sub(r"[^a-z0-9_.-]+", "-", base).strip("-_.") or "source"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    return name


def source_entry(name: str, kind: SourceKind, url: str, every: str, language: str | None) -> dict[str, str]:
    """The source's mapping as it is written (name, feed|sitemap|page, every, language), validated."""
    entry = {"name": name, kind.value: url, "every": every}
    if language:
        entry["language"] = language
    try:
        SourceConfig.model_validate(entry)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'source'}: {e['msg'].removeprefix('Value error, ')}"
                    for e in exc.errors()]
        raise NewsmonError(f"cannot add the source: {'; '.join(problems)}") from None
    return entry


# Discovery ----------------------------------------------------------------------------------------------


def discover(
    config: Config, address: str, verbosity: int = 0, on_candidate: Callable[[Candidate], None] | None = None
) -> Discovery:
    """Try the candidates of ``address`` through Scrapy (the crawl's settings) and choose the best.

    Runs the Twisted reactor, which cannot be restarted: call it once per process.
    """
    settings = build_settings(config, scrapy_level(verbosity))
    settings["ITEM_PIPELINES"] = {}  # nothing is stored: discovery only reads listings
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(DiscoverySpider)
    process.crawl(crawler, address=address, on_candidate=on_candidate)
    process.start()
    spider: DiscoverySpider = crawler.spider  # type: ignore[assignment]
    candidates = tuple(spider.candidates.values())
    return Discovery(address, candidates, choose(candidates), spider.language)


def choose(candidates: tuple[Candidate, ...] | list[Candidate]) -> Candidate | None:
    """The address itself when it is a feed or sitemap; else the rel=alternate feed with the most items, any
    feed, a news sitemap, a sitemap (the most links first), the page; None when nothing is usable."""
    usable = [c for c in candidates if c.kind is not None]
    tiers = [
        [c for c in usable if c.via is Via.ADDRESS and c.kind is not SourceKind.PAGE],
        [c for c in usable if c.kind is SourceKind.FEED and c.via is Via.ALTERNATE],
        [c for c in usable if c.kind is SourceKind.FEED],
        [c for c in usable if c.kind is SourceKind.SITEMAP and c.news],
        [c for c in usable if c.kind is SourceKind.SITEMAP],
        [c for c in usable if c.kind is SourceKind.PAGE],
    ]
    for tier in tiers:
        if tier:
            return max(tier, key=lambda c: c.links or 0)  # the first of equals
    return None


class DiscoverySpider(Spider):
    """Fetches the candidates of one address, a stage at a time (see the module's docstring)."""

    name = "discover"

    def __init__(
        self, address: str, on_candidate: Callable[[Candidate], None] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.address = address
        self.on_candidate = on_candidate
        self.candidates: dict[str, Candidate] = {}  # by canonical URL, in the order tried
        self.alternates: list[str] = []
        self.origin = _origin(address)
        self.language: str | None = None
        self.max_bytes = 0
        self.settled = False  # the address is itself a listing, or cannot be reached at all
        self.stages: list[Callable[[], list[Request]]] = [self._alternates, self._common_paths, self._robots]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> DiscoverySpider:
        spider: DiscoverySpider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_bytes = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        request = self._request(self.address, Via.ADDRESS, self.parse_address)
        if request is not None:
            yield request

    def _request(self, url: str, via: Via, callback: Callable[..., Any]) -> Request | None:
        key = canonical_url(url)
        if key in self.candidates:
            return None  # already tried (an alternate that is also a common path, say)
        self.candidates[key] = Candidate(url, via, rejected="not fetched")
        return Request(url, callback=callback, errback=self.failed, cb_kwargs={"key": key}, dont_filter=True)

    def _record(self, key: str, **fields: Any) -> None:
        fields.setdefault("rejected", None)
        candidate = replace(self.candidates[key], **fields)
        self.candidates[key] = candidate
        if self.on_candidate is not None:
            self.on_candidate(candidate)

    # Stages, started when the previous one is done -----------------------------------------------------

    def _idle(self, spider: Spider) -> None:
        while self.stages:
            requests = self.stages.pop(0)()
            if requests:
                for request in requests:
                    self.crawler.engine.crawl(request)
                raise DontCloseSpider

    def _has_feed(self) -> bool:
        return self.settled or any(c.kind is SourceKind.FEED for c in self.candidates.values())

    def _alternates(self) -> list[Request]:
        if self.settled:
            return []
        return [r for url in self.alternates if (r := self._request(url, Via.ALTERNATE, self.parse_candidate))]

    def _common_paths(self) -> list[Request]:
        if self._has_feed():
            return []
        urls = [self.origin + path for path in COMMON_PATHS]
        return [r for url in urls if (r := self._request(url, Via.COMMON_PATH, self.parse_candidate))]

    def _robots(self) -> list[Request]:
        if self._has_feed():
            return []
        request = self._request(self.origin + "/robots.txt", Via.ROBOTS, self.parse_robots)
        return [request] if request else []

    # Callbacks ------------------------------------------------------------------------------------------

    def parse_address(self, response: Response, key: str) -> None:
        self.origin = _origin(response.url)  # common paths on the host that answered, after redirects
        try:
            self._record(key, final_url=response.url, **self._read_listing(response))
            self.settled = True  # the user named a listing: it is taken as it is
            return
        except ExtractionError as exc:
            not_listing = one_line(exc)
        if not isinstance(response, HtmlResponse):
            self._record(key, final_url=response.url, rejected=not_listing)
            return
        self.language = _html_language(response)
        self.alternates = _alternate_feeds(response)
        links = len(links_from_page(response, _SOURCE))
        usable = links >= MIN_PAGE_LINKS
        too_few = f"{links} article link{'' if links == 1 else 's'}, {MIN_PAGE_LINKS} needed"
        self._record(key, final_url=response.url, found="page", links=links,
                     kind=SourceKind.PAGE if usable else None, rejected=None if usable else too_few)

    def parse_candidate(self, response: Response, key: str) -> Iterator[Request]:
        candidate = self.candidates[key]
        try:
            found = self._read_listing(response, sitemap_first=candidate.via in (Via.ROBOTS, Via.SITEMAP_INDEX))
        except ExtractionError as exc:
            self._record(key, final_url=response.url, rejected=one_line(exc))
            return
        self._record(key, final_url=response.url, **{k: v for k, v in found.items() if k != "children"})
        if candidate.via is Via.ROBOTS:  # an index robots.txt named: its news sitemaps are candidates too
            news = [url for url in found.get("children", []) if "news" in urlsplit(url).path.lower()]
            for url in news[:MAX_INDEX_CHILDREN]:
                request = self._request(url, Via.SITEMAP_INDEX, self.parse_candidate)
                if request is not None:
                    yield request

    def parse_robots(self, response: Response, key: str) -> Iterator[Request]:
        try:  # the crawl's own reader: Sitemap: lines, web URLs only, each once
            urls = read_sitemap(response.body, response.url, _SOURCE, self.max_bytes).sitemaps
        except ExtractionError:
            urls = []
        self._record(key, final_url=response.url, found="robots.txt", links=len(urls),
                     rejected=None if urls else "no Sitemap: lines")
        urls.sort(key=lambda url: "news" not in urlsplit(url).path.lower())  # news first, else in file order
        for url in urls[:MAX_ROBOTS_SITEMAPS]:
            request = self._request(url, Via.ROBOTS, self.parse_candidate)
            if request is not None:
                yield request

    def failed(self, failure: Failure) -> None:
        key = failure.request.cb_kwargs["key"]
        if self.candidates[key].via is Via.ADDRESS and not isinstance(failure.value, HttpError):
            self.settled = True  # unreachable or refused: its other URLs would fail the same way
        self._record(key, rejected=describe_failure(failure))

    def _read_listing(self, response: Response, sitemap_first: bool = False) -> dict[str, Any]:
        """What the response is as a listing: a feed, else a sitemap. Raises ExtractionError (the reason of the
        kind expected) when it is neither."""
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1") or None
        try:
            links = links_from_feed(response.body, response.url, _SOURCE, content_type, self.max_bytes)
            return {"kind": SourceKind.FEED, "found": "feed", "links": len(links)}
        except ExtractionError as exc:
            feed_error = exc
        try:
            content = read_sitemap(response.body, response.url, _SOURCE, self.max_bytes)
        except ExtractionError as exc:
            raise (exc if sitemap_first else feed_error) from None
        news = "news" in urlsplit(response.url).path.lower() or b"sitemap-news" in maybe_gunzip(
            response.body, self.max_bytes)
        index = bool(content.sitemaps) and not content.links
        found = ("news " if news else "") + ("sitemap index" if index else "sitemap")
        count = len(content.sitemaps) if index else len(content.links)
        return {"kind": SourceKind.SITEMAP, "found": found, "links": count, "news": news,
                "children": content.sitemaps}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _short(url: str, address: str) -> str:
    """A URL on the address's host as its path (``/rss.xml``), any other in full."""
    parts = urlsplit(url)
    if _origin(url) != _origin(address):
        return url
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _html_language(response: HtmlResponse) -> str | None:
    """The primary subtag of <html lang> (``en-GB`` -> ``en``) when it is an ISO 639 code."""
    declared = (response.xpath("/html/@lang").get() or "").strip().lower().replace("_", "-").split("-")[0]
    return declared if re.fullmatch(r"[a-z]{2,3}", declared) else None


def _alternate_feeds(response: HtmlResponse) -> list[str]:
    """The feeds a page names in ``<link rel="alternate" type="application/rss+xml" href>``, in page order
    (comment feeds left out: they list comments, not stories)."""
    feeds: dict[str, None] = {}
    for link in response.xpath("//link[@href]"):
        rel = (link.attrib.get("rel") or "").lower().split()
        kind = (link.attrib.get("type") or "").lower().split(";")[0].strip()
        if "alternate" not in rel or kind not in FEED_TYPES:
            continue
        href = response.urljoin(link.attrib["href"].strip())
        title = (link.attrib.get("title") or "").lower()
        if href.startswith(("http://", "https://")) and "comment" not in title + href.lower():
            feeds.setdefault(href, None)
    return list(feeds)


def entry_line(entry: Mapping[str, str]) -> str:
    """The new source on one line, as a YAML flow mapping, for people."""
    return "{" + ", ".join(f"{key}: {value}" for key, value in entry.items()) + "}"


def progress_line(candidate: Candidate) -> str:
    if candidate.rejected:
        return f"{candidate.url}: {candidate.rejected}"
    return f"{candidate.url}: {candidate.found}, {candidate.links} links"

