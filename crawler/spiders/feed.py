"""RSS 2.0, RSS 1.0 and Atom feeds, parsed by feedparser from the bytes Scrapy fetched (never from a URL)."""

from __future__ import annotations

import logging
from urllib.parse import urljoin

import feedparser

from crawler.extract import Link
from crawler.listing import from_struct_time, maybe_gunzip
from crawler.urls import canonical_url
from newsmon.errors import ExtractionError

logger = logging.getLogger(__name__)


def links_from_feed(body: bytes, url: str, source: str, content_type: str | None, max_bytes: int) -> list[Link]:
    """Every item of a feed as a Link, in feed order, each URL once.

    Raises:
        ExtractionError: the body is empty or is not a feed (an HTML page, broken XML with no items).
    """
    body = maybe_gunzip(body, max_bytes)
    if not body.strip():
        raise ExtractionError("empty response where a feed was expected")
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)
    if not parsed.entries:
        if parsed.get("version") and not parsed.get("bozo"):
            return []  # a well-formed feed that has no items today
        raise ExtractionError(_not_a_feed_reason(parsed, body))
    links: dict[str, Link] = {}
    for entry in parsed.entries:
        href = _entry_url(entry)
        if not href:
            continue
        absolute = urljoin(url, href)
        if not absolute.startswith(("http://", "https://")):
            continue
        link_url = canonical_url(absolute)
        if link_url in links:
            continue
        title = (entry.get("title") or "").strip() or None
        published = from_struct_time(entry.get("published_parsed") or entry.get("updated_parsed"))
        links[link_url] = Link(url=link_url, source=source, title=title, published_at=published)
    if parsed.get("bozo"):
        logger.debug("feed %s is not well-formed (%s); read %d items leniently", url, parsed.get("bozo_exception"), len(links))
    return list(links.values())


def _entry_url(entry: feedparser.FeedParserDict) -> str | None:
    link = entry.get("link")
    if link:
        return str(link).strip()
    for alternate in entry.get("links") or []:
        if alternate.get("rel", "alternate") == "alternate" and alternate.get("href"):
            return str(alternate["href"]).strip()
    guid = str(entry.get("id") or "")
    return guid if guid.startswith(("http://", "https://")) else None


def _not_a_feed_reason(parsed: feedparser.FeedParserDict, body: bytes) -> str:
    head = body.lstrip()[:512].lower()
    if b"<html" in head or b"<!doctype html" in head or b"<head" in head:
        return "not a feed: the response is an HTML page"
    problem = parsed.get("bozo_exception")
    if problem is not None:
        detail = str(problem).splitlines()[0] if str(problem) else type(problem).__name__
        return f"not a feed: {detail}"
    return "not a feed: no RSS or Atom items found"
