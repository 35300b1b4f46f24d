"""Extraction: a pure function from a fetched page (decoded HTML and URL) to a frozen Article. No I/O."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import trafilatura

from crawler.listing import believable, cut_title
from db.neardup import Fingerprint, fingerprint
from newsmon.errors import ExtractionError

# Fewer words than this is a teaser, an error page or a listing, not an article worth storing.
MIN_ARTICLE_WORDS = 30

_WHITESPACE = re.compile(r"\s+")
# The page's declared language: <html lang>, else <meta http-equiv="content-language"> or og:locale.
_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*", re.IGNORECASE)
_META_LANG = re.compile(
    r"<meta\b[^>]*?(?:http-equiv\s*=\s*[\"']?content-language|property\s*=\s*[\"']?og:locale)[^>]*?"
    r"content\s*=\s*[\"']?([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Link:
    """An article link found in a feed, sitemap or section page, with what the listing said about it."""

    url: str  # canonical
    source: str
    title: str | None = None
    published_at: datetime | None = None
    # When the listing says the item last changed (a feed's <updated>, a sitemap's <lastmod>): a stored story
    # read before that is fetched again, and a changed text becomes its next version.
    updated_at: datetime | None = None
    refresh: bool = False  # set by the spider: the URL is stored and this fetch looks for a new version


@dataclass(frozen=True, slots=True)
class Article:
    """A cleaned article, ready to be deduplicated and stored."""

    url: str  # canonical URL of the page as fetched, after redirects
    urls: tuple[str, ...]  # every canonical URL it is known under (the listing's link, the final URL)
    source: str
    title: str
    text: str
    author: str | None
    site_name: str | None
    language: str | None
    published_at: datetime | None
    content_hash: str
    fingerprint: Fingerprint | None = None  # for near-duplicate clustering, computed with the extraction
    refresh: bool = False  # a stored URL fetched again because its listing says it changed


def content_hash(text: str) -> str:
    """sha256 of the text with case and white space folded: the same article under two URLs hashes alike."""
    normalised = _WHITESPACE.sub(" ", text).strip().casefold()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def extract_article(html: str, url: str, urls: tuple[str, ...], link: Link, language_hint: str | None = None) -> Article:
    """Clean one article page with trafilatura.

    Args:
        html: the page, decoded.
        url: canonical URL of the page as fetched.
        urls: every canonical URL the page is known under (``url`` included).
        link: what the feed, sitemap or section page said about it (title and date fall back to it).
        language_hint: the source's language, used when the page declares none.

    Raises:
        ExtractionError: the page holds no article (too little text, or not HTML at all).
    """
    try:
        document = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,  # reader comments are not the article (and carry false alert terms)
            include_tables=True,
        )
    except Exception as exc:  # trafilatura raises a wide range of parser errors on hostile pages
        raise ExtractionError(f"trafilatura failed: {type(exc).__name__}: {exc}".splitlines()[0]) from exc
    text = (getattr(document, "text", None) or "").strip()
    words = len(_WORD.findall(text))
    if words < MIN_ARTICLE_WORDS:
        raise ExtractionError(f"no article found ({words} words of text, need {MIN_ARTICLE_WORDS})")
    title = cut_title(_clean(getattr(document, "title", None)) or _clean(link.title) or _first_line(text))
    return Article(
        url=url,
        urls=urls,
        source=link.source,
        title=title,
        text=text,
        author=_clean(getattr(document, "author", None)),
        site_name=_clean(getattr(document, "sitename", None)),
        language=_language(getattr(document, "language", None)) or declared_language(html) or language_hint,
        published_at=_published(getattr(document, "date", None), link.published_at),
        content_hash=content_hash(text),
        fingerprint=fingerprint(text),
        refresh=link.refresh,
    )


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = _WHITESPACE.sub(" ", value).strip()
    return value or None


def _first_line(text: str) -> str:
    line = text.splitlines()[0].strip()
    return line if len(line) <= 200 else line[:197].rstrip() + "..."


def _language(value: str | None) -> str | None:
    """'en-US' -> 'en'; anything that is not a language tag -> None."""
    if not value:
        return None
    primary = re.split(r"[-_]", value.strip().lower())[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def declared_language(html: str) -> str | None:
    """The language the page declares in its head (the first 20,000 characters are enough)."""
    head = html[:20_000]
    match = _HTML_LANG.search(head) or _META_LANG.search(head)
    return _language(match.group(1)) if match else None


def _published(page_date: str | None, listed: datetime | None) -> datetime | None:
    """The page's date (htmldate reads it from the page's metadata, else its URL, else its text); the feed or
    sitemap time when it falls on that day (pages often give the day only). A page date before 1995 or ahead
    of tomorrow is not believed, like a listed one."""
    day: date | None = None
    if page_date:
        try:
            day = date.fromisoformat(page_date[:10])
        except ValueError:
            day = None
    if day is None or believable(datetime.combine(day, time(), tzinfo=UTC)) is None:
        return listed
    if listed is not None and listed.astimezone(UTC).date() == day:
        return listed
    return datetime.combine(day, time(), tzinfo=UTC)
