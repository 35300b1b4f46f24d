"""What the crawl hands to the archive, defined once at the bottom: the stored-article record, and the figures
of one source's crawl (a crawl run). The crawler builds them, db/ stores them, the scheduler and the CLI read
them back."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime

from db.neardup import Fingerprint
from newsmon.errors import one_line

_WHITESPACE = re.compile(r"\s+")


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
    # article | teaser | paywalled | not_article: only an article is clustered and alerted on.
    status: str = "article"
    modified_at: datetime | None = None  # when the page says it was last updated (later than published_at)
    listed_at: datetime | None = None  # the date its listing (feed item, sitemap entry) gave it
    fingerprint: Fingerprint | None = None  # for near-duplicate clustering, computed with the extraction
    refresh: bool = False  # a stored URL fetched again because its listing says it changed
    # Posts the story embeds (tweets, Instagram, Telegram...), one line each: shown with it, never matched.
    embedded: tuple[str, ...] = ()


def content_hash(text: str) -> str:
    """sha256 of the text with case and white space folded: the same article under two URLs hashes alike."""
    normalised = _WHITESPACE.sub(" ", text).strip().casefold()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


@dataclass(slots=True)
class SourceTally:
    """One source's crawl as it goes: what the CLI prints, what is recorded as its crawl run."""

    name: str
    started_at: datetime
    finished_at: datetime | None = None
    links: int = 0
    new: int = 0
    duplicate: int = 0
    known: int = 0
    failed: int = 0
    error: str | None = None  # the source itself could not be read
    problems: list[tuple[str, str]] = field(default_factory=list)  # (url, reason) of pages that failed
    pending: int = 0  # requests of this source still in flight
    not_modified: bool = False  # the listing answered 304: nothing new, nothing parsed
    validators: tuple[str | None, str | None] = (None, None)  # the listing's ETag and Last-Modified
    max_age: float | None = None  # seconds the listing said it stays fresh (Cache-Control)
    retry_after: float | None = None  # seconds the listing's server asked us to wait (Retry-After)

    @property
    def status(self) -> str:
        if self.error:
            return "failed"
        if self.failed:
            return "partial"
        return "unchanged" if self.not_modified else "ok"

    def fail_page(self, url: str, reason: object) -> None:
        self.failed += 1
        self.problems.append((url, one_line(reason)))


@dataclass(frozen=True, slots=True)
class CrawlFigures:
    """What came of one source's crawl, as a crawl process reports it and the scheduler plans the next poll
    from (a finished crawl run reads back the same way)."""

    source: str
    status: str  # ok | unchanged | partial | failed
    links: int = 0
    new: int = 0
    duplicate: int = 0
    known: int = 0
    failed: int = 0
    error: str | None = None
    seconds: float | None = None
    max_age: float | None = None
    retry_after: float | None = None

    @classmethod
    def from_tally(cls, tally: SourceTally) -> CrawlFigures:
        took = (tally.finished_at - tally.started_at).total_seconds() if tally.finished_at else None
        return cls(tally.name, tally.status, tally.links, tally.new, tally.duplicate, tally.known, tally.failed,
                   tally.error, None if took is None else round(took, 3), tally.max_age, tally.retry_after)


# The record a crawl process writes on stdout for the scheduler. A new field may be added without a new version
# (readers ignore what they do not know); renaming or retyping one needs the next version.
BATCH_VERSION = 1


def encode_batch(figures: list[CrawlFigures]) -> str:
    return json.dumps({"version": BATCH_VERSION, "sources": [asdict(item) for item in figures]}) + "\n"


def decode_batch(text: str) -> dict[str, CrawlFigures]:
    """Source name -> its figures, from a crawl process's record.

    Raises:
        ValueError: not such a record, or of another version (the message says which).
    """
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("version") != BATCH_VERSION:
        found = data.get("version") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"crawl record of version {found!r}, this scheduler reads version {BATCH_VERSION}")
    known = {f.name for f in fields(CrawlFigures)}
    figures = [CrawlFigures(**{k: v for k, v in item.items() if k in known}) for item in data["sources"]]
    return {item.source: item for item in figures}
