"""When an article was published, and apart from that when it was last updated.

Signals, most trusted first: JSON-LD ``datePublished``, the page's meta tags (``article:published_time`` and
its kin) and the first ``<time datetime>``. Without them, the page's own date (a date in its URL, else
htmldate's fast reading of its datelines, which the caller runs only then) and the feed's or sitemap's date:
the page's own wins when the two are more than a day apart (a listing re-dates old stories), the listing's
when they agree (it has the time; pages often give the day only). A date before 1995 or more than a day
ahead is not believed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time

from crawler.listing import believable, from_iso, from_text
from crawler.pagemeta import PageSignals

# /2024/05/01/, /2024-05-01/, /20240501/ in a URL's path.
_URL_DATE = re.compile(r"/((?:199[5-9]|20\d\d))[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?:[/-]|\b)")
_DAY_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def published_and_modified(
    signals: PageSignals, url: str, listed: datetime | None, now: datetime | None = None,
    shown_date: Callable[[], datetime | None] | None = None,
) -> tuple[datetime | None, datetime | None]:
    """(published, modified) of the page; modified only when later than published. ``shown_date`` reads the
    date the page shows in its text (htmldate), asked only when neither its metadata nor its URL gives one."""
    published = _first([signals.ld_published, *signals.meta_published, *signals.times[:1]], now)
    if published is None:
        own = _url_date(url, now) or (believable(shown_date(), now) if shown_date else None)
        published = _own_or_listed(own, believable(listed, now))
    elif listed is not None and listed.astimezone(UTC).date() == published.date() and _is_midnight(published):
        published = listed  # the page gave the day only; the listing has the time
    modified = _first([signals.ld_modified, *signals.meta_modified], now)
    if modified is not None and published is not None and modified <= published:
        modified = None
    return published, modified


def _own_or_listed(own: datetime | None, listed: datetime | None) -> datetime | None:
    """The page's own date when the listing's is more than a day away from it (a feed that re-dates an old
    story, a sitemap's lastmod), else the listing's, which has the time."""
    if own is None or listed is None:
        return listed or own
    apart = abs((own.astimezone(UTC).date() - listed.astimezone(UTC).date()).days)
    return own if apart > 1 else listed


def from_day(value: str | None, now: datetime | None = None) -> datetime | None:
    """htmldate's "YYYY-MM-DD" -> midnight UTC of that day, if believable."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return believable(datetime.combine(day, time(), tzinfo=UTC), now)


def _first(values: list[str | None], now: datetime | None) -> datetime | None:
    """The first of ``values`` that reads as a believable time."""
    for value in values:
        moment = _parse(value) if value else None
        if believable(moment, now) is not None:
            return moment
    return None


def _parse(value: str) -> datetime | None:
    text = value.strip()
    if _DAY_ONLY.match(text):
        return from_day(text)
    # ISO 8601 first (most pages); "2017-11-03 03:01:00.000000", "+0100" offsets and prose dates after.
    normalised = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text.replace(" ", "T", 1)) if text[:4].isdigit() else text
    return from_iso(normalised) or (from_text(text) if len(text) <= 60 else None)


def _url_date(url: str, now: datetime | None) -> datetime | None:
    match = _URL_DATE.search(url)
    if not match:
        return None
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
    return believable(datetime.combine(day, time(), tzinfo=UTC), now)


def _is_midnight(moment: datetime) -> bool:
    return moment.astimezone(UTC).time() == time()
