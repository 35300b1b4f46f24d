"""Section pages: the article links on an outlet's listing page, told apart from navigation."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from courlan import is_navigation_page, is_not_crawlable
from scrapy.http import HtmlResponse, TextResponse
from scrapy.linkextractors import LinkExtractor

from crawler.links import Link
from crawler.listing import cut_title
from crawler.urls import canonical_url
from newsmon.errors import ExtractionError
from newsmon.words import is_unspaced, words

_SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+){2,}")  # three or more words joined by - or _
_ARTICLE_ID = re.compile(r"\d{5,}|/\d{4}/\d{1,2}/")  # numeric ids or /2025/11/ date paths
_NOT_ARTICLE = re.compile(
    r"/(tags?|topics?|category|categories|authors?|about|contact|subscribe|newsletters?|login|search|live-?tv|"
    r"podcasts?|video|videos|gallery|galleries|weather|privacy|terms|cookies?|help|account)(/|$)",
    re.IGNORECASE,
)


def _site(host: str) -> str:
    """The last two labels of a host (bbc.co.uk counts as co.uk's child, which is near enough for same-site)."""
    labels = host.lower().removeprefix("www.").split(".")
    return ".".join(labels[-3:]) if len(labels) > 2 and len(labels[-2]) <= 3 else ".".join(labels[-2:])


def looks_like_article(url: str, anchor_text: str) -> bool:
    """A link whose URL or anchor says "article": a long slug, a numeric id or a date path, and a real headline
    (or no anchor text at all, an image link); or, on any path two levels deep, a long headline."""
    parts = urlsplit(url)
    path = parts.path.lower()
    if _NOT_ARTICLE.search(path) or is_navigation_page(url) or is_not_crawlable(url):
        return False
    last = path.rstrip("/").rsplit("/", 1)[-1]
    shaped = bool(_SLUG.search(last) or _ARTICLE_ID.search(path))
    if shaped:
        return not anchor_text.strip() or reads_as_headline(anchor_text)
    return reads_as_headline(anchor_text, long=True) and path.count("/") >= 2


# What a headline says, by its letters rather than its spaces: Chinese and Japanese headlines have none, and
# "Ceasefire holds" is a headline in two words where "Latest news" or "Read more" are navigation.
_HEADLINE_LETTERS = 14  # letters of a spaced script, in two words or more
_HEADLINE_UNSPACED = 6  # letters of a script written without spaces (each says about a syllable or a word)
_LONG_HEADLINE_WORDS = 6


def reads_as_headline(text: str, long: bool = False) -> bool:
    """Whether a link's text reads as an article's headline rather than a navigation label (``long``: so long
    that no navigation label is)."""
    unspaced = sum(1 for char in text if is_unspaced(char))
    if unspaced:
        return unspaced >= (2 * _HEADLINE_UNSPACED if long else _HEADLINE_UNSPACED)
    spaced = words(text)
    if long:
        return len(spaced) >= _LONG_HEADLINE_WORDS
    return len(spaced) >= 3 or (len(spaced) == 2 and sum(len(word) for word in spaced) >= _HEADLINE_LETTERS)


def links_from_page(response: TextResponse, source: str, follow: str | None = None) -> list[Link]:
    """Article links of a section page on the same site, in page order, each once.

    With ``follow`` (the source's regular expression), exactly the same-site links whose URL it finds are
    taken, instead of guessing from the URL's shape and the anchor text.

    Raises:
        ExtractionError: the response is not an HTML page.
    """
    if not isinstance(response, HtmlResponse):
        raise ExtractionError("not a section page: the response is not HTML")
    site = _site(urlsplit(response.url).hostname or "")
    pattern = re.compile(follow) if follow else None
    links: dict[str, Link] = {}
    for found in LinkExtractor(unique=False).extract_links(response):
        host = urlsplit(found.url).hostname or ""
        if _site(host) != site or found.nofollow:
            continue
        text = " ".join(found.text.split())
        if not (pattern.search(found.url) if pattern else looks_like_article(found.url, text)):
            continue
        url = canonical_url(found.url)
        if url == canonical_url(response.url):
            continue
        if url not in links or (text and not links[url].title):
            links[url] = Link(url=url, source=source, title=cut_title(text) or None)
    return list(links.values())
