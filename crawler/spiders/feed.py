"""RSS 2.0, RSS 1.0 and Atom feeds, parsed by feedparser from the bytes Scrapy fetched (never from a URL)."""

from __future__ import annotations

import logging
import re
import time
import xml.sax
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.datetimes.rfc822 import timezone_names
from w3lib.html import remove_tags, replace_entities

from crawler.extract import Link
from crawler.listing import believable, cut_title, from_struct_time, from_text, maybe_gunzip, refuse_xml_entities
from crawler.urls import canonical_url
from newsmon.errors import ExtractionError

logger = logging.getLogger(__name__)

# feedparser flags these but reads the feed anyway: a wrong or missing Content-Type (servers often send
# text/html or nothing), an encoding other than the declared one, an undeclared namespace prefix.
_HARMLESS = (feedparser.ThingsNobodyCaresAboutButMe, feedparser.UndeclaredNamespace)

# A control character left in a title after decoding (a stray byte, an XML-invalid character read leniently).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# feedparser takes the last word of an RFC 822 date for its zone and any word it does not know ("PM", "CET",
# "MSK") for UTC: such a date, or one on a 12-hour clock, is read again by dateparser.
_TWELVE_HOUR = re.compile(r"\d\s*[ap]\.?m\.?$", re.IGNORECASE)
# A URL scheme as RFC 3986 spells it; anything else is named "other" in a reason.
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]{0,19}")


@dataclass(frozen=True, slots=True)
class FeedContent:
    """What a feed lists: its items' links, and how many item links were not web URLs (never followed)."""

    links: list[Link]
    not_web: Counter[str] = field(default_factory=Counter)  # scheme (javascript, data, file ...) -> item links

    def not_web_reason(self) -> str | None:
        """One line for the crawl's problems when some item links were javascript:, data: or the like."""
        if not self.not_web:
            return None
        count = sum(self.not_web.values())
        schemes = ", ".join(sorted(self.not_web))
        return f"{count} item link{'s are' if count > 1 else ' is'} not http or https URLs ({schemes}); not followed"


def links_from_feed(body: bytes, url: str, source: str, content_type: str | None, max_bytes: int) -> list[Link]:
    """Every item of a feed as a Link, in feed order, each URL once (see ``read_feed``)."""
    return read_feed(body, url, source, content_type, max_bytes).links


def read_feed(body: bytes, url: str, source: str, content_type: str | None, max_bytes: int) -> FeedContent:
    """Every item of a feed as a Link, in feed order, each URL once; item links that are not http or https
    (javascript:, data:) are counted, never followed. Titles are cut to MAX_TITLE characters.

    Raises:
        ExtractionError: the body is empty, declares XML entities it may not (see ``refuse_xml_entities``) or
            is not a feed (an HTML page, broken XML with no item links).
    """
    body = maybe_gunzip(body, max_bytes)
    if not body.strip():
        raise ExtractionError("empty response where a feed was expected")
    refuse_xml_entities(body, "feed")
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)
    links: dict[str, Link] = {}
    not_web: Counter[str] = Counter()
    for entry in parsed.entries:
        href = _entry_url(entry)
        if not href:
            continue
        absolute = urljoin(url, href)
        if not absolute.startswith(("http://", "https://")):
            scheme = urlsplit(absolute).scheme
            not_web[scheme if _SCHEME.fullmatch(scheme) else "other"] += 1
            continue
        link_url = canonical_url(absolute)
        if link_url in links:
            continue
        links[link_url] = Link(url=link_url, source=source, title=_plain_title(entry), published_at=_published(entry))
    if not links:
        # A broken document that yields nothing (truncated before its first item link) is a failure to
        # report; a well-formed feed with no item links today is not.
        if parsed.get("version") and _is_harmless(parsed.get("bozo_exception")):
            return FeedContent([], not_web)
        raise ExtractionError(_not_a_feed_reason(parsed, body))
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        logger.debug("feed %s is not well-formed (%s); read %d items leniently", url, problem, len(links))
    return FeedContent(list(links.values()), not_web)


def _entry_url(entry: feedparser.FeedParserDict) -> str | None:
    link = entry.get("link")
    if link:
        return str(link).strip()
    for alternate in entry.get("links") or []:
        if alternate.get("rel", "alternate") == "alternate" and alternate.get("href"):
            return str(alternate["href"]).strip()
    guid = str(entry.get("id") or "")
    return guid if guid.startswith(("http://", "https://")) else None


def _own(entry: feedparser.FeedParserDict, key: str) -> Any:
    """The entry's own value: FeedParserDict.get("updated...") falls back to "published..." with a
    DeprecationWarning (feedparser issue 310), which is an error under warnings-as-errors."""
    return dict.get(entry, key)


def _is_harmless(problem: BaseException | None) -> bool:
    return problem is None or isinstance(problem, _HARMLESS)


def _plain_title(entry: feedparser.FeedParserDict) -> str | None:
    """The title as text: feedparser keeps markup and entities in titles it takes for HTML (Google Alerts' <b>);
    one longer than a headline (MAX_TITLE characters) is cut."""
    title = str(entry.get("title") or "")
    kind = (entry.get("title_detail") or {}).get("type") or ""
    if "html" in kind:
        title = replace_entities(remove_tags(title))
    return cut_title(" ".join(_CONTROL.sub("", title).split())) or None


def _published(entry: feedparser.FeedParserDict) -> datetime | None:
    """The item's publication time, else its update time, when believable (1995 to a day ahead of now)."""
    for key in ("published", "updated"):
        when = believable(_read_date(_own(entry, key), _own(entry, f"{key}_parsed")))
        if when:
            return when
    return None


def _read_date(text: str | None, parsed: time.struct_time | None) -> datetime | None:
    """feedparser's reading of a date (RFC 822, ISO 8601 and their variants), or dateparser's where feedparser
    read none (Portuguese or Italian names) or took a word it does not know for UTC (a 12-hour clock)."""
    text = (text or "").strip()
    if not text or text.isdigit():
        return None  # a bare number (a Unix time?), which feedparser misreads as an ISO 8601 date
    when = from_struct_time(parsed)
    last = text.split()[-1].lower()
    if when is None or (last.isalpha() and last not in timezone_names) or _TWELVE_HOUR.search(text):
        when = from_text(text) or when
    return when


def _not_a_feed_reason(parsed: feedparser.FeedParserDict, body: bytes) -> str:
    head = body.lstrip()[:512].lower()
    if b"<html" in head or b"<!doctype html" in head or b"<head" in head:
        return "not a feed: the response is an HTML page"
    problem = parsed.get("bozo_exception")
    if isinstance(problem, xml.sax.SAXParseException):
        where = f"line {problem.getLineNumber()}, column {problem.getColumnNumber()}"
        return f"not a feed: broken XML with no item links ({problem.getMessage()} at {where})"
    if not _is_harmless(problem):
        detail = str(problem).splitlines()[0] if str(problem) else type(problem).__name__
        return f"not a feed: {detail}"
    return "not a feed: no RSS or Atom items found"
