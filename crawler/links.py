"""What a listing (feed, sitemap, section page) says about one article link: in a module of its own, so that
the crawl's own process, which reads listings and stores articles but extracts none, does not import the
extraction (trafilatura and its dependencies, half a second of every crawl's start)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
