"""RSS 2.0, RSS 1.0 and Atom feeds, parsed by feedparser from the bytes Scrapy fetched (never from a URL)."""

from __future__ import annotations

import codecs
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

from crawler.links import Link
from crawler.listing import (
    believable,
    cut_title,
    from_struct_time,
    from_text,
    later,
    maybe_gunzip,
    refuse_xml_entities,
)
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
# Byte-order marks, UTF-32's before UTF-16's (whose mark begins UTF-32's little-endian one).
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_XML_ENCODING = re.compile(rb"\s*<\?xml[^>]{0,200}?\bencoding\s*=\s*[\"']([A-Za-z][\w.:-]{0,40})[\"']")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z][\w.:-]{0,40})", re.IGNORECASE)
# Labels that mean another encoding in practice (the WHATWG Encoding Standard): feeds "in ISO-8859-1" hold
# Windows-1252's curly quotes and dashes, "GB2312" ones the rest of GB18030.
_WHATWG_LABELS = {
    "iso-8859-1": "windows-1252", "iso8859-1": "windows-1252", "latin1": "windows-1252", "latin-1": "windows-1252",
    "gb2312": "gb18030", "gbk": "gb18030",
}
# An item "link" with no path, dot, query or scheme: an identifier, not a relative URL.
_BARE_WORD = re.compile(r"[\w-]+")
# A URL scheme as RFC 3986 spells it; anything else is named "other" in a reason.
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]{0,19}")


@dataclass(frozen=True, slots=True)
class FeedContent:
    """What a feed lists: its items' links, and how many item links were not web URLs (never followed)."""

    links: list[Link]
    not_web: Counter[str] = field(default_factory=Counter)  # scheme (javascript, data ...) or "a bare word" -> links

    def not_web_reason(self) -> str | None:
        """One line for the crawl's problems when some item links were javascript:, data: or the like."""
        if not self.not_web:
            return None
        count = sum(self.not_web.values())
        schemes = ", ".join(sorted(self.not_web))
        are = "item links are not http or https URLs" if count > 1 else "item link is not an http or https URL"
        return f"{count} {are} ({schemes}); not followed"


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
    body, content_type = _as_declared(body, content_type)
    # No content-location: feedparser resolves links against an xml:base only, and an item link that is left
    # relative is joined to the feed's URL below, unless it is a bare word.
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)
    links: dict[str, Link] = {}
    not_web: Counter[str] = Counter()
    for entry in parsed.entries:
        href = _entry_url(entry)
        if not href:
            continue
        if _BARE_WORD.fullmatch(href):
            not_web["a bare word"] += 1  # resolved against the feed's URL it names no page of the site
            continue
        absolute = urljoin(url, href)
        if not absolute.startswith(("http://", "https://")):
            scheme = urlsplit(absolute).scheme
            not_web[scheme if _SCHEME.fullmatch(scheme) else "other"] += 1
            continue
        link_url = canonical_url(absolute)
        if link_url in links:
            continue
        published = _published(entry)
        updated = later(believable(_read_date(_own(entry, "updated"), _own(entry, "updated_parsed"))), published)
        links[link_url] = Link(url=link_url, source=source, title=_plain_title(entry), published_at=published,
                               updated_at=updated)
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


def _as_declared(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """The feed decoded by its byte-order mark; else as UTF-8 when it is valid UTF-8 beyond ASCII; else as its
    XML declaration says; else as the server says. Returned re-encoded as UTF-8 (unchanged when none fits,
    for feedparser's own guesses).

    feedparser follows RFC 3023, where the server's charset wins. Servers send a default charset for every
    file ("text/xml; charset=ISO-8859-1" on a UTF-8 feed), which decodes without error into mojibake; the
    feed's own declaration was written by the software that wrote the bytes, and text in another encoding
    is almost never valid UTF-8 by chance.
    """
    marked = next((encoding for mark, encoding in _BYTE_ORDER_MARKS if body.startswith(mark)), None)
    server = _CHARSET.search(content_type or "")
    candidates = [marked] if marked else [
        None if body.isascii() else "utf-8",  # pure ASCII may be a 7-bit encoding (ISO-2022-JP): as declared
        _declared_encoding(body),
        _practical(server.group(1)) if server else None,
    ]
    for encoding in candidates:
        if not encoding:
            continue
        try:
            text = body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        return text.encode("utf-8"), "application/xml; charset=utf-8"
    return body, content_type


def _declared_encoding(body: bytes) -> str | None:
    """The encoding named by the XML declaration, when it is one that can name itself in ASCII (a UTF-8 feed
    "declaring" UTF-16 would otherwise decode into nonsense)."""
    declaration = _XML_ENCODING.match(body)
    if declaration is None:
        return None
    encoding = _practical(declaration.group(1).decode("ascii"))
    try:
        return encoding if "<?xml".encode(encoding) == b"<?xml" else None
    except LookupError:
        return None


def _practical(label: str) -> str:
    return _WHATWG_LABELS.get(label.lower(), label.lower())


def _entry_url(entry: feedparser.FeedParserDict) -> str | None:
    """The item's link, else its alternate link, else its guid when that is a URL; a bare word (Ukrainska
    Pravda's video items link "b2VjML1MLnE") only when the item has nothing better."""
    candidates = [str(entry.get("link") or "").strip()]
    candidates += [
        str(alternate["href"]).strip()
        for alternate in entry.get("links") or []
        if alternate.get("rel", "alternate") == "alternate" and alternate.get("href")
    ]
    guid = str(entry.get("id") or "").strip()
    candidates.append(guid if guid.startswith(("http://", "https://")) else "")
    present = [candidate for candidate in candidates if candidate]
    return next((candidate for candidate in present if not _BARE_WORD.fullmatch(candidate)), None) or (
        present[0] if present else None
    )


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
